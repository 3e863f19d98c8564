// Every check the simulated DPS makes, each refusing one wrong thing (PROTOCOL.md §1-2).
import { randomBytes } from "node:crypto";
import mqtt from "mqtt-packet";
import { connect as connectTls } from "node:tls";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createCertificateAuthority, issueClientCertificate } from "../../simulator/certificates";
import { startSimulator, type ConnectionRecord, type Simulator } from "../../simulator";
import { dpsConnectPacket, dpsSasToken, dpsUsername } from "../helpers/dps-credentials";
import { openDps, type OpenDpsOptions } from "../helpers/raw-dps-flow";
import { RawMqttClient } from "../helpers/raw-mqtt-client";
import { waitFor } from "../helpers/wait-for";

const KEY = randomBytes(32).toString("base64");
const WRONG_KEY = randomBytes(32).toString("base64");
const ID = "checked-1";
const NOT_AUTHORIZED = 5;
const BAD_USERNAME_OR_PASSWORD = 4;
const UNACCEPTABLE_PROTOCOL_VERSION = 1;

let sim: Simulator;

test.before(async () => {
  sim = await startSimulator({ dps: { retryAfterSeconds: 0 } });
  sim.dps.enrollIndividual({ registrationId: ID, attestation: { type: "symmetricKey", primaryKey: KEY } });
  sim.dps.enrollIndividual({ registrationId: "x509-only", attestation: { type: "x509" } });
});

test.after(async () => {
  await sim.close();
});

function lastRecord(): ConnectionRecord {
  return sim.connections[sim.connections.length - 1];
}

/** Connects with the given options and expects a refusing CONNACK, the server closing, and the recorded reason. */
async function expectRefused(options: OpenDpsOptions, returnCode: number, refusal: string): Promise<void> {
  const { client, connack } = await openDps(sim, options);
  assert.is(connack.returnCode, returnCode, refusal);
  assert.ok(await client.closesWithin(1000), "the server closes after refusing");
  assert.is(lastRecord().refusal, refusal);
  assert.is(lastRecord().closedBy, "server");
}

test("the well-formed CONNECT these checks start from is accepted", async () => {
  const { client, connack } = await openDps(sim, { registrationId: ID, key: KEY });
  assert.is(connack.returnCode, 0);
  await client.end();
});

test("wrong key → CONNACK 5", async () => {
  await expectRefused({ registrationId: ID, key: WRONG_KEY }, NOT_AUTHORIZED, "sas-signature-mismatch");
});

test("expired se → CONNACK 5", async () => {
  const expired = dpsSasToken(sim.idScope, ID, KEY, Math.floor(Date.now() / 1000) - 1);
  await expectRefused({ registrationId: ID, overrides: { password: Buffer.from(expired) } }, NOT_AUTHORIZED, "sas-expired");
});

test("SAS for another registration, or without skn=registration → CONNACK 5", async () => {
  const otherResource = dpsSasToken(sim.idScope, "someone-else", KEY, Math.floor(Date.now() / 1000) + 60);
  await expectRefused(
    { registrationId: ID, overrides: { password: Buffer.from(otherResource) } },
    NOT_AUTHORIZED,
    "sas-resource-mismatch",
  );
  const noKeyName = dpsSasToken(sim.idScope, ID, KEY, Math.floor(Date.now() / 1000) + 60).replace("&skn=registration", "");
  await expectRefused({ registrationId: ID, overrides: { password: Buffer.from(noKeyName) } }, NOT_AUTHORIZED, "sas-key-name-mismatch");
});

test("a password that is not a SAS token → CONNACK 4", async () => {
  await expectRefused(
    { registrationId: ID, overrides: { password: Buffer.from("hunter2") } },
    BAD_USERNAME_OR_PASSWORD,
    "password-not-a-sas-token",
  );
});

test("wrong client id → CONNACK 5", async () => {
  await expectRefused({ registrationId: ID, key: KEY, overrides: { clientId: "other" } }, NOT_AUTHORIZED, "client-id-mismatch");
});

test("wrong username: shape, api-version, parameters → CONNACK 4; unknown id scope → CONNACK 5", async () => {
  const cases: Array<[string, number, string]> = [
    ["", BAD_USERNAME_OR_PASSWORD, "username-malformed"],
    [`${sim.idScope}/${ID}/api-version=2019-03-31`, BAD_USERNAME_OR_PASSWORD, "username-malformed"],
    [`${sim.idScope}/registrations/${ID}/?api-version=2019-03-31`, BAD_USERNAME_OR_PASSWORD, "username-malformed"],
    [dpsUsername(sim.idScope, ID, "2018-11-01"), BAD_USERNAME_OR_PASSWORD, "api-version-unsupported"],
    [dpsUsername(sim.idScope, ID) + "&ClientVerison=x", BAD_USERNAME_OR_PASSWORD, "username-parameter-unknown"],
    [dpsUsername("0ne00000000", ID), NOT_AUTHORIZED, "id-scope-unknown"],
  ];
  for (const [username, returnCode, refusal] of cases) {
    await expectRefused({ registrationId: ID, key: KEY, overrides: { username } }, returnCode, refusal);
  }
});

test("newer api-versions and a ClientVersion parameter are accepted", async () => {
  for (const username of [
    dpsUsername(sim.idScope, ID, "2021-10-01"),
    dpsUsername(sim.idScope, ID) + "&ClientVersion=" + encodeURIComponent("azure-iot-mqtt-lite/0.1.0 (node 20)"),
  ]) {
    const { client, connack } = await openDps(sim, { registrationId: ID, key: KEY, overrides: { username } });
    assert.is(connack.returnCode, 0, username);
    await client.end();
  }
});

test("MQTT 3.1 and MQTT 5 → CONNACK 1", async () => {
  await expectRefused(
    { registrationId: ID, key: KEY, overrides: { protocolId: "MQIsdp", protocolVersion: 3 } },
    UNACCEPTABLE_PROTOCOL_VERSION,
    "protocol-level",
  );
  const client = await RawMqttClient.open({ port: sim.port, servername: sim.dpsHost, ca: sim.ca });
  const v5 = { ...dpsConnectPacket({ idScope: sim.idScope, registrationId: ID, key: KEY }), protocolVersion: 5 as const };
  client.sendBytes(mqtt.generate(v5, { protocolVersion: 5 }));
  assert.is((await client.expect("connack")).returnCode, UNACCEPTABLE_PROTOCOL_VERSION);
  assert.ok(await client.closesWithin(1000));
});

test("unknown registration, or no credential at all → CONNACK 5", async () => {
  await expectRefused({ registrationId: "nobody", key: KEY }, NOT_AUTHORIZED, "no-enrollment");
  await expectRefused({ registrationId: ID }, NOT_AUTHORIZED, "no-credentials");
});

test("X.509: CN must equal the registration id, chain to the CA, and match the enrollment's attestation", async () => {
  const mine = sim.issueDeviceCertificate("x509-only");
  const asOther = sim.issueDeviceCertificate("somebody");
  const stranger = issueClientCertificate(createCertificateAuthority("unrelated root"), "x509-only");
  const symmetric = sim.issueDeviceCertificate(ID);
  const certificate = (issued: { certificatePem: string; keyPem: string }) => ({ cert: issued.certificatePem, key: issued.keyPem });
  await expectRefused({ registrationId: "x509-only", certificate: certificate(asOther) }, NOT_AUTHORIZED, "certificate-cn-mismatch");
  await expectRefused({ registrationId: "x509-only", certificate: certificate(stranger) }, NOT_AUTHORIZED, "certificate-untrusted");
  await expectRefused({ registrationId: ID, certificate: certificate(symmetric) }, NOT_AUTHORIZED, "attestation-mismatch");
  await expectRefused({ registrationId: "x509-only", key: KEY }, NOT_AUTHORIZED, "attestation-mismatch");
  const { client, connack } = await openDps(sim, { registrationId: "x509-only", certificate: certificate(mine) });
  assert.is(connack.returnCode, 0);
  assert.is(lastRecord().clientCertificateCommonName, "x509-only");
  await client.end();
});

test("only $dps/registrations/res/# may be subscribed: anything else gets 0x80", async () => {
  const { client } = await openDps(sim, { registrationId: ID, key: KEY });
  client.send({
    cmd: "subscribe",
    messageId: 3,
    subscriptions: [
      { topic: "$dps/registrations/res/+", qos: 1 },
      { topic: "$dps/registrations/res/#", qos: 1 },
      { topic: "#", qos: 0 },
      { topic: "devices/checked-1/messages/devicebound/#", qos: 1 },
    ],
  });
  const suback = await client.expect("suback");
  assert.is(suback.messageId, 3);
  assert.equal(suback.granted, [0x80, 1, 0x80, 0x80]);
  await client.end();
});

test("protocol violations close the connection: not CONNECT first, QoS 2 publish, unknown topic", async () => {
  const first = await RawMqttClient.open({ port: sim.port, servername: sim.dpsHost, ca: sim.ca });
  first.send({ cmd: "pingreq" });
  assert.ok(await first.closesWithin(1000));
  assert.is(lastRecord().closeReason, "first-packet-not-connect");

  for (const [qos, topic, reason] of [
    [2, "$dps/registrations/PUT/iotdps-register/?$rid=1", "qos-2-publish"],
    [1, "$dps/registrations/PUT/other/?$rid=1", "unsupported-topic"],
    [1, "$dps/registrations/PUT/iotdps-register/", "unsupported-topic"],
  ] as const) {
    const { client } = await openDps(sim, { registrationId: ID, key: KEY });
    client.send({ cmd: "publish", topic, payload: Buffer.from("{}"), qos, dup: false, retain: false, messageId: 9 });
    assert.ok(await client.closesWithin(1000), reason);
    assert.is(lastRecord().closeReason, reason);
  }
});

test("TLS: no SNI, or a name the simulator does not serve, is closed; an untrusted server CA is refused by the client", async () => {
  const noSni = await RawMqttClient.open({ port: sim.port, ca: sim.ca });
  assert.ok(await noSni.closesWithin(1000));
  await waitFor(() => lastRecord().closeReason === "no-sni", "the no-SNI connection to be recorded");
  assert.is(lastRecord().host, undefined);

  // Only a client that skips the certificate check can get this far with a name the certificate does not cover.
  const stranger = connectTls({ host: "127.0.0.1", port: sim.port, servername: "unknown.example.test", rejectUnauthorized: false });
  stranger.on("error", () => undefined);
  await new Promise((resolve) => stranger.on("close", resolve));
  assert.equal([lastRecord().host, lastRecord().closeReason], ["unknown.example.test", "no-service-for-host"]);

  const before = sim.connections.length;
  const untrusted = createCertificateAuthority("unrelated root");
  let failure: (Error & { code?: string }) | undefined;
  try {
    await RawMqttClient.open({ port: sim.port, servername: sim.dpsHost, ca: untrusted.certificatePem });
  } catch (error) {
    failure = error as Error & { code?: string };
  }
  // The server sends its chain up to our root, so the client reports that root as untrusted.
  assert.is(failure?.code, "SELF_SIGNED_CERT_IN_CHAIN");
  assert.is(sim.connections.length, before, "no MQTT connection was ever opened");
});

test.run();
