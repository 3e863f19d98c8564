// The simulator's DPS happy paths over real TLS, driven by the raw test client (PROTOCOL.md §2).
import { randomBytes } from "node:crypto";
import type { IPublishPacket } from "mqtt-packet";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startSimulator, type Simulator } from "../../simulator";
import { groupDeviceKey } from "../helpers/dps-credentials";
import { nextResponse, openDps, pollPacket, register, registerPacket, subscribeToResponses } from "../helpers/raw-dps-flow";
import { waitFor } from "../helpers/wait-for";

const HUB_1 = "sim-hub-1.azure-devices.net";
const HUB_2 = "sim-hub-2.azure-devices.net";
const AZURE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/;
const newKey = () => randomBytes(32).toString("base64");

let sim: Simulator;

test.before(async () => {
  sim = await startSimulator({ hubs: [HUB_1, HUB_2], dps: { retryAfterSeconds: 0 } });
});

test.after(async () => {
  await sim.close();
});

test("individual symmetric key: CONNACK, SUBACK, 202 assigning, poll, 200 assigned", async () => {
  const key = newKey();
  sim.dps.enrollIndividual({ registrationId: "individual-1", attestation: { type: "symmetricKey", primaryKey: key } });
  const { client, connack } = await openDps(sim, { registrationId: "individual-1", key });
  assert.is(connack.returnCode, 0);
  assert.is(connack.sessionPresent, false);
  assert.equal(await subscribeToResponses(client), [1]);

  const [accepted, assigned, ...rest] = await register(client, "individual-1");
  assert.equal(rest, []);
  assert.is(accepted.status, 202);
  assert.is(accepted.rid, "1");
  assert.is(accepted.retryAfter, 0);
  assert.equal(Object.keys(accepted.body), ["operationId", "status"]);
  assert.is(accepted.body.status, "assigning");
  assert.match(accepted.body.operationId, /^4\.[0-9a-f]{16}\.[0-9a-f-]{36}$/);

  assert.is(assigned.status, 200);
  assert.is(assigned.rid, "2");
  assert.is(assigned.retryAfter, undefined);
  assert.is(assigned.body.operationId, accepted.body.operationId);
  assert.is(assigned.body.status, "assigned");
  const state = assigned.body.registrationState;
  assert.equal(Object.keys(state), [
    "registrationId",
    "createdDateTimeUtc",
    "assignedHub",
    "deviceId",
    "status",
    "substatus",
    "lastUpdatedDateTimeUtc",
    "etag",
  ]);
  assert.is(state.registrationId, "individual-1");
  assert.is(state.assignedHub, HUB_1);
  assert.is(state.deviceId, "individual-1");
  assert.is(state.status, "assigned");
  assert.is(state.substatus, "initialAssignment");
  assert.match(state.createdDateTimeUtc, AZURE_TIME);
  assert.match(state.lastUpdatedDateTimeUtc, AZURE_TIME);
  assert.match(state.etag, /^[A-Za-z0-9+/]+=*$/);

  const device = sim.assignedDevice(HUB_1, "individual-1");
  assert.equal(device?.credential, { type: "symmetricKey", keys: [key] });
  client.send({ cmd: "disconnect" });
  await client.closed;
});

test("group symmetric key: the device signs with its derived key and lands on the group's hub", async () => {
  const groupKey = newKey();
  sim.dps.enrollGroup({
    enrollmentGroupId: "group-a",
    attestation: { type: "symmetricKey", primaryKey: groupKey },
    assignedHub: HUB_2,
  });
  const deviceKey = groupDeviceKey(groupKey, "group-member-1");
  const { client, connack } = await openDps(sim, { registrationId: "group-member-1", key: deviceKey });
  assert.is(connack.returnCode, 0);
  await subscribeToResponses(client);
  const responses = await register(client, "group-member-1");
  const final = responses[responses.length - 1];
  assert.is(final.body.registrationState.assignedHub, HUB_2);
  assert.is(final.body.registrationState.deviceId, "group-member-1");
  assert.equal(sim.assignedDevice(HUB_2, "group-member-1")?.credential, { type: "symmetricKey", keys: [deviceKey] });
  await client.end();
});

test("X.509 individual and group: no password, the certificate CN is the registration id", async () => {
  sim.dps.enrollIndividual({ registrationId: "x509-individual", attestation: { type: "x509" }, deviceId: "x509-device" });
  sim.dps.enrollGroup({ enrollmentGroupId: "x509-group", attestation: { type: "x509" } });
  for (const registrationId of ["x509-individual", "x509-group-member"]) {
    const issued = sim.issueDeviceCertificate(registrationId);
    const { client, connack } = await openDps(sim, {
      registrationId,
      certificate: { cert: issued.certificatePem, key: issued.keyPem },
    });
    assert.is(connack.returnCode, 0, registrationId);
    await subscribeToResponses(client);
    const responses = await register(client, registrationId);
    const state = responses[responses.length - 1].body.registrationState;
    assert.is(state.status, "assigned");
    assert.is(state.deviceId, registrationId === "x509-individual" ? "x509-device" : registrationId);
    assert.equal(sim.assignedDevice(HUB_1, state.deviceId)?.credential, { type: "x509", commonName: registrationId });
    await client.end();
  }
});

test("payload in and out: custom allocation sees the request payload and its result comes back", async () => {
  const key = newKey();
  const seen: unknown[] = [];
  sim.dps.enrollIndividual({
    registrationId: "custom-1",
    attestation: { type: "symmetricKey", primaryKey: key },
    customAllocation: (request) => {
      seen.push(request);
      return { payload: { greeting: "hello", echoed: request.payload }, assignedHub: HUB_2, deviceId: "custom-device" };
    },
  });
  const { client } = await openDps(sim, { registrationId: "custom-1", key });
  await subscribeToResponses(client);
  const payload = { modelId: "dtmi:com:example:Thermostat;1", nested: { n: 1, text: "ünïcødé" } };
  const responses = await register(client, "custom-1", payload);
  assert.equal(seen, [{ registrationId: "custom-1", payload }]);
  const state = responses[responses.length - 1].body.registrationState;
  assert.equal(state.payload, { greeting: "hello", echoed: payload });
  assert.is(state.assignedHub, HUB_2);
  assert.is(state.deviceId, "custom-device");
  assert.is(Object.keys(state).pop(), "payload");
  await client.end();
});

test("the number of 202s and the retry-after are configurable, per enrollment and simulator-wide", async () => {
  const key = newKey();
  sim.dps.enrollIndividual({
    registrationId: "slow-1",
    attestation: { type: "symmetricKey", primaryKey: key },
    behaviour: { assigningPolls: 2, retryAfterSeconds: "omit" },
  });
  const { client } = await openDps(sim, { registrationId: "slow-1", key });
  await subscribeToResponses(client);
  const responses = await register(client, "slow-1");
  assert.equal(responses.map((response) => response.status), [202, 202, 202, 200]);
  assert.equal(responses.map((response) => response.retryAfter), [undefined, undefined, undefined, undefined]);
  assert.equal(responses.map((response) => response.rid), ["1", "2", "3", "4"]);
  await client.end();

  sim.dps.setBehaviour({ assigningPolls: 1 });
  try {
    const other = newKey();
    sim.dps.enrollIndividual({ registrationId: "slow-2", attestation: { type: "symmetricKey", primaryKey: other } });
    const second = await openDps(sim, { registrationId: "slow-2", key: other });
    await subscribeToResponses(second.client);
    const statuses = (await register(second.client, "slow-2")).map((response) => response.status);
    assert.equal(statuses, [202, 202, 200]);
    await second.client.end();
  } finally {
    sim.dps.setBehaviour({ assigningPolls: 0 });
  }
});

test("responses follow the granted QoS: 0 stays 0, 2 is granted as 1", async () => {
  const key = newKey();
  sim.dps.enrollIndividual({ registrationId: "qos-1", attestation: { type: "symmetricKey", primaryKey: key } });
  const { client } = await openDps(sim, { registrationId: "qos-1", key });
  client.send({ cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "$dps/registrations/res/#", qos: 2 }] });
  assert.equal((await client.expect("suback")).granted, [1]);
  client.send({ cmd: "subscribe", messageId: 8, subscriptions: [{ topic: "$dps/registrations/res/#", qos: 0 }] });
  assert.equal((await client.expect("suback")).granted, [0]);
  client.send(registerPacket("1", { registrationId: "qos-1" }, 0));
  const response = (await client.expect("publish")) as IPublishPacket;
  assert.is(response.qos, 0);
  await client.end();
});

test("PINGREQ is answered, CleanSession 0 is accepted, and localhost reaches DPS too", async () => {
  const key = newKey();
  sim.dps.enrollIndividual({ registrationId: "misc-1", attestation: { type: "symmetricKey", primaryKey: key } });
  const { client, connack } = await openDps(sim, {
    registrationId: "misc-1",
    key,
    servername: "localhost",
    overrides: { clean: false },
  });
  assert.is(connack.returnCode, 0);
  assert.is(connack.sessionPresent, false);
  client.send({ cmd: "pingreq" });
  await client.expect("pingresp");
  await client.end();
});

test("errors: unknown operation → 404, mismatched body → 400, both with Azure's error body", async () => {
  const key = newKey();
  sim.dps.enrollIndividual({ registrationId: "errors-1", attestation: { type: "symmetricKey", primaryKey: key } });
  const { client } = await openDps(sim, { registrationId: "errors-1", key });
  await subscribeToResponses(client);
  client.send(pollPacket("1", "4.0000000000000000.00000000-0000-0000-0000-000000000000"));
  const notFound = await nextResponse(client);
  assert.is(notFound.status, 404);
  assert.equal(Object.keys(notFound.body), ["errorCode", "trackingId", "message", "timestampUtc"]);
  assert.is(notFound.body.errorCode, 404000);
  assert.match(notFound.body.timestampUtc, AZURE_TIME);
  client.send(registerPacket("2", { registrationId: "someone-else" }));
  assert.is((await nextResponse(client)).status, 400);
  client.send({ ...registerPacket("3", {}), payload: Buffer.from("not json") });
  assert.is((await nextResponse(client)).status, 400);
  await client.end();
});

test("an operation is visible only to its own registration", async () => {
  const keyA = newKey();
  const keyB = newKey();
  sim.dps.enrollIndividual({ registrationId: "owner-a", attestation: { type: "symmetricKey", primaryKey: keyA } });
  sim.dps.enrollIndividual({ registrationId: "owner-b", attestation: { type: "symmetricKey", primaryKey: keyB } });
  const a = await openDps(sim, { registrationId: "owner-a", key: keyA });
  await subscribeToResponses(a.client);
  a.client.send(registerPacket("1", { registrationId: "owner-a" }));
  const operationId = (await nextResponse(a.client)).body.operationId;
  const b = await openDps(sim, { registrationId: "owner-b", key: keyB });
  await subscribeToResponses(b.client);
  b.client.send(pollPacket("1", operationId));
  assert.is((await nextResponse(b.client)).status, 404);
  await Promise.all([a.client.end(), b.client.end()]);
});

test("re-registering keeps createdDateTimeUtc and issues a new etag", async () => {
  const key = newKey();
  sim.dps.enrollIndividual({ registrationId: "again-1", attestation: { type: "symmetricKey", primaryKey: key } });
  const states = [];
  for (let i = 0; i < 2; i++) {
    const { client } = await openDps(sim, { registrationId: "again-1", key });
    await subscribeToResponses(client);
    const responses = await register(client, "again-1");
    states.push(responses[responses.length - 1].body.registrationState);
    await client.end();
  }
  assert.is(states[1].createdDateTimeUtc, states[0].createdDateTimeUtc);
  assert.is.not(states[1].etag, states[0].etag);
});

test("a response to a client that has not subscribed is not delivered, and the record says so", async () => {
  const key = newKey();
  sim.dps.enrollIndividual({ registrationId: "unsubscribed-1", attestation: { type: "symmetricKey", primaryKey: key } });
  const { client } = await openDps(sim, { registrationId: "unsubscribed-1", key });
  client.send(registerPacket("1", { registrationId: "unsubscribed-1" }));
  assert.is((await client.next()).cmd, "puback");
  assert.ok(await client.staysQuiet(100));
  const record = sim.connections[sim.connections.length - 1];
  assert.equal(record.events.map((event) => event.kind), ["undelivered"]);
  assert.match(record.events[0].detail, "$dps/registrations/res/202/?$rid=1");
  await client.end();
});

test("the record: every packet with a time, in order, the SAS without its signature, who closed", async () => {
  const key = newKey();
  sim.dps.enrollIndividual({ registrationId: "recorded-1", attestation: { type: "symmetricKey", primaryKey: key } });
  const { client } = await openDps(sim, { registrationId: "recorded-1", key });
  await subscribeToResponses(client);
  await register(client, "recorded-1");
  client.send({ cmd: "disconnect" });
  await client.closed;
  const record = sim.connections[sim.connections.length - 1];
  await waitFor(() => record.closedAtMs !== undefined, "the server to see the close");

  assert.is(record.service, "dps");
  assert.is(record.host, sim.dpsHost);
  assert.is(record.clientId, "recorded-1");
  assert.is(record.username, `${sim.idScope}/registrations/recorded-1/api-version=2019-03-31`);
  assert.is(record.closedBy, "client");
  assert.is(record.closeReason, "disconnect");
  const trail = record.packets.map(({ direction, packet }) => `${direction} ${packet.cmd}`);
  assert.equal(trail, [
    "in connect",
    "out connack",
    "in subscribe",
    "out suback",
    "in publish",
    "out puback",
    "out publish",
    "in puback",
    "in publish",
    "out puback",
    "out publish",
    "in puback",
    "in disconnect",
  ]);
  const times = record.packets.map((entry) => entry.atMs);
  assert.ok(times.every((time, i) => i === 0 || time >= times[i - 1]), "times never go backwards");
  assert.ok(record.openedAtMs <= times[0] && times[times.length - 1] <= (record.closedAtMs ?? 0));

  const connect = record.packets[0].packet;
  assert.ok(connect.cmd === "connect" && connect.password === undefined, "the password is not kept");
  assert.is(record.sas?.keyName, "registration");
  assert.is(record.sas?.encodedResource, encodeURIComponent(`${sim.idScope}/registrations/recorded-1`));
  assert.ok(!JSON.stringify(record).includes("sig="), "no signature anywhere in the record");
});

test.run();
