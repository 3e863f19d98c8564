// Cloud-to-device on the simulated hub over real TLS: the property bag the hub builds, delivery at
// QoS 1 with PUBACK, and what CleanSession 0 and 1 do with unacknowledged and queued messages.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startSimulator, type Simulator } from "../../simulator";
import { addTestDevice, C2D, nextPublish, openHub, packetLog, recordsOf, subscribe } from "../helpers/raw-hub-flow";

let sim: Simulator;

test.before(async () => {
  sim = await startSimulator();
});

test.after(async () => {
  await sim.close();
});

/** Splits a devicebound topic's property bag into decoded pairs, independently of the simulator's decoder. */
function decodeBag(topic: string, deviceId: string): Array<[string, string | null]> {
  const prefix = `devices/${deviceId}/messages/devicebound/`;
  assert.ok(topic.startsWith(prefix), topic);
  return topic
    .slice(prefix.length)
    .split("&")
    .map((pair) => {
      const [key, ...rest] = pair.split("=");
      return [decodeURIComponent(key), rest.length ? decodeURIComponent(rest.join("=")) : null];
    });
}

async function subscribedDevice(prefix: string, clean = true) {
  const device = addTestDevice(sim, prefix);
  const { client } = await openHub(sim, { ...device, clean });
  assert.equal(await subscribe(client, [C2D(device.deviceId)]), [1]);
  return { device, client };
}

test("a C2D message arrives at QoS 1 with the hub's property bag, URL-encoded like Azure's; PUBACK settles it", async () => {
  const { device, client } = await subscribedDevice("c2d");
  const sent = sim.hub().sendC2D(
    device.deviceId,
    '{"led":"on"}',
    { "spaced key": "a b", "amp&eq": "x=1&y=2", path: "/a/b", "naïve": "日本", bare: null, empty: "" },
    { messageId: "mid 1", correlationId: "cid/1", contentType: "application/json; charset=utf-8", contentEncoding: "utf-8", ack: "full" },
  );
  const packet = await nextPublish(client, { ack: false });
  assert.equal([packet.qos, packet.dup, packet.retain, packet.payload.toString()], [1, false, false, '{"led":"on"}']);
  assert.is(packet.topic, sent.topic);
  assert.is(
    packet.topic,
    `devices/${device.deviceId}/messages/devicebound/%24.mid=mid%201&%24.to=%2Fdevices%2F${device.deviceId}%2Fmessages%2Fdevicebound` +
      "&%24.cid=cid%2F1&%24.ct=application%2Fjson%3B%20charset%3Dutf-8&%24.ce=utf-8" +
      "&spaced%20key=a%20b&amp%26eq=x%3D1%26y%3D2&path=%2Fa%2Fb&na%C3%AFve=%E6%97%A5%E6%9C%AC&bare&empty=&iothub-ack=full",
  );
  assert.equal(decodeBag(packet.topic, device.deviceId), [
    ["$.mid", "mid 1"],
    ["$.to", `/devices/${device.deviceId}/messages/devicebound`],
    ["$.cid", "cid/1"],
    ["$.ct", "application/json; charset=utf-8"],
    ["$.ce", "utf-8"],
    ["spaced key", "a b"],
    ["amp&eq", "x=1&y=2"],
    ["path", "/a/b"],
    ["naïve", "日本"],
    ["bare", null],
    ["empty", ""],
    ["iothub-ack", "full"],
  ]);
  assert.equal([sent.state, sent.deliveries], ["in-flight", 1]);
  client.send({ cmd: "puback", messageId: packet.messageId ?? 0 });
  assert.is(await sent.settled, "acknowledged");
  assert.is(sent.state, "acknowledged");
  await client.end();
});

test("by default a message gets a UUID $.mid and no iothub-ack; messageId null leaves $.mid out", async () => {
  const { device, client } = await subscribedDevice("defaults");
  const withId = sim.hub().sendC2D(device.deviceId, "a");
  const withoutId = sim.hub().sendC2D(device.deviceId, Buffer.from([0, 255]), {}, { messageId: null });
  const first = decodeBag((await nextPublish(client)).topic, device.deviceId);
  assert.is(first[0][0], "$.mid");
  assert.match(first[0][1] ?? "", /^[0-9a-f-]{36}$/);
  assert.is(withId.messageId, first[0][1]);
  assert.equal(first.map(([key]) => key), ["$.mid", "$.to"]);
  const second = await nextPublish(client);
  assert.equal(decodeBag(second.topic, device.deviceId).map(([key]) => key), ["$.to"]);
  assert.equal([...second.payload], [0, 255]);
  assert.is(withoutId.messageId, undefined);
  await Promise.all([withId.settled, withoutId.settled]);
  await client.end();
});

test("CleanSession 0: an unacknowledged message is re-sent with DUP and its packet id right after the next CONNACK, before any SUBSCRIBE", async () => {
  const { device, client } = await subscribedDevice("persistent", false);
  const first = sim.hub().sendC2D(device.deviceId, "one");
  const original = await nextPublish(client, { ack: false });
  await client.end(); // gone before acknowledging
  assert.is(first.state, "queued");
  const whileOffline = sim.hub().sendC2D(device.deviceId, "two");
  assert.is(whileOffline.state, "queued", "kept for the CleanSession 0 session");

  const again = await openHub(sim, { ...device, clean: false });
  assert.is(again.connack.sessionPresent, true);
  const resent = await nextPublish(again.client);
  assert.equal([resent.payload.toString(), resent.dup, resent.messageId], ["one", true, original.messageId]);
  const queued = await nextPublish(again.client);
  assert.equal([queued.payload.toString(), queued.dup], ["two", false]);
  assert.equal([await first.settled, await whileOffline.settled], ["acknowledged", "acknowledged"]);
  assert.equal([first.deliveries, whileOffline.deliveries], [2, 1]);
  assert.equal(packetLog(recordsOf(sim, device.deviceId)[1]).slice(0, 5), ["in connect", "out connack", "out publish", "out publish", "in puback"]);
  await again.client.end();
});

test("CleanSession 1: nothing survives the connection; the message is discarded and never re-sent", async () => {
  const { device, client } = await subscribedDevice("transient", true);
  const message = sim.hub().sendC2D(device.deviceId, "once");
  await nextPublish(client, { ack: false });
  await client.end();
  assert.equal([await message.settled, message.discardReason], ["discarded", "session-ended"]);
  assert.is(sim.hub().sendC2D(device.deviceId, "to nobody").discardReason, "no-subscription");

  const again = await openHub(sim, { ...device, clean: true });
  assert.is(again.connack.sessionPresent, false);
  await subscribe(again.client, [C2D(device.deviceId)]);
  assert.ok(await again.client.staysQuiet(100), "nothing is re-sent");
  await again.client.end();
});

test("connecting with CleanSession 1 discards a stored CleanSession 0 session and its queue", async () => {
  const { device, client } = await subscribedDevice("switching", false);
  await client.end();
  const queued = sim.hub().sendC2D(device.deviceId, "waiting");
  const clean = await openHub(sim, { ...device, clean: true });
  assert.is(clean.connack.sessionPresent, false);
  assert.equal([await queued.settled, queued.discardReason], ["discarded", "clean-session"]);
  await clean.client.end();
  const fresh = await openHub(sim, { ...device, clean: false });
  assert.is(fresh.connack.sessionPresent, false, "the stored session is gone");
  await fresh.client.end();
});

test("a message is delivered only to a subscription: before SUBSCRIBE and after UNSUBSCRIBE it is discarded", async () => {
  const device = addTestDevice(sim, "unsubscribed");
  const { client } = await openHub(sim, device);
  assert.is(sim.hub().sendC2D(device.deviceId, "early").discardReason, "no-subscription");
  await subscribe(client, [C2D(device.deviceId)]);
  client.send({ cmd: "unsubscribe", messageId: 2, unsubscriptions: [C2D(device.deviceId)] });
  await client.expect("unsuback");
  assert.is(sim.hub().sendC2D(device.deviceId, "late").discardReason, "no-subscription");
  assert.ok(await client.staysQuiet(50));
  await client.end();
});

test("a QoS 0 subscription gets QoS 0 deliveries, settled as they leave", async () => {
  const device = addTestDevice(sim, "qos0");
  const { client } = await openHub(sim, device);
  assert.equal(await subscribe(client, [C2D(device.deviceId)], 0), [0]);
  const message = sim.hub().sendC2D(device.deviceId, "fire and forget");
  assert.is((await nextPublish(client)).qos, 0);
  assert.is(await message.settled, "acknowledged");
  await client.end();
});

test("limits: 64 KB per message, 50 pending per device, no C2D for modules", async () => {
  const { device, client } = await subscribedDevice("limits", false);
  const hub = sim.hub();
  assert.throws(() => hub.sendC2D(device.deviceId, Buffer.alloc(64 * 1024 + 1)), /64 KB/);
  for (let n = 0; n < 50; n++) hub.sendC2D(device.deviceId, String(n));
  assert.throws(() => hub.sendC2D(device.deviceId, "one too many"), /403004/);
  hub.addDevice({ deviceId: device.deviceId, moduleId: "mod" });
  assert.throws(() => hub.sendC2D(`${device.deviceId}/mod`, "x"), /modules/);
  assert.throws(() => hub.sendC2D("nobody", "x"), /not a device/);
  await client.end();
});

test.run();
