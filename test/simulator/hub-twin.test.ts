// Device twins on the simulated hub over real TLS: GET, reported patches with versions, Azure's
// limits, throttling and server errors, and desired-property notifications only while connected.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startSimulator, type Simulator } from "../../simulator";
import { addTestDevice, nextPublish, openHub, packetLog, publishPacket, recordsOf, subscribe, twinRequest, TWIN_DESIRED, TWIN_RESPONSES } from "../helpers/raw-hub-flow";

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

async function twinClient(prefix: string, filters = [TWIN_RESPONSES, TWIN_DESIRED]) {
  const device = addTestDevice(sim, prefix);
  const { client } = await openHub(sim, device);
  await subscribe(client, filters);
  return { device, client };
}

test("GET answers 200 with desired and reported and their $version, on the request's $rid", async () => {
  const { client } = await twinClient("get");
  const response = await twinRequest(client, "17");
  assert.equal([response.status, response.rid, response.version], [200, "17", undefined]);
  assert.equal(response.body, { desired: { $version: 1 }, reported: { $version: 1 } });
  await client.end();
});

test("PATCH reported: 204 with the new $version and no body; members merge, objects nest, null deletes", async () => {
  const { device, client } = await twinClient("patch");
  const first = await twinRequest(client, "1", { firmware: "1.0", battery: 90, network: { type: "wifi", rssi: -60 } });
  assert.equal([first.status, first.rid, first.version, first.body], [204, "1", 2, undefined]);
  const second = await twinRequest(client, "2", { battery: null, network: { rssi: -70, ssid: "lab" } });
  assert.equal([second.status, second.version], [204, 3]);
  const twin = await twinRequest(client, "3");
  assert.equal(twin.body.reported, { firmware: "1.0", network: { type: "wifi", rssi: -70, ssid: "lab" }, $version: 3 });
  assert.equal(sim.hub().twin(device.deviceId).reported, twin.body.reported);
  await client.end();
});

test("400 for bad JSON, a non-object, reserved characters in a name, and a result over 32 KB; the twin is unchanged", async () => {
  const { device, client } = await twinClient("invalid");
  const bad = ["{not json", "[1,2]", '{"a.b":1}', '{"$version":5}', '{"has space":1}', JSON.stringify({ big: "x".repeat(4 * 1024 + 1) })];
  for (const [index, body] of bad.entries()) {
    const response = await twinRequest(client, String(index + 1), body);
    assert.is(response.status, 400, body.slice(0, 20));
    assert.equal(Object.keys(response.body), ["errorCode", "trackingId", "message", "timestampUtc"]);
  }
  // Eight 4 KB strings fit in 32 KB; a ninth does not (Azure counts keys and values, not JSON text).
  for (let n = 0; n < 7; n++) assert.is((await twinRequest(client, String(10 + n), { [`k${n}`]: "x".repeat(4096) })).status, 204);
  const full = await twinRequest(client, "20", { k7: "x".repeat(4096 - 16) });
  assert.is(full.status, 204);
  assert.is((await twinRequest(client, "21", { k8: "x".repeat(4096) })).status, 400);
  assert.is(sim.hub().twin(device.deviceId).reported.$version, full.version, "the refused patch changed nothing");
  await client.end();
});

test("without a subscription to $iothub/twin/res/# a request is served but its response goes nowhere", async () => {
  const { device, client } = await twinClient("unsubscribed", [TWIN_DESIRED]);
  client.send(publishPacket("$iothub/twin/PATCH/properties/reported/?$rid=1", '{"a":1}'));
  await client.expect("puback");
  assert.ok(await client.staysQuiet(50));
  assert.is(sim.hub().twin(device.deviceId).reported.$version, 2);
  const record = recordsOf(sim, device.deviceId)[0];
  assert.equal(record.events.map((event) => [event.kind, event.detail]), [["undelivered", "$iothub/twin/res/204/?$rid=1&$version=2"]]);
  await client.end();
});

test("faults: 429 as Azure sends it (no retry-after), with a retry-after when asked, 500 and 503 on GET, then success", async () => {
  const { device, client } = await twinClient("throttled");
  const hub = sim.hub();
  hub.injectFault({ step: "twin-patch", deviceId: device.deviceId, action: { kind: "error", status: 429 } });
  hub.injectFault({ step: "twin-patch", action: { kind: "error", status: 429, retryAfterSeconds: 2 } });
  hub.injectFault({ step: "twin-get", action: { kind: "error", status: 500 } });
  hub.injectFault({ step: "twin-get", action: { kind: "error", status: 503 } });
  const throttled = await twinRequest(client, "1", { a: 1 });
  assert.equal([throttled.status, throttled.retryAfter, throttled.version, throttled.body.errorCode], [429, undefined, undefined, 429001]);
  const withRetryAfter = await twinRequest(client, "2", { a: 1 });
  assert.equal([withRetryAfter.status, withRetryAfter.retryAfter], [429, 2]);
  assert.equal([(await twinRequest(client, "3", { a: 1 })).status, hub.twin(device.deviceId).reported.$version], [204, 2]);
  const errors = [await twinRequest(client, "4"), await twinRequest(client, "5"), await twinRequest(client, "6")];
  assert.equal(errors.map((r) => [r.status, r.body.errorCode ?? "twin"]), [[500, 500001], [503, 503003], [200, "twin"]]);
  await client.end();
});

test("patchDesired notifies a connected, subscribed device with the patch plus $version", async () => {
  const { device, client } = await twinClient("desired");
  const result = sim.hub().patchDesired(device.deviceId, { interval: 5, mode: { eco: true }, old: null });
  assert.equal(result, { version: 2, notified: true });
  const packet = await nextPublish(client);
  assert.is(packet.topic, "$iothub/twin/PATCH/properties/desired/?$version=2");
  assert.equal(JSON.parse(packet.payload.toString()), { interval: 5, mode: { eco: true }, old: null, $version: 2 });
  assert.equal(sim.hub().twin(device.deviceId).desired, { interval: 5, mode: { eco: true }, $version: 2 });
  await client.end();
});

test("a disconnected device gets no desired notification: it must GET after reconnecting, as the record shows", async () => {
  const { device, client } = await twinClient("offline-desired");
  await client.end();
  assert.equal(sim.hub().patchDesired(device.deviceId, { interval: 30 }), { version: 2, notified: false });
  const unsubscribed = await openHub(sim, device);
  assert.equal(sim.hub().patchDesired(device.deviceId, { interval: 60 }), { version: 3, notified: false }, "connected but not subscribed");

  await subscribe(unsubscribed.client, [TWIN_RESPONSES, TWIN_DESIRED]);
  assert.ok(await unsubscribed.client.staysQuiet(50), "missed notifications are not replayed");
  const twin = await twinRequest(unsubscribed.client, "1");
  assert.equal(twin.body.desired, { interval: 60, $version: 3 });
  // No desired PATCH between CONNACK and the GET: the twin only comes back because the device asked.
  assert.equal(packetLog(recordsOf(sim, device.deviceId)[1]).slice(0, 7), [
    "in connect",
    "out connack",
    "in subscribe",
    "out suback",
    "in publish",
    "out puback",
    "out publish",
  ]);
  await unsubscribed.client.end();
});

test("a module has a twin of its own on the same topics", async () => {
  const device = addTestDevice(sim, "module-twin");
  const module = sim.hub().addDevice({ deviceId: device.deviceId, moduleId: "m" });
  const { client } = await openHub(sim, { deviceId: device.deviceId, moduleId: "m", key: module.primaryKey });
  await subscribe(client, [TWIN_RESPONSES]);
  assert.is((await twinRequest(client, "1", { role: "module" })).version, 2);
  assert.equal(sim.hub().twin(module.clientId).reported, { role: "module", $version: 2 });
  assert.equal(sim.hub().twin(device.deviceId).reported, { $version: 1 });
  await client.end();
});

test("patchDesired refuses an invalid or oversized patch and unknown targets", () => {
  const device = addTestDevice(sim, "desired-limits");
  assert.throws(() => sim.hub().patchDesired(device.deviceId, { "a.b": 1 }), /refused/);
  assert.throws(() => sim.hub().patchDesired(device.deviceId, { big: "x".repeat(5000) }), /4 KB/);
  assert.throws(() => sim.hub().patchDesired("nobody", { a: 1 }), /not a device/);
  assert.is(sim.hub().twin(device.deviceId).desired.$version, 1);
});

test.run();
