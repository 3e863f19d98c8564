// The simulated hub's CONNECT checks (PROTOCOL.md §3) over real TLS: every accepted form, every
// refusal with its CONNACK code and recorded reason, identities from DPS and registered directly,
// modules, X.509, revocation, and a second connection taking over from the first.
import { randomBytes } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startSimulator, type Simulator } from "../../simulator";
import { hubResourceUri, hubSasToken, hubUsername, inOneHour } from "../helpers/hub-credentials";
import { openDps, register, subscribeToResponses } from "../helpers/raw-dps-flow";
import { addTestDevice, openHub, recordsOf } from "../helpers/raw-hub-flow";
import { waitFor } from "../helpers/wait-for";

const HUB_1 = "sim-hub-1.azure-devices.net";
const HUB_2 = "sim-hub-2.azure-devices.net";
let sim: Simulator;

test.before(async () => {
  sim = await startSimulator({ hubs: [HUB_1, HUB_2], dps: { retryAfterSeconds: 0 } });
});

test.after(async () => {
  await sim.close();
});

const password = (token: string) => Buffer.from(token, "utf8");

test("a device registered on the hub connects with a SAS token; the record keeps no signature", async () => {
  const device = addTestDevice(sim, "direct");
  const { client, connack } = await openHub(sim, device);
  assert.is(connack.returnCode, 0);
  assert.is(connack.sessionPresent, false);
  assert.ok(sim.hub().isConnected(device.deviceId));
  const record = recordsOf(sim, device.deviceId)[0];
  assert.is(record.service, "hub");
  assert.is(record.username, `${HUB_1}/${device.deviceId}/?api-version=2021-04-12`);
  assert.equal(record.sas, { encodedResource: encodeURIComponent(`${HUB_1}/devices/${device.deviceId}`), expirySeconds: record.sas!.expirySeconds });
  assert.not.match(JSON.stringify(record), /sig=|password/);
  client.send({ cmd: "disconnect" });
  await client.closed;
  await waitFor(() => !sim.hub().isConnected(device.deviceId), "the hub to notice the DISCONNECT");
});

test("a device DPS assigned connects to its hub with the enrollment's key, and with a group-derived key", async () => {
  const key = randomBytes(32).toString("base64");
  sim.dps.enrollIndividual({ registrationId: "from-dps-1", attestation: { type: "symmetricKey", primaryKey: key }, assignedHub: HUB_2 });
  const dps = await openDps(sim, { registrationId: "from-dps-1", key });
  await subscribeToResponses(dps.client);
  const state = (await register(dps.client, "from-dps-1")).pop()?.body.registrationState;
  await dps.client.end();
  assert.is(state.assignedHub, HUB_2);
  const { client, connack } = await openHub(sim, { host: state.assignedHub, deviceId: state.deviceId, key });
  assert.is(connack.returnCode, 0);
  await client.end();
  const elsewhere = await openHub(sim, { host: HUB_1, deviceId: state.deviceId, key });
  assert.is(elsewhere.connack.returnCode, 5, "the device exists only on the hub DPS chose");
  assert.is(recordsOf(sim, state.deviceId, HUB_1)[0].refusal, "device-unknown");
});

test("other documented api-versions, a Plug and Play model id and DeviceClientType are accepted; the model id is recorded", async () => {
  const device = addTestDevice(sim, "pnp");
  const modelId = "dtmi:com:example:Thermostat;1";
  const usernames = [
    hubUsername(HUB_1, device.deviceId, { modelId }),
    hubUsername(HUB_1, device.deviceId, { apiVersion: "2020-09-30", modelId }),
    hubUsername(HUB_1, device.deviceId, { apiVersion: "2018-06-30" }) + "&DeviceClientType=" + encodeURIComponent("azure-iot-mqtt-lite/0.1.0 (node)"),
    `${HUB_1}/${device.deviceId}/?api-version=2021-04-12&model-id=${modelId}`, // unencoded ':' and ';' are legal in a query
    `SIM-HUB-1.azure-devices.net/${device.deviceId}/?api-version=2021-04-12`, // host names are not case-sensitive
  ];
  for (const username of usernames) {
    // The token's resource names the hub exactly as the username does.
    const resource = `${username.slice(0, username.indexOf("/"))}/devices/${device.deviceId}`;
    const { client, connack } = await openHub(sim, { ...device, overrides: { username, password: password(hubSasToken(resource, device.key, inOneHour())) } });
    assert.is(connack.returnCode, 0, username);
    await client.end();
  }
  assert.equal(recordsOf(sim, device.deviceId).map((record) => record.modelId), [modelId, modelId, undefined, modelId, undefined]);
});

test("refusals: CONNACK 4 for a malformed username or password, 5 for wrong credentials, 1 for another protocol level", async () => {
  const device = addTestDevice(sim, "refused");
  const other = addTestDevice(sim, "bystander");
  const resource = hubResourceUri(HUB_1, device.deviceId);
  const token = (overrides: { resource?: string; key?: string; expiry?: number } = {}) =>
    password(hubSasToken(overrides.resource ?? resource, overrides.key ?? device.key, overrides.expiry ?? inOneHour()));
  const cases: Array<[string, number, string, Parameters<typeof openHub>[1]["overrides"]]> = [
    ["the seed's old form without '?'", 4, "username-malformed", { username: `${HUB_1}/${device.deviceId}/api-version=2016-11-14` }],
    ["no api-version", 4, "api-version-unsupported", { username: `${HUB_1}/${device.deviceId}/?DeviceClientType=x` }],
    ["an unknown api-version", 4, "api-version-unsupported", { username: hubUsername(HUB_1, device.deviceId, { apiVersion: "2099-01-01" }) }],
    ["an unknown parameter", 4, "username-parameter-unknown", { username: hubUsername(HUB_1, device.deviceId) + "&ClientVersion=1" }],
    ["a malformed model id", 4, "model-id-malformed", { username: hubUsername(HUB_1, device.deviceId, { modelId: "urn:thermostat:1" }) }],
    ["a model id with an old api-version", 4, "model-id-needs-api-version-2020-09-30", { username: hubUsername(HUB_1, device.deviceId, { apiVersion: "2019-03-30", modelId: "dtmi:a:b;1" }) }],
    ["a username naming another hub", 5, "username-host-mismatch", { username: hubUsername(HUB_2, device.deviceId) }],
    ["a client id that is not the device id", 5, "client-id-mismatch", { clientId: other.deviceId }],
    ["a device the hub does not know", 5, "device-unknown", { clientId: "ghost", username: hubUsername(HUB_1, "ghost") }],
    ["a password that is not a SAS token", 4, "password-not-a-sas-token", { password: password(device.key) }],
    ["a token signed with another key", 5, "sas-signature-mismatch", { password: token({ key: other.key }) }],
    ["an expired token", 5, "sas-expired", { password: token({ expiry: Math.floor(Date.now() / 1000) - 1 }) }],
    ["a token for another device", 5, "sas-resource-mismatch", { password: token({ resource: hubResourceUri(HUB_1, other.deviceId) }) }],
    ["a token whose sr is not URL-encoded", 5, "sas-resource-mismatch", { password: password(hubSasToken(resource, device.key, inOneHour()).replace(encodeURIComponent(resource), resource)) }],
    ["a token naming a policy (skn)", 5, "sas-key-name-mismatch", { password: password(hubSasToken(resource, device.key, inOneHour()) + "&skn=device") }],
    ["no password and no certificate", 5, "no-credentials", { password: undefined }],
    ["MQTT 3.1", 1, "protocol-level", { protocolId: "MQIsdp", protocolVersion: 3 }],
    ["a will outside the telemetry topics", 5, "will-topic-not-telemetry", { will: { topic: "devices/x/messages/events/", payload: Buffer.from("bye"), qos: 0, retain: false } }],
    ["a will at QoS 2", 5, "will-qos-2", { will: { topic: `devices/${device.deviceId}/messages/events/`, payload: Buffer.from("bye"), qos: 2, retain: false } }],
  ];
  for (const [what, returnCode, refusal, overrides] of cases) {
    const { client, connack } = await openHub(sim, { ...device, overrides });
    assert.is(connack.returnCode, returnCode, what);
    assert.ok(await client.closesWithin(1000), what + ": closed after the CONNACK");
    const record = sim.connections[sim.connections.length - 1];
    assert.is(record.refusal, refusal, what);
    assert.is(record.closeReason, "refused", what);
    assert.not.match(JSON.stringify(record), /sig=/, what);
  }
  assert.not.ok(sim.hub().isConnected(device.deviceId));
});

test("the secondary key is accepted as well as the primary", async () => {
  const secondaryKey = randomBytes(32).toString("base64");
  sim.hub().addDevice({ deviceId: "two-keys", primaryKey: randomBytes(32).toString("base64"), secondaryKey });
  const { client, connack } = await openHub(sim, { deviceId: "two-keys", key: secondaryKey });
  assert.is(connack.returnCode, 0);
  await client.end();
});

test("X.509: a trusted certificate whose CN is the device id, and no password", async () => {
  const { connectionString } = sim.hub().addDevice({ deviceId: "cert-1", x509: true });
  assert.is(connectionString, `HostName=${HUB_1};DeviceId=cert-1;x509=true`);
  const own = sim.issueDeviceCertificate("cert-1");
  const certificate = { cert: own.certificatePem, key: own.keyPem };
  const ok = await openHub(sim, { deviceId: "cert-1", certificate });
  assert.is(ok.connack.returnCode, 0);
  await ok.client.end();

  const foreign = sim.issueDeviceCertificate("cert-2");
  const cases: Array<[string, string, Parameters<typeof openHub>[1]]> = [
    ["another device's certificate", "certificate-cn-mismatch", { deviceId: "cert-1", certificate: { cert: foreign.certificatePem, key: foreign.keyPem } }],
    ["no certificate", "no-credentials", { deviceId: "cert-1" }],
    ["a SAS token instead", "sas-for-x509-device", { deviceId: "cert-1", key: randomBytes(32).toString("base64") }],
  ];
  for (const [what, refusal, options] of cases) {
    const { client, connack } = await openHub(sim, options);
    assert.is(connack.returnCode, 5, what);
    assert.is(sim.connections[sim.connections.length - 1].refusal, refusal, what);
    await client.closed;
  }
});

test("a module connects as deviceId/moduleId with a module-scoped token; a device token does not open it", async () => {
  const device = addTestDevice(sim, "host-device");
  const { primaryKey, connectionString, clientId } = sim.hub().addDevice({ deviceId: device.deviceId, moduleId: "sensor" });
  assert.is(clientId, `${device.deviceId}/sensor`);
  assert.is(connectionString, `HostName=${HUB_1};DeviceId=${device.deviceId};ModuleId=sensor;SharedAccessKey=${primaryKey}`);
  const { client, connack } = await openHub(sim, { deviceId: device.deviceId, moduleId: "sensor", key: primaryKey });
  assert.is(connack.returnCode, 0);
  assert.is(recordsOf(sim, clientId)[0].username, `${HUB_1}/${device.deviceId}/sensor/?api-version=2021-04-12`);
  // The device keeps its own connection: a module is a separate client.
  const deviceConnection = await openHub(sim, device);
  assert.is(deviceConnection.connack.returnCode, 0);
  assert.ok(await client.staysQuiet(50));
  await Promise.all([client.end(), deviceConnection.client.end()]);

  const wrongScope = password(hubSasToken(hubResourceUri(HUB_1, device.deviceId), primaryKey!, inOneHour()));
  const refused = await openHub(sim, { deviceId: device.deviceId, moduleId: "sensor", key: primaryKey, overrides: { password: wrongScope } });
  assert.is(refused.connack.returnCode, 5);
  assert.is(sim.connections[sim.connections.length - 1].refusal, "sas-resource-mismatch");
});

test("a second connection for the same device drops the first, which the record says why", async () => {
  const device = addTestDevice(sim, "twice");
  const first = await openHub(sim, { ...device, clean: false });
  const second = await openHub(sim, { ...device, clean: false });
  assert.is(second.connack.returnCode, 0);
  assert.ok(await first.client.closesWithin(1000));
  const [firstRecord, secondRecord] = recordsOf(sim, device.deviceId);
  assert.is(firstRecord.closedBy, "server");
  assert.is(firstRecord.closeReason, "400027 ConnectionForcefullyClosedOnNewConnection");
  assert.is(secondRecord.closedAtMs, undefined);
  assert.is(second.connack.sessionPresent, true, "the CleanSession 0 session passes to the new connection");
  assert.ok(sim.hub().isConnected(device.deviceId));
  await second.client.end();
});

test("a revoked key is refused from the next CONNECT; a disabled device is dropped and refused until enabled", async () => {
  const device = addTestDevice(sim, "revoked");
  const hub = sim.hub();
  const live = await openHub(sim, device);
  const newKey = hub.revokeKeys(device.deviceId);
  assert.ok(await live.client.staysQuiet(50), "Azure keeps a live connection until its token expires");
  await live.client.end();
  const refused = await openHub(sim, device);
  assert.is(refused.connack.returnCode, 5);
  assert.is(sim.connections[sim.connections.length - 1].refusal, "sas-signature-mismatch");
  const renewed = await openHub(sim, { ...device, key: newKey });
  assert.is(renewed.connack.returnCode, 0);

  hub.setEnabled(device.deviceId, false);
  assert.ok(await renewed.client.closesWithin(1000));
  assert.is(recordsOf(sim, device.deviceId).pop()?.closeReason, "device-disabled");
  const disabled = await openHub(sim, { ...device, key: newKey });
  assert.is(disabled.connack.returnCode, 3, "server unavailable, as IoT Hub answers a disabled device");
  assert.is(sim.connections[sim.connections.length - 1].refusal, "device-disabled");
  hub.setEnabled(device.deviceId, true);
  const back = await openHub(sim, { ...device, key: newKey });
  assert.is(back.connack.returnCode, 0);
  await back.client.end();
});

test("a live connection is dropped when its SAS token expires (sas-expired), as IoT Hub does", async () => {
  const device = addTestDevice(sim, "expiring");
  const resource = hubResourceUri(HUB_1, device.deviceId);
  const expiry = Math.floor(Date.now() / 1000) + 2;
  const live = await openHub(sim, { ...device, overrides: { password: password(hubSasToken(resource, device.key, expiry)) } });
  assert.is(live.connack.returnCode, 0);
  assert.ok(await live.client.staysQuiet(Math.max(0, expiry * 1000 - Date.now() - 300)), "open until the token's expiry");
  assert.ok(await live.client.closesWithin(1500), "closed at expiry");
  assert.is(recordsOf(sim, device.deviceId).pop()?.closeReason, "sas-expired");
});

test("sim.hub() names hubs in any case and refuses names it does not serve", () => {
  assert.is(sim.hub().hostName, HUB_1);
  assert.is(sim.hub("SIM-HUB-2.azure-devices.net").hostName, HUB_2);
  assert.throws(() => sim.hub("other.azure-devices.net"), /does not serve/);
  assert.throws(() => sim.hub().revokeKeys("nobody"), /not a device or module/);
});

test.run();
