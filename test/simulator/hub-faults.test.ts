// Fault injection on the simulated hub, and the end-to-end path a client takes after repeated
// authorization failures: its key revoked on one hub, re-enrolled in DPS to another, provisioned
// again and connected there.
import { randomBytes } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startSimulator, type Simulator } from "../../simulator";
import { openDps, register, subscribeToResponses } from "../helpers/raw-dps-flow";
import { addTestDevice, METHODS, openHub, publishPacket, recordsOf, sendHubConnect, subscribe, telemetryTopic, TWIN_RESPONSES } from "../helpers/raw-hub-flow";

const HUB_1 = "sim-hub-1.azure-devices.net";
const HUB_2 = "sim-hub-2.azure-devices.net";
let sim: Simulator;

test.before(async () => {
  sim = await startSimulator({ hubs: [HUB_1, HUB_2], dps: { retryAfterSeconds: 0 } });
});

test.before.each(() => {
  sim.hub().clearFaults();
});

test.after(async () => {
  await sim.close();
});

test("refuse: the next CONNECTs get the chosen code (5 twice here), then the device connects", async () => {
  const device = addTestDevice(sim, "refused");
  sim.hub().injectFault({ step: "connect", deviceId: device.deviceId, action: { kind: "refuse", returnCode: 5 }, times: 2 });
  const codes = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const { client, connack } = await openHub(sim, device);
    codes.push(connack.returnCode);
    await (connack.returnCode === 0 ? client.end() : client.closed);
  }
  assert.equal(codes, [5, 5, 0]);
  assert.equal(recordsOf(sim, device.deviceId).map((record) => [record.refusal, record.closeReason]).slice(0, 2), [
    ["fault-refuse", "fault-refuse"],
    ["fault-refuse", "fault-refuse"],
  ]);
});

test("a fault aimed at one device leaves the others alone", async () => {
  const target = addTestDevice(sim, "target");
  const bystander = addTestDevice(sim, "bystander");
  sim.hub().injectFault({ step: "connect", deviceId: target.deviceId, action: { kind: "refuse", returnCode: 3 } });
  const other = await openHub(sim, bystander);
  assert.is(other.connack.returnCode, 0);
  assert.is((await openHub(sim, target)).connack.returnCode, 3);
  await other.client.end();
});

test("silence at connect: no CONNACK and no PINGRESP; at telemetry: no PUBACK, and nothing after it", async () => {
  const device = addTestDevice(sim, "silent");
  sim.hub().injectFault({ step: "connect", action: { kind: "silence" } });
  const mute = await sendHubConnect(sim, device);
  assert.ok(await mute.staysQuiet(80));
  mute.send({ cmd: "pingreq" });
  assert.ok(await mute.staysQuiet(80));
  await mute.end();

  const { client } = await openHub(sim, device);
  sim.hub().injectFault({ step: "telemetry", action: { kind: "silence" } });
  client.send(publishPacket(telemetryTopic(device.deviceId), "x"));
  client.send({ cmd: "pingreq" });
  assert.ok(await client.staysQuiet(80));
  assert.equal(recordsOf(sim, device.deviceId)[1].events.map((event) => event.detail), ["telemetry: silence"]);
  await client.end();
});

test("drop at subscribe, and drop after the SUBACK", async () => {
  const device = addTestDevice(sim, "subscribe-drop");
  sim.hub().injectFault({ step: "subscribe", action: { kind: "drop" } });
  sim.hub().injectFault({ step: "subscribe", action: { kind: "drop-after-answer" } });
  const first = await openHub(sim, device);
  first.client.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: METHODS, qos: 1 }] });
  assert.ok(await first.client.closesWithin(1000));
  const second = await openHub(sim, device);
  assert.equal(await subscribe(second.client, [METHODS]), [1]);
  assert.ok(await second.client.closesWithin(1000));
  assert.equal(recordsOf(sim, device.deviceId).map((record) => record.closeReason), ["fault-drop", "fault-drop-after-answer"]);
});

test("dropConnection ends the live connection now; false when the device is not connected", async () => {
  const device = addTestDevice(sim, "dropped-now");
  const { client } = await openHub(sim, device);
  assert.ok(sim.hub().dropConnection(device.deviceId));
  await client.closed;
  assert.is(recordsOf(sim, device.deviceId)[0].closeReason, "fault-drop");
  assert.not.ok(sim.hub().dropConnection(device.deviceId));
});

test("drop after answering a twin GET", async () => {
  const device = addTestDevice(sim, "twin-drop");
  const { client } = await openHub(sim, device);
  await subscribe(client, [TWIN_RESPONSES]);
  sim.hub().injectFault({ step: "twin-get", action: { kind: "drop-after-answer" } });
  client.send(publishPacket("$iothub/twin/GET/?$rid=1", ""));
  assert.is((await client.expect("puback")).messageId, 1);
  assert.match((await client.expect("publish")).topic, /^\$iothub\/twin\/res\/200\/\?\$rid=1$/);
  assert.ok(await client.closesWithin(1000));
});

test("impossible faults are refused when injected", () => {
  const hub = sim.hub();
  assert.throws(() => hub.injectFault({ step: "telemetry", action: { kind: "refuse", returnCode: 5 } }), /connect/);
  assert.throws(() => hub.injectFault({ step: "subscribe", action: { kind: "error", status: 429 } }), /twin-get or twin-patch/);
  assert.throws(() => hub.injectFault({ step: "twin-get", action: { kind: "no-ack" } }), /telemetry/);
  assert.throws(() => hub.injectFault({ step: "connect", action: { kind: "drop" }, times: 0 }), /at least 1/);
});

async function provision(registrationId: string, key: string) {
  const { client } = await openDps(sim, { registrationId, key });
  await subscribeToResponses(client);
  const state = (await register(client, registrationId)).pop()?.body.registrationState;
  await client.end();
  return state as { assignedHub: string; deviceId: string };
}

test("re-provisioning end to end: a key revoked on hub 1, the device re-enrolled to hub 2, provisioned again, connected there", async () => {
  const key = randomBytes(32).toString("base64");
  const registrationId = "moving-device";
  sim.dps.enrollIndividual({ registrationId, attestation: { type: "symmetricKey", primaryKey: key }, assignedHub: HUB_1 });
  const first = await provision(registrationId, key);
  assert.is(first.assignedHub, HUB_1);
  const connected = await openHub(sim, { host: HUB_1, deviceId: first.deviceId, key });
  assert.is(connected.connack.returnCode, 0);
  await connected.client.end();

  sim.hub(HUB_1).revokeKeys(first.deviceId);
  sim.dps.enrollIndividual({ registrationId, attestation: { type: "symmetricKey", primaryKey: key }, assignedHub: HUB_2 });
  for (let attempt = 0; attempt < 2; attempt++) {
    const refused = await openHub(sim, { host: HUB_1, deviceId: first.deviceId, key });
    assert.is(refused.connack.returnCode, 5, "the old hub refuses the device");
  }
  const second = await provision(registrationId, key);
  assert.is(second.assignedHub, HUB_2);
  const moved = await openHub(sim, { host: second.assignedHub, deviceId: second.deviceId, key });
  assert.is(moved.connack.returnCode, 0);
  await moved.client.end();
  assert.equal(
    sim.connections.filter((record) => record.clientId === first.deviceId && record.service === "hub").map((record) => [record.host, record.refusal]),
    [
      [HUB_1, undefined],
      [HUB_1, "sas-signature-mismatch"],
      [HUB_1, "sas-signature-mismatch"],
      [HUB_2, undefined],
    ],
  );
});

test.run();
