// Starting, naming, resolving and closing the simulator; keep-alive on its connections.
import { randomBytes } from "node:crypto";
import { connect as connectTcp } from "node:net";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startSimulator } from "../../simulator";
import { openDps, sendDpsConnect, subscribeToResponses } from "../helpers/raw-dps-flow";
import { addTestDevice, C2D, METHODS, nextPublish, openHub, subscribe, telemetryTopic } from "../helpers/raw-hub-flow";
import { RawMqttClient } from "../helpers/raw-mqtt-client";
import { waitFor } from "../helpers/wait-for";

const NETWORK_AND_TIMERS = new Set(["TLSWrap", "TCPServerWrap", "TCPSocketWrap", "Timeout"]);

/** Sockets, servers and timers alive in this process, by kind, e.g. { TLSWrap: 2, Timeout: 1 }. */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (NETWORK_AND_TIMERS.has(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

test("resolve maps every served name, in any case, to the loopback port; other names throw", async () => {
  const sim = await startSimulator();
  try {
    for (const host of [sim.dpsHost, "localhost", "SIM-HUB-1.azure-devices.net", "127.0.0.1"]) {
      assert.equal(sim.resolve(host), { host: "127.0.0.1", port: sim.port }, host);
    }
    assert.throws(() => sim.resolve("global.azure-devices-provisioning.net"), /does not serve/);
    assert.is(sim.dpsHost, "sim-dps.azure-devices-provisioning.net");
    assert.equal(sim.hubs, ["sim-hub-1.azure-devices.net"]);
    assert.match(sim.idScope, /^0ne[0-9A-Z]{8}$/);
  } finally {
    await sim.close();
  }
});

test("custom names are served and covered by the certificate; enrollments may only name served hubs", async () => {
  const sim = await startSimulator({ idScope: "0ne00ABCDEF", dpsHost: "my-dps.example.test", hubs: ["hub-a.example.test", "hub-b.example.test"] });
  try {
    const key = randomBytes(32).toString("base64");
    sim.dps.enrollIndividual({ registrationId: "named-1", attestation: { type: "symmetricKey", primaryKey: key }, assignedHub: "hub-b.example.test" });
    const { client, connack } = await openDps(sim, { registrationId: "named-1", key });
    assert.is(connack.returnCode, 0);
    await client.end();
    for (const servername of sim.hubs) {
      const hub = await RawMqttClient.open({ port: sim.resolve(servername).port, servername, ca: sim.ca });
      await hub.end(); // the certificate verified for this name
    }
    await waitFor(() => sim.connections.length === 3, "the hub connections to be recorded");
    assert.equal(sim.connections.slice(1).map((record) => [record.host, record.service]), [
      ["hub-a.example.test", "hub"],
      ["hub-b.example.test", "hub"],
    ]);
    assert.throws(
      () => sim.dps.enrollGroup({ enrollmentGroupId: "g", attestation: { type: "x509" }, assignedHub: "hub-c.example.test" }),
      /does not serve/,
    );
  } finally {
    await sim.close();
  }
});

test("the server drops a client silent for 1.5 x its keep-alive (MQTT-3.1.2-24)", async () => {
  const sim = await startSimulator();
  try {
    const key = randomBytes(32).toString("base64");
    sim.dps.enrollIndividual({ registrationId: "sleepy-1", attestation: { type: "symmetricKey", primaryKey: key } });
    const { client } = await openDps(sim, { registrationId: "sleepy-1", key, overrides: { keepalive: 1 } });
    const connectedAt = Date.now();
    await client.closed;
    const silentMs = Date.now() - connectedAt;
    assert.ok(silentMs >= 1400 && silentMs < 2500, `dropped after ${silentMs} ms`);
    assert.is(sim.connections[0].closeReason, "keep-alive-timeout");
  } finally {
    await sim.close();
  }
});

test("a connection that sends no CONNECT in time is closed; one that does is kept", async () => {
  const sim = await startSimulator({ connectWaitMs: 300 });
  try {
    const key = randomBytes(32).toString("base64");
    sim.dps.enrollIndividual({ registrationId: "prompt-1", attestation: { type: "symmetricKey", primaryKey: key } });
    const silent = await RawMqttClient.open({ port: sim.port, servername: sim.dpsHost, ca: sim.ca });
    const { client: prompt } = await openDps(sim, { registrationId: "prompt-1", key });
    assert.ok(await silent.closesWithin(2000), "the silent connection is closed");
    assert.ok(await prompt.staysQuiet(600), "the one that sent CONNECT stays open past the wait");
    const silentRecord = sim.connections.find((record) => record.packets.length === 0);
    assert.is(silentRecord?.closedBy, "server");
    assert.is(silentRecord?.closeReason, "no-connect-in-time");
    await prompt.end();
  } finally {
    await sim.close();
  }
});

test("close() ends connections in every state and leaves no handle or timer behind", async () => {
  // Earlier tests' sockets may take a moment to be released; start from a settled process.
  await waitFor(() => Object.keys(activeResources()).length === 0, "earlier sockets to be released");
  const before = activeResources();
  const sim = await startSimulator();
  const key = randomBytes(32).toString("base64");
  sim.dps.enrollIndividual({ registrationId: "closing-1", attestation: { type: "symmetricKey", primaryKey: key } });
  const subscribed = (await openDps(sim, { registrationId: "closing-1", key })).client;
  await subscribeToResponses(subscribed);
  sim.dps.injectFault({ step: "connect", action: { kind: "silence" } });
  const silent = await sendDpsConnect(sim, { registrationId: "closing-1", key });
  const idle = await RawMqttClient.open({ port: sim.port, servername: sim.dpsHost, ca: sim.ca });
  const handshaking = connectTcp({ host: "127.0.0.1", port: sim.port });
  const handshakingClosed = new Promise((resolve) => handshaking.on("close", resolve));
  handshaking.on("error", () => undefined);
  await waitFor(() => sim.connections.length === 3 && sim.connections[1].packets.length === 1, "three connections");

  await sim.close();
  await Promise.all([subscribed.closed, silent.closed, idle.closed, handshakingClosed]);
  assert.equal(
    sim.connections.map((record) => [record.closedBy, record.closeReason]),
    [
      ["server", "simulator-closed"],
      ["server", "simulator-closed"],
      ["server", "simulator-closed"],
    ],
  );
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(activeResources(), before);
});

test("close() also settles the hubs: live devices, a pending method, a telemetry waiter, a kept session; no will, no handle", async () => {
  await waitFor(() => Object.keys(activeResources()).length === 0, "earlier sockets to be released");
  const before = activeResources();
  const sim = await startSimulator();
  const hub = sim.hub();
  const busy = addTestDevice(sim, "busy");
  const will = { topic: telemetryTopic(busy.deviceId), payload: Buffer.from("bye"), qos: 0 as const, retain: false };
  const { client } = await openHub(sim, { ...busy, clean: false, will });
  await subscribe(client, [C2D(busy.deviceId), METHODS]);
  hub.sendC2D(busy.deviceId, "never acknowledged");
  await nextPublish(client, { ack: false });
  const invocation = hub.invokeMethod(busy.deviceId, "wait", {}, { timeoutMs: 30_000 });
  await nextPublish(client, { ack: false });
  const away = addTestDevice(sim, "away");
  const kept = await openHub(sim, { ...away, clean: false });
  await subscribe(kept.client, [C2D(away.deviceId)]);
  await kept.client.end();
  const queued = hub.sendC2D(away.deviceId, "for later");
  const waiter = hub.nextTelemetry(away.deviceId, 30_000);

  await sim.close();
  const outcomes = await Promise.allSettled([invocation, waiter]);
  assert.equal(outcomes.map((outcome) => outcome.status), ["rejected", "rejected"]);
  await client.closed;
  assert.is(sim.connections[0].closeReason, "simulator-closed");
  assert.is(hub.telemetry.length, 0, "a simulator shutting down forwards no will");
  assert.is(queued.state, "queued", "a kept session simply ends with the simulator");
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(activeResources(), before);
});

test.run();
