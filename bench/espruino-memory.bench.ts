// Variables (JsVars) the shipped Espruino modules use on the real interpreter, against the
// simulator over TLS: the peak of process.memory().usage through each scenario, and, with
// ESPRUINO_FEWEST=1, the fewest variables the scenario completes with (in steps of 50).
//
// Needs an Espruino interpreter built for Linux, which the project does not ship or build (see
// bench/espruino/README.md): ESPRUINO=<command that runs it> npm run bench:espruino. Its variable
// count is set per run by ESPRUINO_VARS, which stock Linux builds do not read (they grow memory as
// needed): the README says what the measuring build changes. Without ESPRUINO it prints why and
// exits 0, so `npm run bench` runs everywhere.
//
// The peer is Espruino's own MQTT module (EspruinoDocs modules/MQTT.js, given by
// ESPRUINO_PEER_MQTT=<path>), driven by hand through the same steps: what a firmware engineer
// writes today without this library. It gets its SAS tokens computed for it (it has no crypto),
// answers nothing it is not asked, and checks no acknowledgement, so it is a floor, not an equal.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { startSimulator, type Simulator } from "../simulator/index";
import { dpsSasToken, dpsUsername } from "../core/dps-credentials";
import { hubClientId, hubSasToken, hubUsername } from "../core/hub-credentials";
import { report } from "./harness";

const interpreter = process.env.ESPRUINO;
/** The project's root: this file runs bundled from .build/bench. */
function projectRoot(): string {
  let dir = fileURLToPath(new URL(".", import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}
const root = projectRoot();
const peerModule = process.env.ESPRUINO_PEER_MQTT;
const BUDGET = 2500; // the ESP32's variables (issue #6)
const STEP_TIMEOUT_MS = 60_000; // the interpreter runs under emulation on most hosts: slow

type Scenario = "provisioning" | "connection-string" | "via-dps" | "renewals" | "example" | "cuts";
const CUTS = 30;
const SCENARIOS: Record<Scenario, string> = {
  provisioning: "provisioning only (DpsClient, then unload)",
  "connection-string": "hub session by connection string (telemetry, reported, method, C2D, desired)",
  "via-dps": "connectViaDps, then the same hub session",
  example: "examples/espruino-device.js (first boot and from the saved assignment; method, C2D, desired)",
  renewals: "two SAS renewals (3 s tokens)",
  cuts: "the hub connection cut 30 times (a soak, only when named: variables in use after each reconnect)",
};

interface Outcome {
  done: boolean;
  peak: number;
  /** The last lines the interpreter printed, when it did not finish. */
  why: string;
}

/** Runs `script` on the interpreter with `vars` variables (undefined: its own default) in `dir`,
 * calling `onStep` for each "@@ step peak" line (and `onLine`, if given, for every other line: true
 * ends the run as done), until a "@@ DONE" line, a failure, or a timeout. */
function runInterpreter(dir: string, script: string, vars: number | undefined, onStep: (step: string, value: number) => void, onLine?: (line: string) => boolean): Promise<Outcome> {
  writeFileSync(join(dir, "run.js"), script);
  // The measuring build reads these (bench/espruino/README.md); a stock one keeps espruino.flash in its working directory.
  const env = { ...process.env, ...(vars ? { ESPRUINO_VARS: String(vars) } : {}), ESPRUINO_TLS_HEAP: "1", ESPRUINO_FLASH: join(dir, "espruino.flash") };
  const child = spawn(interpreter!, ["run.js"], { cwd: dir, env, stdio: ["pipe", "pipe", "pipe"] });
  return new Promise((resolve) => {
    let peak = 0;
    let tail: string[] = [];
    let settled = false;
    const finish = (done: boolean, why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve({ done, peak, why });
    };
    let timer = setTimeout(() => finish(false, "no progress for " + STEP_TIMEOUT_MS + " ms: " + tail.join(" | ")), STEP_TIMEOUT_MS);
    let pending = "";
    const read = (chunk: Buffer) => {
      pending += chunk.toString("latin1");
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        tail = [...tail.slice(-5), line.trim()];
        if (process.env.ESPRUINO_VERBOSE) console.error("  [" + (vars ?? "-") + "] " + line.trim());
        // The interpreter's own complaints: it stops the firmware's code without a catchable error.
        if (/Out of Memory|Uncaught|ERROR|Execution Interrupted/i.test(line) && !line.includes("@@ ")) return finish(false, tail.join(" | "));
        // The console's prompt may come first on the line (">\x1b[J").
        const match = /@@ (.*) (\d+)$/.exec(line.trim());
        if (!match) {
          // Without the console's prompt (">\r\x1b[J"), which comes first on a line the firmware prints.
          if (onLine && onLine(line.split("\x1b[J").pop()!.trim())) return finish(true, "");
          continue;
        }
        const [, step, value] = match;
        peak = Math.max(peak, Number(value));
        clearTimeout(timer);
        timer = setTimeout(() => finish(false, "no progress after " + step + " for " + STEP_TIMEOUT_MS + " ms"), STEP_TIMEOUT_MS);
        if (step.startsWith("FAIL")) return finish(false, step);
        if (step === "DONE") return finish(true, "");
        try {
          onStep(step, Number(value));
        } catch (error) {
          finish(false, "bench: " + (error as Error).message);
        }
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", () => finish(false, "the interpreter exited: " + tail.join(" | ")));
  });
}

/** Erases the interpreter's Storage and writes `files` into it (with the interpreter's default
 * variable count: the texts pass through its memory once). */
async function install(dir: string, files: Record<string, string>): Promise<void> {
  const writes = Object.entries(files).map(([name, text]) => `s.write(${JSON.stringify(name)}, ${JSON.stringify(text)});`);
  const script = `var s = require("Storage"); s.eraseAll(); ${writes.join("\n")}\nconsole.log("@@ DONE 0");`;
  const outcome = await runInterpreter(dir, script, undefined, () => {});
  if (!outcome.done) throw new Error("could not write the interpreter's Storage: " + outcome.why);
}

function shippedModules(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of ["azure-iot-mqtt-lite", "azure-iot-mqtt-lite-dps", "azure-iot-mqtt-lite-hub"]) {
    files[name] = readFileSync(join(root, "dist/espruino", name + ".min.js"), "latin1");
  }
  return files;
}

/** Ports by host name: the interpreter's TLS sends no SNI, so each host gets a port of its own. */
async function portsOf(sim: Simulator): Promise<Record<string, number>> {
  const ports: Record<string, number> = {};
  for (const host of [sim.dpsHost, ...sim.hubs]) ports[host] = await sim.openPortFor(host);
  return ports;
}

let counter = 0;
/** Variables in use after each reconnect of the last "cuts" run. */
const inUse: number[] = [];
/** One run of `scenario` ("peer-*" for the peer's) with `vars` variables; the simulator side
 * follows the device's steps: a method when it is ready, then a C2D message, then a desired patch. */
async function measure(dir: string, sim: Simulator, scenario: string, vars: number): Promise<Outcome> {
  const deviceId = "mem-" + process.pid + "-" + ++counter;
  const key = randomBytes(32).toString("base64");
  const hub = sim.hub();
  const config: Record<string, unknown> = { scenario, ports: await portsOf(sim) };
  if (scenario === "provisioning" || scenario === "via-dps" || scenario === "peer-provisioning" || scenario === "example") {
    sim.dps.enrollIndividual({ registrationId: deviceId, attestation: { type: "symmetricKey", primaryKey: key } });
    config.dps = { idScope: sim.idScope, registrationId: deviceId, symmetricKey: key, host: sim.dpsHost };
    config.dpsHost = sim.dpsHost;
  } else {
    config.connectionString = hub.addDevice({ deviceId, primaryKey: key }).connectionString;
  }
  const nowSeconds = Math.floor(Date.now() / 1000);
  if (scenario === "peer-provisioning") {
    const identity = { idScope: sim.idScope, registrationId: deviceId };
    config.username = dpsUsername(identity);
    config.password = dpsSasToken(identity, key, nowSeconds + 3600);
  }
  if (scenario === "peer-session") {
    const identity = { hostName: sim.hubs[0], deviceId };
    config.hub = sim.hubs[0];
    config.deviceId = deviceId;
    config.clientId = hubClientId(identity);
    config.username = hubUsername(identity);
    config.password = hubSasToken(identity, key, nowSeconds + 3600);
  }
  inUse.length = 0;
  if (scenario === "example") return example(dir, sim, deviceId, key, config.ports as Record<string, number>, vars);
  const program = scenario.startsWith("peer-") ? "peer-firmware.js" : "memory-firmware.js";
  const firmware = readFileSync(join(root, "bench/espruino", program), "utf8").replace("var CONFIG = {};", "var CONFIG = " + JSON.stringify(config) + ";");
  await install(dir, { ...shippedModules(), ...(peerModule ? { MQTT: readFileSync(peerModule, "latin1") } : {}), "mem-fw": firmware });
  // Evaluated at the root from flash, as an ESP32 runs saved boot code (see example-boot.js).
  return runInterpreter(dir, 'eval(require("Storage").read("mem-fw"));', vars, (step, value) => {
    if (step.startsWith("in-use ")) {
      inUse.push(value);
      if (inUse.length <= CUTS) setTimeout(() => hub.dropConnection(deviceId), 100);
      else hub.patchDesired(deviceId, { interval: 5 }); // the firmware closes on it: DONE
    } else if (step === "ready") {
      void hub.invokeMethod(deviceId, "reboot", { delay: 1 }, { timeoutMs: STEP_TIMEOUT_MS }).catch(() => {});
    } else if (step === "method") {
      setTimeout(() => hub.sendC2D(deviceId, "hello from the cloud", { color: "red" }), 200);
    } else if (step.startsWith("c2d")) {
      hub.patchDesired(deviceId, { interval: 5 });
    }
  });
}

/** examples/espruino-device.js as shipped, pointed at the simulator (the WiFi is a stub module, the
 * LED a no-op), run as boot code is, at the root from flash. Two boots: the first provisions, the
 * second connects from the assignment the first saved in Storage. Each goes through a method, a
 * C2D message and a desired patch; the peak is the higher of the two. */
async function example(dir: string, sim: Simulator, deviceId: string, key: string, ports: Record<string, number>, vars: number): Promise<Outcome> {
  let text = readFileSync(join(root, "examples/espruino-device.js"), "utf8");
  const edits: [string, string][] = [
    ['var ID_SCOPE = "0ne00XXXXXX";', "var ID_SCOPE = " + JSON.stringify(sim.idScope) + ";"],
    ['var REGISTRATION_ID = "esp32-kitchen-01";', "var REGISTRATION_ID = " + JSON.stringify(deviceId) + ";"],
    ['var DEVICE_KEY = "base64 key of the enrollment";', "var DEVICE_KEY = " + JSON.stringify(key) + ";"],
    ["symmetricKey: DEVICE_KEY }", "symmetricKey: DEVICE_KEY, host: " + JSON.stringify(sim.dpsHost) + " }"],
    ["azure.espruinoPlatform()", 'azure.espruinoPlatform({ resolve: function (host) { return { host: "127.0.0.1", port: ' + JSON.stringify(ports) + "[host.toLowerCase()] }; } })"],
  ];
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error("the example changed: no " + from + " in it (update bench/espruino-memory.bench.ts)");
    text = text.replace(from, to);
  }
  const wifi = "exports.connect = function (ssid, options, callback) { setTimeout(callback, 10); }; exports.setSNTP = function () {}; exports.on = function () {};";
  const boot = readFileSync(join(root, "bench/espruino/example-boot.js"), "utf8");
  await install(dir, { ...shippedModules(), Wifi: wifi, example: text });
  const hub = sim.hub();
  let peak = 0;
  for (const round of ["first boot", "second boot"]) {
    const outcome = await runInterpreter(dir, boot, vars, () => {}, (line) => {
      if (line.startsWith("on ")) {
        void hub.invokeMethod(deviceId, "blink", { ms: 1 }, { timeoutMs: STEP_TIMEOUT_MS }).then(() => hub.sendC2D(deviceId, "hello from the cloud", { color: "red" }), (error) => console.error("  bench: the method failed: " + error.message));
      } else if (line.startsWith("cloud-to-device:")) {
        hub.patchDesired(deviceId, { interval: 5 });
      } else if (line.includes("could not connect")) {
        throw new Error(line);
      }
      const desired = /desired v(\d+)/.exec(line);
      return !!desired && Number(desired[1]) >= 2 + (round === "second boot" ? 1 : 0);
    });
    peak = Math.max(peak, outcome.peak);
    if (!outcome.done) return { done: false, peak, why: round + ": " + outcome.why };
  }
  return { done: true, peak, why: "" };
}

/** The fewest variables, in steps of 50 between lo and hi, that the scenario completes with
 * (each boundary run twice: a run near the limit may pass or fail by where the GC falls). */
async function fewest(dir: string, sim: Simulator, scenario: string, lo: number, hi: number): Promise<number | undefined> {
  const passes = async (vars: number) => (await measure(dir, sim, scenario, vars)).done && (await measure(dir, sim, scenario, vars)).done;
  if (!(await passes(hi))) return undefined;
  while (hi - lo > 50) {
    const mid = Math.round((lo + hi) / 100) * 50;
    if (await passes(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

async function main(): Promise<void> {
  if (!interpreter) {
    console.error("espruino-memory: skipped, set ESPRUINO to an Espruino interpreter built for Linux (bench/espruino/README.md)");
    return;
  }
  const wanted = (process.env.ESPRUINO_SCENARIOS || Object.keys(SCENARIOS).filter((name) => name !== "cuts").join(",")).split(",") as Scenario[];
  const dir = mkdtempSync(join(tmpdir(), "espruino-memory-"));
  const sim = await startSimulator({ dps: { retryAfterSeconds: 1 } });
  try {
    for (const scenario of wanted) {
      if (!SCENARIOS[scenario]) throw new Error("no scenario " + scenario + "; there are " + Object.keys(SCENARIOS).join(", "));
      const ours = await measure(dir, sim, scenario, BUDGET);
      if (!ours.done) throw new Error(scenario + " did not complete with " + BUDGET + " variables: " + ours.why);
      if (scenario === "cuts") {
        // From the first reconnect on: the first connection makes what every later one reuses.
        const growth = inUse[inUse.length - 1] - inUse[1];
        console.error("  in use after each connection: " + inUse.join(" "));
        report({ name: "espruino variables gained over " + CUTS + " reconnects after connection cuts", unit: "variables", value: growth, peer: "none", peerValue: 0, ratio: 0 });
        continue;
      }
      const peerScenario = scenario === "provisioning" ? "peer-provisioning" : scenario === "connection-string" ? "peer-session" : undefined;
      // The peer module loses a packet now and then (its parser splits chunks by hand): a few tries.
      let peer: Outcome | undefined;
      for (let tries = 0; peerModule && peerScenario && tries < 3 && !(peer && peer.done); tries++) peer = await measure(dir, sim, peerScenario, BUDGET);
      if (peer && !peer.done) throw new Error(peerScenario + " did not complete: " + peer.why);
      const peerName = peer ? "Espruino MQTT module by hand (" + peerScenario + ")" : "none";
      report({ name: "espruino peak variables: " + SCENARIOS[scenario], unit: "variables", value: ours.peak, peer: peerName, peerValue: peer ? peer.peak : 0, ratio: peer ? Number((ours.peak / peer.peak).toFixed(3)) : 0 });
      if (process.env.ESPRUINO_FEWEST) {
        const least = await fewest(dir, sim, scenario, ours.peak, BUDGET + 500);
        const peerLeast = peer && peerScenario ? await fewest(dir, sim, peerScenario, peer.peak, BUDGET) : undefined;
        report({ name: "espruino fewest variables to complete: " + SCENARIOS[scenario], unit: "variables", value: least ?? -1, peer: peerName, peerValue: peerLeast ?? 0, ratio: least && peerLeast ? Number((least / peerLeast).toFixed(3)) : 0 });
      }
    }
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
