// Direct methods on the simulated hub over real TLS: the round trip, Azure's failures for an
// offline device (404103) and a slow one (504101), and what a device may answer.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MethodInvocationError, startSimulator, type Simulator } from "../../simulator";
import type { RawMqttClient } from "../helpers/raw-mqtt-client";
import { addTestDevice, METHODS, nextPublish, openHub, publishPacket, recordsOf, subscribe } from "../helpers/raw-hub-flow";
import { waitFor } from "../helpers/wait-for";

let sim: Simulator;

test.before(async () => {
  sim = await startSimulator();
});

test.after(async () => {
  await sim.close();
});

async function methodClient(prefix: string) {
  const device = addTestDevice(sim, prefix);
  const { client } = await openHub(sim, device);
  await subscribe(client, [METHODS]);
  return { device, client };
}

/** The method name and $rid of a request the device received. */
function readRequest(topic: string): { name: string; rid: string } {
  const match = /^\$iothub\/methods\/POST\/([^/]+)\/\?\$rid=(.+)$/.exec(topic);
  if (!match) throw new Error("not a method request: " + topic);
  return { name: match[1], rid: match[2] };
}

function respond(client: RawMqttClient, status: number | string, rid: string, body: string, messageId = 9): void {
  client.send(publishPacket(`$iothub/methods/res/${status}/?$rid=${rid}`, body, { messageId }));
}

async function failure(promise: Promise<unknown>): Promise<MethodInvocationError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, MethodInvocationError);
    return error as MethodInvocationError;
  }
  throw new Error("the invocation succeeded");
}

test("invoke: the device gets the request on the methods topic, answers with the same $rid, the caller gets status and payload", async () => {
  const { device, client } = await methodClient("echo");
  const invocation = sim.hub().invokeMethod(device.deviceId, "setLed", { on: true, colour: "ünïcode" }, { timeoutMs: 2000 });
  const request = await nextPublish(client);
  const { name, rid } = readRequest(request.topic);
  assert.is(name, "setLed");
  assert.equal(JSON.parse(request.payload.toString()), { on: true, colour: "ünïcode" });
  respond(client, 200, rid, '{"done":true}');
  assert.is((await client.expect("puback")).messageId, 9);
  assert.equal(await invocation, { status: 200, payload: { done: true } });

  const empty = sim.hub().invokeMethod(device.deviceId, "ping");
  const emptyRequest = await nextPublish(client);
  assert.is(emptyRequest.payload.length, 0, "no payload, empty body");
  respond(client, 404, readRequest(emptyRequest.topic).rid, "");
  await client.expect("puback");
  assert.equal(await empty, { status: 404, payload: null }, "any integer status passes through; an empty body is null");
  await client.end();
});

test("each invocation gets its own $rid; answers may come back in any order", async () => {
  const { device, client } = await methodClient("parallel");
  const first = sim.hub().invokeMethod(device.deviceId, "a", 1);
  const second = sim.hub().invokeMethod(device.deviceId, "b", 2);
  const requests = [readRequest((await nextPublish(client)).topic), readRequest((await nextPublish(client)).topic)];
  assert.is.not(requests[0].rid, requests[1].rid);
  respond(client, 201, requests[1].rid, "2", 1);
  respond(client, 200, requests[0].rid, "1", 2);
  assert.equal(await Promise.all([first, second]), [{ status: 200, payload: 1 }, { status: 201, payload: 2 }]);
  await client.end();
});

test("404103 at once for a device that is offline, or connected without the methods subscription", async () => {
  const device = addTestDevice(sim, "offline");
  const offline = await failure(sim.hub().invokeMethod(device.deviceId, "reboot", {}, { timeoutMs: 5000 }));
  assert.equal([offline.status, offline.errorCode], [404, 404103]);
  assert.match(offline.message, /Timed out waiting for device to connect/);
  const { client } = await openHub(sim, device);
  const started = Date.now();
  assert.is((await failure(sim.hub().invokeMethod(device.deviceId, "reboot", {}, { timeoutMs: 5000 }))).errorCode, 404103);
  assert.ok(Date.now() - started < 1000, "not after the timeout");
  await client.end();
});

test("504101 when the device does not answer in time; its late answer is recorded and changes nothing", async () => {
  const { device, client } = await methodClient("slow");
  const started = Date.now();
  const invocation = sim.hub().invokeMethod(device.deviceId, "slow", {}, { timeoutMs: 100 });
  const { rid } = readRequest((await nextPublish(client)).topic);
  const timedOut = await failure(invocation);
  assert.equal([timedOut.status, timedOut.errorCode], [504, 504101]);
  // It waited out its timeout; a few ms of slack, since Node may fire a timer a millisecond
  // earlier than Date.now() counts it (seen once: a failure at 99).
  assert.ok(Date.now() - started >= 95, "waited its timeout: " + (Date.now() - started) + " ms");
  respond(client, 200, rid, "{}");
  await client.expect("puback");
  const record = recordsOf(sim, device.deviceId)[0];
  await waitFor(() => record.events.length > 0, "the late answer to be noted");
  assert.equal(record.events.map((event) => event.kind), ["late-response"]);
  assert.ok(await client.staysQuiet(30), "the connection stays up");
  await client.end();
});

test("an answer that is neither JSON nor empty fails the invocation; oversized payloads are refused", async () => {
  const { device, client } = await methodClient("garbled");
  const invocation = sim.hub().invokeMethod(device.deviceId, "m");
  respond(client, 200, readRequest((await nextPublish(client)).topic).rid, "not json");
  assert.is((await failure(invocation)).status, 400);
  assert.is((await failure(sim.hub().invokeMethod(device.deviceId, "big", "x".repeat(128 * 1024)))).status, 400);
  await client.end();
});

test("a module answers methods as its own target", async () => {
  const device = addTestDevice(sim, "module-methods");
  const module = sim.hub().addDevice({ deviceId: device.deviceId, moduleId: "m" });
  const { client } = await openHub(sim, { deviceId: device.deviceId, moduleId: "m", key: module.primaryKey });
  await subscribe(client, [METHODS]);
  assert.is((await failure(sim.hub().invokeMethod(device.deviceId, "x"))).errorCode, 404103, "the device itself is offline");
  const invocation = sim.hub().invokeMethod(module.clientId, "x", null);
  respond(client, 200, readRequest((await nextPublish(client)).topic).rid, "null");
  assert.equal(await invocation, { status: 200, payload: null });
  await client.end();
});

test.run();
