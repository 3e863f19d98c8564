// Provisioning end to end: the library's DpsClient on the Node platform, over real TLS on
// loopback, against the simulator. Behaviour is judged from the simulator's record.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { DpsClient, type DpsOptions, type DpsStep } from "../../core/dps";
import { nodePlatform } from "../../platform-node/platform";
import { createCertificateAuthority } from "../../simulator/certificates";
import { startSimulator, type Simulator } from "../../simulator/index";
import { guardProcess } from "../helpers/process-guard";
import { waitFor } from "../helpers/wait-for";

const flows = suite<{ sim: Simulator; guard: ReturnType<typeof guardProcess> }>("dps over TLS");
let counter = 0;

function newKey(): string {
  return randomBytes(32).toString("base64");
}

function enroll(sim: Simulator, settings: Record<string, unknown> = {}): { registrationId: string; key: string } {
  const registrationId = "flow-dev-" + ++counter;
  const key = newKey();
  sim.dps.enrollIndividual({ registrationId, attestation: { type: "symmetricKey", primaryKey: key }, ...settings } as any);
  return { registrationId, key };
}

function client(sim: Simulator, options: Partial<DpsOptions> & { registrationId: string }, steps?: DpsStep[]): DpsClient {
  const platform = nodePlatform({ resolve: (host) => sim.resolve(host), ca: sim.ca });
  return new DpsClient(platform, {
    idScope: sim.idScope,
    host: sim.dpsHost,
    requestTimeoutMs: 5000,
    onStep: steps ? (step) => steps.push(step) : undefined,
    ...options,
  });
}

function records(sim: Simulator, registrationId: string) {
  return sim.connections.filter((c) => c.clientId === registrationId);
}

flows.before(async (context) => {
  context.guard = guardProcess();
  context.sim = await startSimulator({ dps: { retryAfterSeconds: 0 } });
});

flows.after(async (context) => {
  await context.sim.close();
  context.guard.release();
  assert.equal(context.guard.problems, [], "no unhandled rejection or uncaught exception");
});

flows("individual enrollment: assigned, payload sent and returned, DISCONNECT at the end", async ({ sim }) => {
  const { registrationId, key } = enroll(sim, {
    customAllocation: (request: { payload: any }) => ({ payload: { echo: request.payload, tier: "gold" } }),
  });
  const result = await client(sim, { registrationId, symmetricKey: key, payload: { site: "north", n: 1 } }).register();
  assert.is(result.assignedHub, sim.hubs[0]);
  assert.is(result.deviceId, registrationId);
  assert.is(result.status, "assigned");
  assert.equal(result.payload, { echo: { site: "north", n: 1 }, tier: "gold" });
  assert.ok(result.operationId && result.etag && result.createdDateTimeUtc);
  const [record] = records(sim, registrationId);
  assert.is(record.refusal, undefined);
  await waitFor(() => record.closedAtMs !== undefined, "the simulator to see the connection close");
  const inbound = record.packets.filter((p) => p.direction === "in").map((p) => p.packet.cmd);
  assert.equal(inbound.slice(0, 2), ["connect", "subscribe"]);
  assert.is(inbound[inbound.length - 1], "disconnect");
  assert.is(record.closedBy, "client");
});

flows("group enrollment: the device key is derived from the group key", async ({ sim }) => {
  const groupKey = newKey();
  sim.dps.enrollGroup({ enrollmentGroupId: "group-" + ++counter, attestation: { type: "symmetricKey", primaryKey: groupKey } });
  const result = await client(sim, { registrationId: "group-member-" + counter, groupKey }).register();
  assert.is(result.deviceId, "group-member-" + counter);
  assert.ok(sim.assignedDevice(result.assignedHub, result.deviceId));
});

flows("X.509: the client certificate is the credential, no password", async ({ sim }) => {
  const registrationId = "x509-dev-" + ++counter;
  sim.dps.enrollIndividual({ registrationId, attestation: { type: "x509" } });
  const certificate = sim.issueDeviceCertificate(registrationId);
  const result = await client(sim, { registrationId, cert: certificate.certificatePem, key: certificate.keyPem }).register();
  assert.is(result.deviceId, registrationId);
  const [record] = records(sim, registrationId);
  assert.is(record.clientCertificateCommonName, registrationId);
  assert.is(record.sas, undefined);
});

flows("202 with retry-after: no poll before it, judged from the simulator's record", async ({ sim }) => {
  const { registrationId, key } = enroll(sim, { behaviour: { retryAfterSeconds: 1, assigningPolls: 1 } });
  const steps: DpsStep[] = [];
  await client(sim, { registrationId, symmetricKey: key }, steps).register();
  const packets = records(sim, registrationId)[0].packets;
  const requests = packets.filter((p) => p.direction === "in" && p.packet.cmd === "publish");
  const answers = packets.filter((p) => p.direction === "out" && p.packet.cmd === "publish" && (p.packet as any).topic.includes("/res/202/"));
  assert.is(requests.length, 3, "register and two polls");
  assert.is(answers.length, 2);
  for (let i = 0; i < 2; i++) {
    const waited = requests[i + 1].atMs - answers[i].atMs;
    assert.ok(waited >= 995, "poll " + (i + 1) + " came " + waited.toFixed(1) + " ms after its 202 with retry-after=1");
  }
  assert.equal(steps.map((s) => s.step), ["connect", "connected", "subscribed", "register", "assigning", "poll", "assigning", "poll", "assigned"]);
});

flows("429 with retry-after, then success", async ({ sim }) => {
  const { registrationId, key } = enroll(sim);
  sim.dps.injectFault({ step: "register", registrationId, action: { kind: "error", status: 429, retryAfterSeconds: 1 } });
  const steps: DpsStep[] = [];
  const started = performance.now();
  await client(sim, { registrationId, symmetricKey: key }, steps).register();
  assert.ok(performance.now() - started >= 990, "waited for retry-after");
  assert.equal(steps.filter((s) => s.step === "retry").map((s) => s.reason), ["DPS_THROTTLED"]);
});

flows("500 then success, with backoff", async ({ sim }) => {
  const { registrationId, key } = enroll(sim);
  sim.dps.injectFault({ step: "register", registrationId, action: { kind: "error", status: 500, retryAfterSeconds: "omit" } });
  const steps: DpsStep[] = [];
  await client(sim, { registrationId, symmetricKey: key }, steps).register();
  assert.equal(steps.filter((s) => s.step === "retry").map((s) => s.reason), ["DPS_SERVICE_ERROR"]);
});

flows("a connection dropped after SUBACK: reconnect, then success", async ({ sim }) => {
  const { registrationId, key } = enroll(sim);
  sim.dps.injectFault({ step: "register", registrationId, action: { kind: "drop" } });
  const result = await client(sim, { registrationId, symmetricKey: key }).register();
  assert.is(result.deviceId, registrationId);
  assert.is(records(sim, registrationId).length, 2, "a second connection");
});

flows("'failed' and 'disabled' are typed errors", async ({ sim }) => {
  const failed = enroll(sim, { behaviour: { outcome: { status: "failed", errorCode: 400209, errorMessage: "no hub for you" } } });
  const error = await client(sim, { registrationId: failed.registrationId, symmetricKey: failed.key }).register().catch((e) => e);
  assert.is(error.code, "DPS_FAILED");
  assert.is(error.errorCode, 400209);
  assert.ok(error.message.includes("no hub for you"));
  const disabled = enroll(sim, { behaviour: { outcome: { status: "disabled" } } });
  const error2 = await client(sim, { registrationId: disabled.registrationId, symmetricKey: disabled.key }).register().catch((e) => e);
  assert.is(error2.code, "DPS_DISABLED");
});

flows("the wrong key: CONNACK not authorized, no retry, the key never in the error", async ({ sim }) => {
  const { registrationId } = enroll(sim);
  const wrongKey = newKey();
  const error = await client(sim, { registrationId, symmetricKey: wrongKey }).register().catch((e) => e);
  assert.is(error.code, "CONNECT_REFUSED_NOT_AUTHORIZED");
  assert.not.ok(String(error.message).includes(wrongKey));
  assert.is(records(sim, registrationId).length, 1);
});

flows("a silent server: DPS_TIMEOUT within the deadline", async ({ sim }) => {
  const { registrationId, key } = enroll(sim);
  sim.dps.injectFault({ step: "register", registrationId, action: { kind: "silence" }, times: Infinity });
  const started = performance.now();
  const error = await client(sim, { registrationId, symmetricKey: key, timeoutMs: 2500, requestTimeoutMs: 800 }).register().catch((e) => e);
  const elapsed = performance.now() - started;
  assert.is(error.code, "DPS_TIMEOUT");
  assert.ok(elapsed >= 2400 && elapsed < 3500, "ended at the deadline: " + elapsed.toFixed(0) + " ms");
  await waitFor(() => records(sim, registrationId).every((r) => r.closedAtMs !== undefined), "every connection to close");
});

flows("a server certificate from an untrusted CA is refused", async ({ sim }) => {
  const { registrationId, key } = enroll(sim);
  const otherCa = createCertificateAuthority().certificatePem;
  const platform = nodePlatform({ resolve: (host) => sim.resolve(host), ca: otherCa });
  const error = await new DpsClient(platform, { idScope: sim.idScope, registrationId, symmetricKey: key, host: sim.dpsHost }).register().catch((e) => e);
  assert.is(error.code, "TLS_CERTIFICATE_INVALID");
  assert.is(records(sim, registrationId).filter((r) => r.clientId).length, 0, "no CONNECT was ever sent");
});

flows("cancel() mid-flow ends it with CANCELLED and closes the connection", async ({ sim }) => {
  const { registrationId, key } = enroll(sim, { behaviour: { retryAfterSeconds: 5, assigningPolls: 3 } });
  const dps = client(sim, { registrationId, symmetricKey: key });
  const pending = dps.register();
  await new Promise((resolve) => setTimeout(resolve, 300));
  dps.cancel();
  const error = await pending.catch((e) => e);
  assert.is(error.code, "CANCELLED");
  await waitFor(() => records(sim, registrationId)[0].closedAtMs !== undefined, "the connection to close");
  assert.is(records(sim, registrationId)[0].closedBy, "client");
});

flows.run();
