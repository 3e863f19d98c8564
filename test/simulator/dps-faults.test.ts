// Fault injection in the simulated DPS: each fault, where it fires, and that it is used up.
import { randomBytes } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startSimulator, type ConnectionRecord, type Simulator } from "../../simulator";
import {
  nextResponse,
  openDps,
  pollPacket,
  register,
  registerPacket,
  sendDpsConnect,
  subscribeToResponses,
  type DpsResponse,
} from "../helpers/raw-dps-flow";
import type { RawMqttClient } from "../helpers/raw-mqtt-client";

const QUIET_MS = 150;
let sim: Simulator;
let counter = 0;

test.before(async () => {
  sim = await startSimulator({ dps: { retryAfterSeconds: 0 } });
});

test.before.each(() => {
  sim.dps.clearFaults();
});

test.after(async () => {
  await sim.close();
});

/** A freshly enrolled device, so faults and records of one test never touch another. */
function enrollDevice(behaviour?: Parameters<Simulator["dps"]["enrollIndividual"]>[0]["behaviour"]) {
  const registrationId = `faulty-${++counter}`;
  const key = randomBytes(32).toString("base64");
  sim.dps.enrollIndividual({ registrationId, attestation: { type: "symmetricKey", primaryKey: key }, behaviour });
  return { registrationId, key };
}

async function connectedAndSubscribed(device: { registrationId: string; key: string }): Promise<RawMqttClient> {
  const { client, connack } = await openDps(sim, device);
  assert.is(connack.returnCode, 0);
  await subscribeToResponses(client);
  return client;
}

async function registerOnce(client: RawMqttClient, registrationId: string, rid: string): Promise<DpsResponse> {
  client.send(registerPacket(rid, { registrationId }));
  return nextResponse(client);
}

function lastRecord(): ConnectionRecord {
  return sim.connections[sim.connections.length - 1];
}

test("429 with retry-after at register, then success on the next try", async () => {
  const device = enrollDevice();
  sim.dps.injectFault({ step: "register", action: { kind: "error", status: 429, retryAfterSeconds: 2 } });
  const client = await connectedAndSubscribed(device);
  const throttled = await registerOnce(client, device.registrationId, "1");
  assert.is(throttled.status, 429);
  assert.is(throttled.retryAfter, 2);
  assert.equal(Object.keys(throttled.body), ["errorCode", "trackingId", "message", "timestampUtc"]);
  assert.is(throttled.body.errorCode, 429000);
  assert.is((await registerOnce(client, device.registrationId, "2")).status, 202);
  assert.equal(lastRecord().events.map((event) => event.detail), ["register: error 429"]);
  await client.end();
});

test("500 and 503 at poll (retry-after omitted, own error code), then the poll succeeds", async () => {
  const device = enrollDevice();
  sim.dps.injectFault({ step: "poll", action: { kind: "error", status: 500 } });
  sim.dps.injectFault({ step: "poll", action: { kind: "error", status: 503, errorCode: 503001 } });
  const client = await connectedAndSubscribed(device);
  const accepted = await registerOnce(client, device.registrationId, "1");
  const statuses = [];
  for (let rid = 2; rid <= 4; rid++) {
    client.send(pollPacket(String(rid), accepted.body.operationId));
    const response = await nextResponse(client);
    statuses.push([response.status, response.retryAfter, response.body.errorCode ?? response.body.status]);
  }
  assert.equal(statuses, [
    [500, undefined, 500000],
    [503, undefined, 503001],
    [200, undefined, "assigned"],
  ]);
  await client.end();
});

test("a fault for one registration id leaves other devices alone; times counts its hits", async () => {
  const target = enrollDevice();
  const bystander = enrollDevice();
  sim.dps.injectFault({
    step: "register",
    registrationId: target.registrationId,
    action: { kind: "error", status: 429, retryAfterSeconds: 0 },
    times: 2,
  });
  const other = await connectedAndSubscribed(bystander);
  assert.is((await registerOnce(other, bystander.registrationId, "1")).status, 202);
  const client = await connectedAndSubscribed(target);
  const statuses = [];
  for (let rid = 1; rid <= 3; rid++) statuses.push((await registerOnce(client, target.registrationId, String(rid))).status);
  assert.equal(statuses, [429, 429, 202]);
  await Promise.all([client.end(), other.end()]);
});

test("drop after CONNACK and after SUBACK: the answer arrives, then the link goes; the next attempt works", async () => {
  const device = enrollDevice();
  sim.dps.injectFault({ step: "connect", action: { kind: "drop-after-answer" } });
  const first = await openDps(sim, device);
  assert.is(first.connack.returnCode, 0);
  assert.ok(await first.client.closesWithin(1000));
  assert.is(lastRecord().closeReason, "fault-drop-after-answer");

  sim.dps.injectFault({ step: "subscribe", action: { kind: "drop-after-answer" } });
  const second = await openDps(sim, device);
  assert.equal(await subscribeToResponses(second.client), [1]);
  assert.ok(await second.client.closesWithin(1000));

  const third = await connectedAndSubscribed(device);
  assert.equal((await register(third, device.registrationId)).map((response) => response.status), [202, 200]);
  await third.end();
});

test("drop at register: no answer at all; drop after register: the 202 arrives and the operation survives", async () => {
  const device = enrollDevice();
  sim.dps.injectFault({ step: "register", action: { kind: "drop" } });
  const first = await connectedAndSubscribed(device);
  first.send(registerPacket("1", { registrationId: device.registrationId }));
  const failure = await first.next(1000).then(
    () => undefined,
    (error: Error) => error.message,
  );
  assert.match(failure ?? "", /closed/, "closed without an answer");
  assert.is(lastRecord().closeReason, "fault-drop");
  assert.is(lastRecord().packets[lastRecord().packets.length - 1].packet.cmd, "publish", "the request was received");

  sim.dps.injectFault({ step: "register", action: { kind: "drop-after-answer" } });
  const second = await connectedAndSubscribed(device);
  const accepted = await registerOnce(second, device.registrationId, "1");
  assert.is(accepted.status, 202);
  assert.ok(await second.closesWithin(1000));

  const third = await connectedAndSubscribed(device);
  third.send(pollPacket("1", accepted.body.operationId));
  assert.is((await nextResponse(third)).body.status, "assigned");
  await third.end();
});

test("drop after the first poll: its 202 arrives, then the link goes", async () => {
  const device = enrollDevice({ assigningPolls: 1 });
  sim.dps.injectFault({ step: "poll", action: { kind: "drop-after-answer" } });
  const client = await connectedAndSubscribed(device);
  const accepted = await registerOnce(client, device.registrationId, "1");
  client.send(pollPacket("2", accepted.body.operationId));
  assert.is((await nextResponse(client)).status, 202);
  assert.ok(await client.closesWithin(1000));
});

test("silence at connect: no CONNACK, and not even PINGRESP, while the connection stays open", async () => {
  const device = enrollDevice();
  sim.dps.injectFault({ step: "connect", action: { kind: "silence" } });
  const client = await sendDpsConnect(sim, device);
  assert.ok(await client.staysQuiet(QUIET_MS));
  client.send({ cmd: "pingreq" });
  assert.ok(await client.staysQuiet(QUIET_MS));
  assert.equal(
    lastRecord().packets.map((entry) => `${entry.direction} ${entry.packet.cmd}`),
    ["in connect", "in pingreq"],
    "what the silent server received is still recorded",
  );
  await client.end();
});

test("silence at subscribe, register and poll: the request goes unanswered", async () => {
  for (const step of ["subscribe", "register", "poll"] as const) {
    const device = enrollDevice();
    sim.dps.injectFault({ step, action: { kind: "silence" } });
    const { client } = await openDps(sim, device);
    client.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "$dps/registrations/res/#", qos: 1 }] });
    if (step === "subscribe") {
      assert.ok(await client.staysQuiet(QUIET_MS), step);
    } else {
      await client.expect("suback");
      const accepted = step === "poll" ? await registerOnce(client, device.registrationId, "1") : undefined;
      client.send(
        accepted ? pollPacket("2", accepted.body.operationId) : registerPacket("1", { registrationId: device.registrationId }),
      );
      assert.ok(await client.staysQuiet(QUIET_MS), step);
    }
    assert.equal(lastRecord().events.map((event) => event.detail), [`${step}: silence`]);
    await client.end();
  }
});

test("refuse at connect: a chosen CONNACK code, then close", async () => {
  const device = enrollDevice();
  sim.dps.injectFault({ step: "connect", action: { kind: "refuse", returnCode: 3 } });
  const { client, connack } = await openDps(sim, device);
  assert.is(connack.returnCode, 3);
  assert.ok(await client.closesWithin(1000));
});

test("final outcome failed: a 200 whose registrationState carries errorCode and errorMessage", async () => {
  const device = enrollDevice({ outcome: { status: "failed" } });
  const custom = enrollDevice({ outcome: { status: "failed", errorCode: 400207, errorMessage: "No hub available" } });
  for (const [who, errorCode, errorMessage] of [
    [device, 400209, "Registration failed"],
    [custom, 400207, "No hub available"],
  ] as const) {
    const client = await connectedAndSubscribed(who);
    const final = (await register(client, who.registrationId)).pop();
    assert.is(final?.status, 200);
    assert.is(final?.body.status, "failed");
    const state = final?.body.registrationState;
    assert.equal(Object.keys(state), [
      "registrationId",
      "createdDateTimeUtc",
      "status",
      "errorCode",
      "errorMessage",
      "lastUpdatedDateTimeUtc",
      "etag",
    ]);
    assert.is(state.errorCode, errorCode);
    assert.is(state.errorMessage, errorMessage);
    assert.is(sim.assignedDevice(sim.hubs[0], who.registrationId), undefined, "a failed device is on no hub");
    await client.end();
  }
});

test("final outcome disabled, set simulator-wide and overridden per enrollment", async () => {
  sim.dps.setBehaviour({ outcome: { status: "disabled" } });
  try {
    const disabled = enrollDevice();
    const overridden = enrollDevice({ outcome: { status: "assigned" } });
    const client = await connectedAndSubscribed(disabled);
    const final = (await register(client, disabled.registrationId)).pop();
    assert.is(final?.body.status, "disabled");
    assert.is(final?.body.registrationState.status, "disabled");
    await client.end();
    const other = await connectedAndSubscribed(overridden);
    assert.is((await register(other, overridden.registrationId)).pop()?.body.status, "assigned");
    await other.end();
  } finally {
    sim.dps.setBehaviour({ outcome: { status: "assigned" } });
  }
});

test("a custom allocation that throws, or names an unknown hub, fails the registration with 400209", async () => {
  for (const customAllocation of [
    () => {
      throw new Error("webhook down");
    },
    () => ({ assignedHub: "nowhere.azure-devices.net" }),
  ]) {
    const registrationId = `faulty-${++counter}`;
    const key = randomBytes(32).toString("base64");
    sim.dps.enrollIndividual({ registrationId, attestation: { type: "symmetricKey", primaryKey: key }, customAllocation });
    const client = await connectedAndSubscribed({ registrationId, key });
    const state = (await register(client, registrationId)).pop()?.body.registrationState;
    assert.is(state.status, "failed");
    assert.is(state.errorCode, 400209);
    await client.end();
  }
});

test("the record shows whether a client waited retry-after before polling", async () => {
  const device = enrollDevice({ retryAfterSeconds: 1 });
  const client = await connectedAndSubscribed(device);
  await register(client, device.registrationId); // honours retry-after
  const polite = lastRecord();
  const impatient = await connectedAndSubscribed(device);
  const accepted = await registerOnce(impatient, device.registrationId, "1");
  impatient.send(pollPacket("2", accepted.body.operationId)); // at once
  await nextResponse(impatient);
  const rude = lastRecord();
  await Promise.all([client.end(), impatient.end()]);

  /** Milliseconds from the 202 going out to the next poll coming in. */
  const waitedMs = (record: ConnectionRecord) => {
    const isPublish = (direction: string, fragment: string) => (entry: ConnectionRecord["packets"][number]) =>
      entry.direction === direction && entry.packet.cmd === "publish" && entry.packet.topic.includes(fragment);
    const accepted202 = record.packets.find(isPublish("out", "/res/202/"));
    const poll = record.packets.find(isPublish("in", "iotdps-get-operationstatus"));
    return (poll?.atMs ?? NaN) - (accepted202?.atMs ?? NaN);
  };
  // Node's timers and performance.now() differ by a fraction of a millisecond (999.95 ms seen
  // for a 1,000 ms wait): a margin, far from the impatient client's few milliseconds.
  assert.ok(waitedMs(polite) >= 990, `polite client waited ${waitedMs(polite)} ms`);
  assert.ok(waitedMs(rude) < 500, `impatient client waited ${waitedMs(rude)} ms`);
});

test("impossible faults are refused when injected", () => {
  assert.throws(() => sim.dps.injectFault({ step: "subscribe", action: { kind: "error", status: 500 } }), /register or poll/);
  assert.throws(() => sim.dps.injectFault({ step: "poll", action: { kind: "refuse", returnCode: 5 } }), /connect/);
  assert.throws(() => sim.dps.injectFault({ step: "poll", action: { kind: "drop" }, times: 0 }), /at least 1/);
});

test.run();
