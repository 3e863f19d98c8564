// The IoT Hub client end to end: the library's HubClient on the Node platform, over real TLS on
// loopback, against the simulator's hub. What the hub saw is judged from its own records.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { HubClient, type C2dMessage, type HubEvents } from "../../core/hub";
import { connectViaDps } from "../../core/connect-via-dps";
import type { HubOptions } from "../../core/hub-options";
import { nodePlatform } from "../../platform-node/platform";
import { startSimulator, type Simulator } from "../../simulator/index";
import { guardProcess } from "../helpers/process-guard";
import { waitFor } from "../helpers/wait-for";

const flows = suite<{ sim: Simulator; guard: ReturnType<typeof guardProcess>; clients: HubClient[] }>("hub over TLS");
let counter = 0;

function platform(sim: Simulator) {
  return nodePlatform({ resolve: (host) => sim.resolve(host), ca: sim.ca });
}

function device(sim: Simulator, extra: Partial<HubOptions> = {}, context?: { clients: HubClient[] }): { client: HubClient; deviceId: string } {
  const deviceId = "hub-dev-" + ++counter;
  const { connectionString } = sim.hub().addDevice({ deviceId });
  const client = new HubClient(platform(sim), { connectionString, reconnectMinMs: 50, reconnectMaxMs: 200, ...extra });
  context?.clients.push(client);
  return { client, deviceId };
}

function nextEvent<T = any>(client: HubClient, event: string, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no " + event + " event in time")), timeoutMs);
    const listener = (value: T) => {
      clearTimeout(timer);
      client.off(event as "error", listener as unknown as HubEvents["error"]);
      resolve(value);
    };
    client.on(event as "error", listener as unknown as HubEvents["error"]);
  });
}

flows.before(async (context) => {
  context.guard = guardProcess();
  context.sim = await startSimulator({ hubs: ["sim-hub-1.azure-devices.net", "sim-hub-2.azure-devices.net"], dps: { retryAfterSeconds: 0 } });
  context.clients = [];
});

flows.after.each(async (context) => {
  await Promise.all(context.clients.map((client) => client.close()));
  context.clients = [];
});

flows.after(async (context) => {
  await context.sim.close();
  context.guard.release();
  assert.equal(context.guard.problems, [], "no unhandled rejection or uncaught exception");
});

flows("telemetry: property bags with spaces, &, =, / and non-ASCII arrive exactly, with system properties", async (context) => {
  const { sim } = context;
  const { client, deviceId } = device(sim, {}, context);
  await client.connect();
  const properties = { "room name": "Kitchen & Dining", "a=b": "c/d", "ünïcödé": "€ 5 ✓", plus: "1+1" };
  await client.sendTelemetry({ temperature: 21.5, note: "ü" }, { properties, messageId: "msg-1", correlationId: "corr/1", creationTime: "2026-11-22T10:00:00Z", component: "thermostat1" });
  const message = await sim.hub().nextTelemetry(deviceId);
  assert.equal(message.properties, properties);
  assert.equal(message.systemProperties, {
    "$.mid": "msg-1",
    "$.cid": "corr/1",
    "$.ct": "application/json",
    "$.ce": "utf-8",
    "$.ctime": "2026-11-22T10:00:00Z",
    "$.sub": "thermostat1",
  });
  assert.equal(JSON.parse(message.payload.toString("utf8")), { temperature: 21.5, note: "ü" });
  assert.is(message.qos, 1);
  assert.is(message.dup, false);
});

flows("cloud-to-device: delivered with decoded properties, then acknowledged", async (context) => {
  const { sim } = context;
  const { client, deviceId } = device(sim, {}, context);
  const received: C2dMessage[] = [];
  client.on("message", (message: C2dMessage) => received.push(message));
  await client.connect();
  const sent = sim.hub().sendC2D(deviceId, "turn on ✓", { "lamp id": "a&b=c/d", "ünï": "€" }, { messageId: "c2d-1", correlationId: "x/y", contentType: "text/plain" });
  assert.is(await sent.settled, "acknowledged");
  assert.is(received.length, 1);
  assert.is(Buffer.from(received[0].payload).toString("utf8"), "turn on ✓");
  assert.equal(received[0].properties, { "lamp id": "a&b=c/d", "ünï": "€" });
  assert.is(received[0].systemProperties.messageId, "c2d-1");
  assert.is(received[0].systemProperties.correlationId, "x/y");
  assert.is(received[0].systemProperties.contentType, "text/plain");
  assert.is(received[0].systemProperties.to, "/devices/" + deviceId + "/messages/devicebound");
});

flows("twin: GET, reported PATCH with the new version, desired patches pushed with their version", async (context) => {
  const { sim } = context;
  const { client, deviceId } = device(sim, {}, context);
  await client.connect();
  const before = await client.getTwin();
  const version = await client.updateReported({ firmware: "1.2.0", nested: { a: 1, b: 2 } });
  assert.is(version, before.reported.$version + 1);
  await client.updateReported({ nested: { b: null } });
  const twin = sim.hub().twin(deviceId);
  assert.equal(twin.reported.nested, { a: 1 }, "null deleted a member, nested merge kept the rest");
  assert.is(twin.reported.firmware, "1.2.0");
  const pushed = nextEvent<any>(client, "desired");
  const { version: desiredVersion } = sim.hub().patchDesired(deviceId, { interval: 5 });
  const desired = await pushed;
  assert.is(desired.interval, 5);
  assert.is(desired.$version, desiredVersion);
});

flows("direct methods: by name, catch-all echo, a throwing handler (500), none (501)", async (context) => {
  const { sim } = context;
  const { client, deviceId } = device(sim, {}, context);
  client.onMethod("reboot", (request) => ({ status: 200, payload: { delay: JSON.parse(Buffer.from(request.payload).toString()).delay, ok: true } }));
  client.onMethod("explode", () => {
    throw new Error("kaput");
  });
  await client.connect();
  const hub = sim.hub();
  assert.equal(await hub.invokeMethod(deviceId, "reboot", { delay: 3 }), { status: 200, payload: { delay: 3, ok: true } });
  const failed = await hub.invokeMethod(deviceId, "explode", {});
  assert.is(failed.status, 500);
  const missing = await hub.invokeMethod(deviceId, "nope", {});
  assert.is(missing.status, 501);
  assert.ok(String((missing.payload as any).message).includes("nope"), "a clear error, not a silent timeout");
  client.onMethod("*", (request) => ({ status: 202, payload: request.payload }));
  assert.equal(await hub.invokeMethod(deviceId, "anything", { echo: [1, "two"] }), { status: 202, payload: { echo: [1, "two"] } });
});

flows("will: forwarded as telemetry when the connection drops without DISCONNECT, not after close()", async (context) => {
  const { sim } = context;
  const { client, deviceId } = device(sim, { will: { payload: '{"state":"gone"}', properties: { reason: "link lost" }, contentType: "application/json" } }, context);
  await client.connect();
  sim.hub().dropConnection(deviceId);
  const will = await sim.hub().nextTelemetry(deviceId);
  assert.is(will.will, true);
  assert.is(will.properties.reason, "link lost");
  assert.is(will.payload.toString(), '{"state":"gone"}');
  await waitFor(() => client.connected, "the client to reconnect", 3000);
  await client.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.is(sim.hub().telemetryOf(deviceId).filter((m) => m.will).length, 1, "no will after a clean close");
});

flows("reconnect after a server drop: re-subscribes, resyncs the twin, re-sends unacknowledged telemetry with DUP", async (context) => {
  const { sim } = context;
  const { client, deviceId } = device(sim, {}, context);
  const desired: any[] = [];
  client.on("desired", (value, version, complete) => desired.push({ value, version, complete }));
  await client.connect();
  await waitFor(() => desired.length === 1, "the first twin sync");
  const hub = sim.hub();
  hub.injectFault({ step: "telemetry", deviceId, action: { kind: "no-ack" }, times: 2 });
  const pending = [client.sendTelemetry("first"), client.sendTelemetry("second")];
  await waitFor(() => hub.telemetryOf(deviceId).length === 2, "both messages to reach the hub unacknowledged");
  hub.dropConnection(deviceId);
  const { version } = hub.patchDesired(deviceId, { mode: "eco" });
  await Promise.all(pending);
  const seen = hub.telemetryOf(deviceId).filter((m) => !m.will);
  assert.equal(seen.map((m) => [m.payload.toString(), m.dup]), [["first", false], ["second", false], ["first", true], ["second", true]]);
  await waitFor(() => desired.length === 2, "the missed desired change");
  assert.equal(desired[1], { value: { ...hub.twin(deviceId).desired }, version, complete: true });
  const after = sim.connections.filter((c) => c.clientId === deviceId).pop()!;
  const subscribed = after.packets.filter((p) => p.direction === "in" && p.packet.cmd === "subscribe");
  assert.is(subscribed.length, 1, "subscribed again on the new connection");
});

flows("SAS renewal with a short TTL: fresh tokens on new connections, and the device stays usable", async (context) => {
  const { sim } = context;
  const { client, deviceId } = device(sim, { sasTtlSeconds: 2 }, context);
  const disconnects: string[] = [];
  client.on("disconnected", (error: any) => disconnects.push(error.code));
  await client.connect();
  await new Promise((resolve) => setTimeout(resolve, 3800));
  const connections = sim.connections.filter((c) => c.clientId === deviceId);
  assert.ok(connections.length >= 3, "renewed at least twice: " + connections.length);
  const expiries = connections.map((c) => c.sas!.expirySeconds);
  assert.ok(expiries.every((se, i) => i === 0 || se >= expiries[i - 1]), "each token at least as fresh");
  assert.ok(connections.every((c) => c.refusal === undefined), "no token was refused");
  assert.ok(disconnects.every((code) => code === "SAS_RENEWAL"), disconnects.join(","));
  await client.sendTelemetry("still here");
  assert.is((await sim.hub().nextTelemetry(deviceId)).payload.toString(), "still here");
});

flows("a second connection for the same device drops the first, which reports it", async (context) => {
  const { sim } = context;
  const deviceId = "hub-dev-" + ++counter;
  const { connectionString } = sim.hub().addDevice({ deviceId });
  const first = new HubClient(platform(sim), { connectionString, reconnectMinMs: 5000 });
  const second = new HubClient(platform(sim), { connectionString, reconnectMinMs: 5000 });
  context.clients.push(first, second);
  await first.connect();
  const dropped = nextEvent<any>(first, "disconnected");
  await second.connect();
  const error = await dropped;
  assert.is(error.code, "CONNECTION_LOST");
  assert.ok(error.retryable);
  assert.not.ok(first.connected);
  assert.ok(second.connected);
  const record = sim.connections.find((c) => c.clientId === deviceId)!;
  assert.ok(record.closeReason && record.closeReason.includes("400027"), "the hub says why (Azure's 400027): " + record.closeReason);
});

flows("offline queue: bounded by count, flushed in order once connected", async (context) => {
  const { sim } = context;
  const { client, deviceId } = device(sim, { maxQueuedMessages: 3 }, context);
  const queued = [client.sendTelemetry("one"), client.sendTelemetry("two"), client.sendTelemetry("three")];
  const refused = await client.sendTelemetry("four").catch((error) => error);
  assert.is(refused.code, "QUEUE_FULL");
  await client.connect();
  await Promise.all(queued);
  assert.equal(sim.hub().telemetryOf(deviceId).map((m) => m.payload.toString()), ["one", "two", "three"]);
});

flows("close() settles everything pending and sends DISCONNECT", async (context) => {
  const { sim } = context;
  const { client, deviceId } = device(sim, {}, context);
  await client.connect();
  const hub = sim.hub();
  hub.injectFault({ step: "telemetry", deviceId, action: { kind: "no-ack" } });
  hub.injectFault({ step: "twin-get", deviceId, action: { kind: "silence" } });
  const telemetry = client.sendTelemetry("never acknowledged");
  await waitFor(() => hub.telemetryOf(deviceId).length === 1, "the message to arrive");
  const twin = client.getTwin();
  await client.close();
  assert.is((await telemetry.catch((e) => e)).code, "CLIENT_CLOSED");
  assert.is((await twin.catch((e) => e)).code, "CLIENT_CLOSED");
  const record = sim.connections.filter((c) => c.clientId === deviceId).pop()!;
  await waitFor(() => record.closedAtMs !== undefined, "the connection to close");
  assert.ok(record.packets.some((p) => p.direction === "in" && p.packet.cmd === "disconnect"));
});

flows("twin 429 is retried, then succeeds", async (context) => {
  const { sim } = context;
  const { client, deviceId } = device(sim, {}, context);
  await client.connect();
  sim.hub().injectFault({ step: "twin-patch", deviceId, action: { kind: "error", status: 429 } });
  const version = await client.updateReported({ x: 1 });
  assert.is(version, sim.hub().twin(deviceId).reported.$version);
});

flows("from DPS: provision, connect; after the hub keeps refusing, provision again and move hubs", async (context) => {
  const { sim } = context;
  const registrationId = "moving-dev-" + ++counter;
  const key = randomBytes(32).toString("base64");
  sim.dps.enrollIndividual({ registrationId, attestation: { type: "symmetricKey", primaryKey: key }, assignedHub: "sim-hub-1.azure-devices.net" });
  const { client, provisioning } = await connectViaDps(platform(sim), {
    dps: { idScope: sim.idScope, registrationId, symmetricKey: key, host: sim.dpsHost, requestTimeoutMs: 3000 },
    hub: { reconnectMinMs: 20, reconnectMaxMs: 50 },
    reprovisionAfter: 2,
  });
  context.clients.push(client);
  assert.is(provisioning.assignedHub, "sim-hub-1.azure-devices.net");
  await client.sendTelemetry("on hub 1");
  // The device moves: its enrollment now points at hub 2, and hub 1 refuses its key.
  sim.dps.enrollIndividual({ registrationId, attestation: { type: "symmetricKey", primaryKey: key }, assignedHub: "sim-hub-2.azure-devices.net" });
  sim.hub("sim-hub-1.azure-devices.net").revokeKeys(registrationId);
  const reprovisioned = nextEvent(client, "reprovisioning", 5000);
  sim.hub("sim-hub-1.azure-devices.net").dropConnection(registrationId);
  await reprovisioned;
  await waitFor(() => client.connected && client.hostName === "sim-hub-2.azure-devices.net", "the client on hub 2", 5000);
  await client.sendTelemetry("on hub 2");
  assert.is((await sim.hub("sim-hub-2.azure-devices.net").nextTelemetry(registrationId)).payload.toString(), "on hub 2");
});

flows("X.509: a device authenticates with its certificate", async (context) => {
  const { sim } = context;
  const deviceId = "x509-hub-" + ++counter;
  const { connectionString } = sim.hub().addDevice({ deviceId, x509: true });
  const certificate = sim.issueDeviceCertificate(deviceId);
  const client = new HubClient(platform(sim), { connectionString, cert: certificate.certificatePem, key: certificate.keyPem });
  context.clients.push(client);
  await client.connect();
  await client.sendTelemetry("x509 ok");
  assert.is((await sim.hub().nextTelemetry(deviceId)).payload.toString(), "x509 ok");
});

flows("a module identity: telemetry and methods, no cloud-to-device subscription", async (context) => {
  const { sim } = context;
  const deviceId = "mod-host-" + ++counter;
  const { connectionString } = sim.hub().addDevice({ deviceId, moduleId: "sensor" });
  const client = new HubClient(platform(sim), { connectionString });
  context.clients.push(client);
  client.onMethod("ping", () => ({ status: 200, payload: "pong" }));
  await client.connect();
  await client.sendTelemetry("from module");
  assert.is((await sim.hub().nextTelemetry(deviceId + "/sensor")).payload.toString(), "from module");
  assert.equal(await sim.hub().invokeMethod(deviceId + "/sensor", "ping"), { status: 200, payload: "pong" });
});

flows.run();
