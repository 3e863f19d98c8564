// The shipped command line (dist/node/cli.mjs, built before tests) against the simulator.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator, type Simulator } from "../../simulator/index";

const cli = suite<{ sim: Simulator; caFile: string }>("command line");
const CLI = join(process.cwd(), "dist/node/cli.mjs");

function run(args: string[], env?: NodeJS.ProcessEnv, killAfterMs = 30000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Killed (code null) if it outlives killAfterMs: a run that never ends fails instead of hanging.
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: killAfterMs, killSignal: "SIGKILL" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

cli.before(async (context) => {
  context.sim = await startSimulator({ dps: { retryAfterSeconds: 0 } });
  context.caFile = join(mkdtempSync(join(tmpdir(), "aiml-cli-")), "ca.pem");
  writeFileSync(context.caFile, context.sim.ca);
});

cli.after(async ({ sim }) => {
  await sim.close();
});

// The simulator serves DPS as "localhost" too, so the CLI needs no host mapping.
const endpoint = (sim: Simulator, caFile: string) => ["--host", "localhost", "--port", String(sim.port), "--ca", caFile];

cli("provision prints the result as JSON and exits 0", async ({ sim, caFile }) => {
  const key = randomBytes(32).toString("base64");
  sim.dps.enrollIndividual({ registrationId: "cli-dev-1", attestation: { type: "symmetricKey", primaryKey: key }, customAllocation: () => ({ payload: { ok: true } }) });
  const { code, stdout, stderr } = await run(["provision", "--id-scope", sim.idScope, "--registration-id", "cli-dev-1", "--symmetric-key", key, "--payload", '{"a":1}', ...endpoint(sim, caFile)]);
  assert.is(code, 0, stderr);
  const result = JSON.parse(stdout);
  assert.is(result.deviceId, "cli-dev-1");
  assert.is(result.assignedHub, sim.hubs[0]);
  assert.equal(result.payload, { ok: true });
});

cli("a refused device prints the typed error and exits 1, without the key", async ({ sim, caFile }) => {
  const key = randomBytes(32).toString("base64");
  const { code, stdout, stderr } = await run(["provision", "--id-scope", sim.idScope, "--registration-id", "cli-unknown", "--symmetric-key", key, ...endpoint(sim, caFile)]);
  assert.is(code, 1);
  assert.is(stdout, "");
  const { error } = JSON.parse(stderr);
  assert.is(error.code, "CONNECT_REFUSED_NOT_AUTHORIZED");
  assert.not.ok(stderr.includes(key));
});

cli("options the library refuses before any connection are usage mistakes: exit 2, the typed error as JSON", async ({ sim, caFile }) => {
  for (const [args, expected] of [
    [["provision", "--id-scope", sim.idScope, "--registration-id", "x", "--symmetric-key", "not*base64", ...endpoint(sim, caFile)], "KEY_INVALID"],
    [["provision", "--id-scope", sim.idScope, "--registration-id", "bad id/slash", "--symmetric-key", "a2V5", ...endpoint(sim, caFile)], "REGISTRATION_ID_INVALID"],
    [["device", "--connection-string", "HostName=h;DeviceId=d"], "CONNECTION_STRING_CREDENTIAL"],
  ] as Array<[string[], string]>) {
    const { code, stderr } = await run(args);
    assert.is(code, 2, args.join(" "));
    assert.is(JSON.parse(stderr).error.code, expected);
  }
});

cli("--help after a command prints the usage and exits 0; a stray value is not echoed (it may be a key)", async () => {
  const help = await run(["provision", "--help"]);
  assert.is(help.code, 0);
  assert.ok(help.stdout.includes("usage:"));
  const stray = await run(["provision", "--id-scope", "0ne00000001", "SECRET-KEY-MATERIAL"]);
  assert.is(stray.code, 2);
  assert.not.ok(stray.stderr.includes("SECRET-KEY-MATERIAL"));
});

cli("what is given where a file path or the command belongs (a key, a PEM, a connection string) is never echoed", async () => {
  const key = randomBytes(32).toString("base64");
  const pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg" + key + "\n-----END PRIVATE KEY-----";
  const dps = ["provision", "--id-scope", "0ne00000001", "--registration-id", "dev"];
  for (const args of [
    [...dps, "--cert", "missing.pem", "--key", key],
    [...dps, "--cert", pem, "--key", "missing.key"],
    [...dps, "--symmetric-key", "file:" + key],
    ["HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=" + key],
  ]) {
    const { code, stdout, stderr } = await run(args);
    assert.is(code, 2, args.join(" "));
    assert.not.ok((stdout + stderr).includes(key), "echoed: " + stderr.split("\n")[0]);
    assert.not.ok(stderr.includes("BEGIN PRIVATE"), "the PEM echoed");
  }
  const missing = await run([...dps, "--cert", "no-such.pem", "--key", "no-such.key"]);
  assert.match(missing.stderr, "cannot read the certificate file (ENOENT)", "still says what went wrong");
  const unknown = await run(["provison"]);
  assert.match(unknown.stderr, "unknown command provison", "a mistyped command is named");
});

/** Runs the CLI, handing each JSON line it prints to `onLine` as it arrives. */
function runLive(args: string[], onLine: (line: any) => void): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let buffered = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) if (line.trim()) onLine(JSON.parse(line));
    });
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

cli("device: telemetry with properties, C2D, desired and methods printed as JSON lines; method echoed", async ({ sim, caFile }) => {
  const hub = sim.hub();
  const { connectionString } = hub.addDevice({ deviceId: "cli-device-1" });
  const lines: any[] = [];
  let methodResult: Promise<unknown> | undefined;
  const done = runLive(
    ["device", "--connection-string", connectionString, "--connect-to", "127.0.0.1:" + sim.port, "--ca", caFile, "--send", "2", "--interval", "50", "--property", "site=north", "--property", "kind=a b", "--duration", "2"],
    (line) => {
      lines.push(line);
      if (line.event === "connected") {
        hub.sendC2D("cli-device-1", "hello device", { prop: "v" });
        hub.patchDesired("cli-device-1", { rate: 7 });
        methodResult = hub.invokeMethod("cli-device-1", "blink", { times: 3 });
      }
    },
  );
  const { code, stderr } = await done;
  assert.is(code, 0, stderr);
  assert.equal(await methodResult, { status: 200, payload: { times: 3 } }, "method answered 200 with the request echoed");
  const byEvent = (event: string) => lines.filter((line) => line.event === event);
  assert.equal(byEvent("c2d").map((l) => [l.payload, l.properties]), [["hello device", { prop: "v" }]]);
  assert.equal(byEvent("method").map((l) => [l.name, JSON.parse(l.payload)]), [["blink", { times: 3 }]]);
  assert.ok(byEvent("desired").some((l) => l.desired.rate === 7), "the desired patch was printed");
  assert.equal(byEvent("telemetry").map((l) => [l.seq, l.status]), [[1, "acknowledged"], [2, "acknowledged"]]);
  const telemetry = hub.telemetryOf("cli-device-1");
  assert.equal(telemetry.map((m) => m.properties), [{ site: "north", kind: "a b" }, { site: "north", kind: "a b" }]);
  assert.equal(JSON.parse(telemetry[1].payload.toString()).seq, 2);
});

cli("device through DPS: provisions (with --payload, as provision takes it), connects to the assigned hub, prints where it landed", async ({ sim, caFile }) => {
  const key = randomBytes(32).toString("base64");
  const payloads: unknown[] = [];
  sim.dps.enrollIndividual({ registrationId: "cli-dps-device", attestation: { type: "symmetricKey", primaryKey: key }, customAllocation: ({ payload }) => (payloads.push(payload), {}) });
  const lines: any[] = [];
  const { code, stderr } = await runLive(
    ["device", "--id-scope", sim.idScope, "--registration-id", "cli-dps-device", "--symmetric-key", key, "--host", sim.dpsHost, "--payload", '{"site":"north"}', "--timeout", "20000", "--connect-to", "127.0.0.1:" + sim.port, "--ca", caFile, "--send", "1", "--duration", "1"],
    (line) => lines.push(line),
  );
  assert.is(code, 0, stderr);
  assert.equal(lines.find((l) => l.event === "provisioned"), { event: "provisioned", assignedHub: sim.hubs[0], deviceId: "cli-dps-device" });
  assert.equal(payloads, [{ site: "north" }], "the custom allocation got --payload, as with provision");
  assert.is(sim.hub().telemetryOf("cli-dps-device").length, 1);
});

cli("keys stay off the command line: env:NAME and file:PATH", async ({ sim, caFile }) => {
  const key = randomBytes(32).toString("base64");
  sim.dps.enrollIndividual({ registrationId: "cli-secret-1", attestation: { type: "symmetricKey", primaryKey: key } });
  const base = ["provision", "--id-scope", sim.idScope, "--registration-id", "cli-secret-1", ...endpoint(sim, caFile)];
  const fromEnv = await run([...base, "--symmetric-key", "env:AIML_TEST_KEY"], { AIML_TEST_KEY: key });
  assert.is(fromEnv.code, 0, fromEnv.stderr);
  assert.is(JSON.parse(fromEnv.stdout).deviceId, "cli-secret-1");
  const keyFile = join(mkdtempSync(join(tmpdir(), "aiml-cli-")), "key");
  writeFileSync(keyFile, key + "\n");
  const fromFile = await run([...base, "--symmetric-key", "file:" + keyFile]);
  assert.is(fromFile.code, 0, fromFile.stderr);
  const unset = await run([...base, "--symmetric-key", "env:AIML_TEST_KEY_UNSET"]);
  assert.is(unset.code, 2);
  assert.ok(unset.stderr.includes("AIML_TEST_KEY_UNSET is not set"), unset.stderr);
});

cli("usage mistakes exit 2 with the usage text", async () => {
  const dps = ["--id-scope", "0ne00000001", "--registration-id", "dev-1"];
  for (const args of [
    [],
    ["provision", "--nope", "1"],
    ["provision", "--id-scope"],
    ["frobnicate"],
    ["provision", ...dps], // no credential
    ["provision", ...dps, "--symmetric-key", "a2V5", "--group-key", "a2V5"], // two
    ["provision", ...dps, "--symmetric-key", "a2V5", "--port", "abc"],
    ["provision", ...dps, "--symmetric-key", "a2V5", "--timeout", "soon"],
    ["device", "--connection-string", "HostName=h;DeviceId=d;SharedAccessKey=a2V5", "--send", "many"],
    ["device", "--connection-string", "HostName=h;DeviceId=d;SharedAccessKey=a2V5", "--duration", "-1"],
  ]) {
    const { code, stderr } = await run(args);
    assert.is(code, 2, args.join(" "));
    assert.ok(stderr.includes("usage:"));
  }
});

cli("device --duration bounds the whole run, connecting included", async () => {
  const started = Date.now();
  // Nothing listens there: the client keeps retrying until the duration ends the run.
  const { code, stderr } = await run(["device", "--connection-string", "HostName=nowhere.example.test;DeviceId=d;SharedAccessKey=a2V5bWF0ZXJpYWwtZm9yLXRlc3Rpbmc=", "--connect-to", "127.0.0.1:9", "--duration", "1"], undefined, 8000);
  assert.is(code, 1, "never connected: the run failed");
  assert.is(JSON.parse(stderr.trim().split("\n").pop()!).error.code, "CONNECTION_REFUSED");
  assert.ok(Date.now() - started < 8000, "ended after about a second, took " + (Date.now() - started) + " ms");
});

cli.run();
