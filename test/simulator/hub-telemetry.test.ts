// Device-to-cloud on the simulated hub over real TLS: the documented subscriptions and nothing else,
// telemetry recorded with exactly decoded property bags, the hub's hang-ups (QoS 2, unknown topics,
// over 256 KB), wills, and the faults that prove a client re-sends unacknowledged messages.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startSimulator, type Simulator } from "../../simulator";
import type { RawMqttClient } from "../helpers/raw-mqtt-client";
import { addTestDevice, C2D, METHODS, openHub, publishPacket, recordsOf, subscribe, telemetryTopic, TWIN_DESIRED, TWIN_RESPONSES } from "../helpers/raw-hub-flow";

let sim: Simulator;

test.before(async () => {
  sim = await startSimulator();
});

test.before.each(() => {
  sim.hub().clearFaults();
});

test.after(async () => {
  await sim.close();
});

async function connected(prefix: string, clean = true) {
  const device = addTestDevice(sim, prefix);
  const { client, connack } = await openHub(sim, { ...device, clean });
  assert.is(connack.returnCode, 0);
  return { device, client };
}

function lastRecordOf(deviceId: string) {
  return recordsOf(sim, deviceId).pop()!;
}

test("only the documented filters are granted, at most QoS 1; anything else gets 0x80 in the same SUBACK", async () => {
  const { device, client } = await connected("filters");
  const id = device.deviceId;
  assert.equal(await subscribe(client, [C2D(id), TWIN_RESPONSES, TWIN_DESIRED, METHODS], 2), [1, 1, 1, 1]);
  assert.equal(await subscribe(client, [TWIN_RESPONSES], 0, 2), [0]);
  const refused = [
    "#",
    `devices/${id}/#`,
    `devices/${id}/messages/devicebound/+`,
    `devices/${id}/messages/devicebound`,
    `devices/other-device/messages/devicebound/#`,
    "$iothub/twin/#",
    "$iothub/methods/#",
    `devices/${id}/messages/events/`,
    `$dps/registrations/res/#`,
  ];
  assert.equal(await subscribe(client, [...refused, METHODS], 1, 3), [...refused.map(() => 0x80), 1]);
  await client.end();

  const module = sim.hub().addDevice({ deviceId: id, moduleId: "m1" });
  const moduleClient = (await openHub(sim, { deviceId: id, moduleId: "m1", key: module.primaryKey })).client;
  assert.equal(await subscribe(moduleClient, [C2D(id), `devices/${id}/modules/m1/#`, TWIN_RESPONSES, METHODS]), [0x80, 1, 1, 1], "modules have no C2D queue");
  await moduleClient.end();
});

test("telemetry at QoS 1 is acknowledged and recorded with its property bag decoded exactly; QoS 0 gets no PUBACK", async () => {
  const { device, client } = await connected("telemetry");
  const properties: Array<[string, string | null]> = [
    ["$.mid", "msg 1/α"],
    ["$.cid", "corr&id=1"],
    ["$.ct", "application/json; charset=utf-8"],
    ["$.ce", "utf-8"],
    ["$.ctime", "2024-01-02T03:04:05.678Z"],
    ["$.sub", "thermostat1"],
    ["spaced key", "a value with spaces"],
    ["amp&key", "x&y"],
    ["eq=key", "a=b=c"],
    ["path", "/a/b/"],
    ["ünïcødé", "温度 🌡"],
    ["bare", null],
    ["empty", ""],
  ];
  const topic = telemetryTopic(device.deviceId, properties);
  client.send(publishPacket(topic, '{"t":21.5}', { messageId: 7 }));
  assert.equal((await client.expect("puback")).messageId, 7);
  const message = await sim.hub().nextTelemetry(device.deviceId);
  assert.is(message.topic, topic);
  assert.equal(message.systemProperties, {
    "$.mid": "msg 1/α",
    "$.cid": "corr&id=1",
    "$.ct": "application/json; charset=utf-8",
    "$.ce": "utf-8",
    "$.ctime": "2024-01-02T03:04:05.678Z",
    "$.sub": "thermostat1",
  });
  assert.equal(message.properties, {
    "spaced key": "a value with spaces",
    "amp&key": "x&y",
    "eq=key": "a=b=c",
    path: "/a/b/",
    "ünïcødé": "温度 🌡",
    bare: null,
    empty: "",
  });
  assert.is(message.payload.toString(), '{"t":21.5}');
  assert.equal([message.qos, message.dup, message.retain, message.packetId, message.acknowledged, message.will], [1, false, false, 7, true, false]);
  assert.is(message.connectionId, lastRecordOf(device.deviceId).id);

  client.send(publishPacket(telemetryTopic(device.deviceId), "plain", { qos: 0 }));
  const plain = await sim.hub().nextTelemetry(device.deviceId);
  assert.equal([plain.qos, plain.packetId, plain.acknowledged, plain.properties, plain.systemProperties], [0, undefined, false, {}, {}]);
  assert.ok(await client.staysQuiet(50), "no PUBACK for QoS 0");
  await client.end();
});

test("RETAIN is not stored but becomes the mqtt-retain property; a raw '+' is kept and flagged", async () => {
  const { device, client } = await connected("retain");
  client.send(publishPacket(`devices/${device.deviceId}/messages/events/a+b=c+d`, "x", { retain: true }));
  await client.expect("puback");
  const message = await sim.hub().nextTelemetry(device.deviceId);
  assert.equal(message.properties, { "a+b": "c+d", "mqtt-retain": "true" });
  assert.is(message.retain, true);
  assert.equal(lastRecordOf(device.deviceId).events.map((event) => event.kind), ["warning"]);
  await client.end();
});

test("a module's telemetry topic", async () => {
  const device = addTestDevice(sim, "module-host");
  const module = sim.hub().addDevice({ deviceId: device.deviceId, moduleId: "edge" });
  const { client } = await openHub(sim, { deviceId: device.deviceId, moduleId: "edge", key: module.primaryKey });
  client.send(publishPacket(telemetryTopic(device.deviceId, [["k", "v"]], "edge"), "from module"));
  await client.expect("puback");
  const message = await sim.hub().nextTelemetry(module.clientId);
  assert.equal([message.deviceId, message.moduleId, message.properties], [device.deviceId, "edge", { k: "v" }]);
  await client.end();
});

test("the hub hangs up on QoS 2, undocumented topics, bad escapes, over-256-KB telemetry, QoS 2 handshakes, a '#' and packet id 0", async () => {
  const cases: Array<[string, string, (deviceId: string) => Parameters<RawMqttClient["send"]>[0]]> = [
    ["QoS 2 telemetry", "qos-2-publish", (id) => publishPacket(telemetryTopic(id), "x", { qos: 2 })],
    ["another device's topic", "unsupported-topic", () => publishPacket(telemetryTopic("someone-else"), "x")],
    ["events without the trailing slash", "unsupported-topic", (id) => publishPacket(`devices/${id}/messages/events`, "x")],
    ["a made-up topic", "unsupported-topic", () => publishPacket("sensors/temperature", "x")],
    ["a twin GET without $rid", "unsupported-topic", () => publishPacket("$iothub/twin/GET/", "")],
    ["a method response with a non-integer status", "unsupported-topic", () => publishPacket("$iothub/methods/res/ok/?$rid=1", "")],
    ["a bad percent escape", "property-bag-bad-percent-escape", (id) => publishPacket(`devices/${id}/messages/events/k=%E0%A4`, "x")],
    ["a property with no name", "property-bag-empty-property-name", (id) => publishPacket(`devices/${id}/messages/events/=v`, "x")],
    ["256 KB and one byte", "telemetry-too-large", (id) => publishPacket(telemetryTopic(id), Buffer.alloc(256 * 1024 + 1))],
    ["a PUBREL", "unexpected-packet-pubrel", () => ({ cmd: "pubrel", messageId: 1 })],
    ["a '#' in the topic (MQTT-3.3.2-2)", "wildcard-in-publish-topic", (id) => publishPacket(`devices/${id}/messages/events/#`, "x")],
    ["QoS 1 with packet id 0 (MQTT-2.3.1-1)", "packet-id-0", (id) => ({ ...publishPacket(telemetryTopic(id), "x"), messageId: 0 })],
  ];
  for (const [what, reason, packet] of cases) {
    const { device, client } = await connected("hang-up");
    client.send(packet(device.deviceId));
    assert.ok(await client.closesWithin(1000), what);
    assert.is(lastRecordOf(device.deviceId).closeReason, reason, what);
    assert.is(sim.hub().telemetryOf(device.deviceId).length, 0, what + ": nothing recorded");
  }
  const { device, client } = await connected("at-limit");
  client.send(publishPacket(telemetryTopic(device.deviceId), Buffer.alloc(256 * 1024)));
  await client.expect("puback");
  assert.is((await sim.hub().nextTelemetry(device.deviceId)).payload.length, 256 * 1024, "exactly 256 KB is accepted");
  await client.end();
});

test("nextTelemetry hands out each message once, in order, and rejects after its timeout", async () => {
  const { device, client } = await connected("waiting");
  const waiting = sim.hub().nextTelemetry(device.deviceId);
  for (const n of [1, 2, 3]) client.send(publishPacket(telemetryTopic(device.deviceId), String(n), { messageId: n }));
  assert.is((await waiting).payload.toString(), "1");
  assert.is((await sim.hub().nextTelemetry(device.deviceId)).payload.toString(), "2");
  assert.is((await sim.hub().nextTelemetry(device.deviceId)).payload.toString(), "3");
  const started = Date.now();
  await sim.hub().nextTelemetry(device.deviceId, 50).then(
    () => assert.unreachable("no fourth message"),
    (error: Error) => assert.match(error.message, /no telemetry/),
  );
  assert.ok(Date.now() - started < 500);
  await client.end();
});

test("a lost PUBACK (no-ack): the client re-sends with DUP and the same packet id after reconnecting; both copies are recorded", async () => {
  const { device, client } = await connected("no-ack", false);
  sim.hub().injectFault({ step: "telemetry", deviceId: device.deviceId, action: { kind: "no-ack" } });
  const topic = telemetryTopic(device.deviceId, [["$.mid", "m-1"]]);
  client.send(publishPacket(topic, "reading", { messageId: 42 }));
  assert.ok(await client.staysQuiet(50), "no PUBACK");
  assert.is((await sim.hub().nextTelemetry(device.deviceId)).acknowledged, false);
  await client.end();

  const again = await openHub(sim, { ...device, clean: false });
  again.client.send(publishPacket(topic, "reading", { messageId: 42, dup: true }));
  assert.is((await again.client.expect("puback")).messageId, 42);
  const resent = await sim.hub().nextTelemetry(device.deviceId);
  assert.equal([resent.dup, resent.packetId, resent.acknowledged, resent.systemProperties["$.mid"]], [true, 42, true, "m-1"]);
  assert.equal(sim.hub().telemetryOf(device.deviceId).map((m) => m.dup), [false, true], "at least once: a duplicate, nothing lost");
  await again.client.end();
});

test("a message lost with the connection (drop) is not recorded until the client re-sends it", async () => {
  const { device, client } = await connected("dropped", false);
  sim.hub().injectFault({ step: "telemetry", action: { kind: "drop" } });
  client.send(publishPacket(telemetryTopic(device.deviceId), "lost?", { messageId: 5 }));
  assert.ok(await client.closesWithin(1000));
  assert.is(lastRecordOf(device.deviceId).closeReason, "fault-drop");
  assert.is(sim.hub().telemetryOf(device.deviceId).length, 0);
  const again = await openHub(sim, { ...device, clean: false });
  again.client.send(publishPacket(telemetryTopic(device.deviceId), "lost?", { messageId: 5, dup: true }));
  await again.client.expect("puback");
  assert.is((await sim.hub().nextTelemetry(device.deviceId)).dup, true);
  await again.client.end();
});

test("a will is forwarded as telemetry with iothub-MessageType: Will when the link goes without DISCONNECT, never after one", async () => {
  const device = addTestDevice(sim, "will");
  const will = {
    topic: telemetryTopic(device.deviceId, [["reason", "power lost"], ["$.ct", "text/plain"]]),
    payload: Buffer.from("gone"),
    qos: 1 as const,
    retain: false,
  };
  const polite = await openHub(sim, { ...device, will });
  polite.client.send({ cmd: "disconnect" });
  await polite.client.closed;

  const abrupt = await openHub(sim, { ...device, will });
  await abrupt.client.end(); // TLS close and FIN, but no DISCONNECT
  const forwarded = await sim.hub().nextTelemetry(device.deviceId);
  assert.equal(forwarded.properties, { reason: "power lost", "iothub-MessageType": "Will" });
  assert.equal(forwarded.systemProperties, { "$.ct": "text/plain" });
  assert.equal([forwarded.will, forwarded.payload.toString(), forwarded.qos], [true, "gone", 1]);

  const dropped = await openHub(sim, { ...device, will });
  assert.ok(sim.hub().dropConnection(device.deviceId));
  await dropped.client.closed;
  assert.is((await sim.hub().nextTelemetry(device.deviceId)).will, true, "a server-side drop forwards the will too");
  assert.equal(recordsOf(sim, device.deviceId).map((record) => record.events.filter((e) => e.kind === "will").length), [0, 1, 1]);
  assert.is(sim.hub().telemetryOf(device.deviceId).length, 2, "nothing for the DISCONNECT");
});

test.run();
