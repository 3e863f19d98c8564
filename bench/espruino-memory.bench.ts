// Variables (JsVars) the shipped Espruino modules use on the real interpreter, against the
// simulator over TLS: the peak of process.memory().usage through each scenario, and, with
// ESPRUINO_FEWEST=1, the fewest variables the scenario completes with (in steps of 50).
//
// Needs an Espruino interpreter built for Linux, which the project does not ship or build (see
// bench/espruino/README.md): ESPRUINO=<command that runs it> npm run bench:espruino. Its variable
// count is set per run by ESPRUINO_VARS, which stock Linux builds do not read: the README says
// what the measuring build changes. Without ESPRUINO it prints why and exits 0, so `npm run bench`
// runs everywhere.
//
// The peer is Espruino's own MQTT module (EspruinoDocs modules/MQTT.js, given by
// ESPRUINO_PEER_MQTT=<path>), driven by hand through the same steps: what a firmware engineer
// writes today without this library. It gets its SAS tokens computed for it (it has no crypto),
// answers nothing it is not asked, and checks no acknowledgement, so it is a floor, not an equal.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { startSimulator, type HubFault, type Simulator } from "../simulator/index";
import { dpsSasToken, dpsUsername } from "../core/dps-credentials";
import { hubClientId, hubSasToken, hubUsername } from "../core/hub-credentials";
import { install, runInterpreter, STEP_TIMEOUT_MS, type Outcome } from "./espruino/interpreter";
import { report } from "./harness";

const interpreter = process.env.ESPRUINO;
const peerModule = process.env.ESPRUINO_PEER_MQTT;
const echo = !!process.env.ESPRUINO_VERBOSE;
/** Where memory peaks, call path by call path (bench/espruino/profiler.js); build with READABLE_NAMES=1 to read it. */
const profile = !!process.env.ESPRUINO_PROFILE;
const BUDGET = Number(process.env.ESPRUINO_BUDGET) || 2500; // the ESP32's variables (issue #6); ESPRUINO_BUDGET=n runs with n
const CUTS = 30;
/** The faults scenario's, each once; ESPRUINO_FAULTS=connect,telemetry keeps only those steps'. */
const FAULTS: HubFault[] = [
  { step: "connect", action: { kind: "refuse", returnCode: 3 } },
  { step: "twin-get", action: { kind: "error", status: 429 } },
  { step: "telemetry", action: { kind: "drop" } },
  { step: "twin-patch", action: { kind: "error", status: 503 } },
];
const onlyFaults = process.env.ESPRUINO_FAULTS && process.env.ESPRUINO_FAULTS.split(",");

/** The project's root: this file runs bundled from .build/bench. */
function projectRoot(): string {
  let dir = fileURLToPath(new URL(".", import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}
const root = projectRoot();
const read = (path: string) => readFileSync(join(root, path), "utf8");

interface Spec {
  label: string;
  /** Provisions through DPS (enrolled there), rather than a hub identity with a connection string. */
  dps: boolean;
  /** The peer's scenario doing the same steps by hand. */
  peer?: string;
  /** Run only when named in ESPRUINO_SCENARIOS (a soak, or one that needs more than the budget). */
  onlyWhenNamed?: boolean;
  /** Variables it runs with, where it needs more than the ESP32's BUDGET. */
  vars?: number;
}
const SCENARIOS: Record<string, Spec> = {
  provisioning: { label: "provisioning only (DpsClient, then unload)", dps: true, peer: "peer-provisioning" },
  "connection-string": { label: "hub session by connection string (twin, telemetry, reported, method, C2D, desired)", dps: false, peer: "peer-session" },
  "via-dps": { label: "connectViaDps, then the same hub session", dps: true },
  renewals: { label: "two SAS renewals (3 s tokens)", dps: false },
  example: { label: "examples/espruino-device.js (first boot and from the saved assignment; method, C2D, desired)", dps: true },
  "example-faults": { label: "the example through the same faults but the telemetry one (it sends once a minute; two boots, the faults in the first)", dps: true },
  faults: { label: "the same hub session through faults (a refused connection, a twin GET throttled, a connection dropped at telemetry, a reported patch answered 503)", dps: false },
  cuts: { label: "the hub connection cut " + CUTS + " times", dps: false, onlyWhenNamed: true },
  reprovision: { label: "connectViaDps, then the hub refuses the device and the client provisions again in place", dps: true, onlyWhenNamed: true, vars: 3500 },
};
const PEERS: Record<string, Spec> = {
  "peer-provisioning": { label: "Espruino MQTT module by hand (provisioning)", dps: true },
  "peer-session": { label: "Espruino MQTT module by hand (hub session)", dps: false },
};

interface Measured extends Outcome {
  /** What mark() reported: variables in use at named points. */
  marks: Record<string, number>;
}

/** Ports by host name: the interpreter's TLS sends no SNI, so each host gets a port of its own. */
async function portsOf(sim: Simulator): Promise<Record<string, number>> {
  const ports: Record<string, number> = {};
  for (const host of [sim.dpsHost, ...sim.hubs]) ports[host] = await sim.openPortFor(host);
  return ports;
}

/** The ports of DPS and the first hub: all but one scenario use only those. */
function dpsAndFirstHubPorts(ports: Record<string, number>, sim: Simulator): Record<string, number> {
  return { [sim.dpsHost]: ports[sim.dpsHost], [sim.hubs[0]]: ports[sim.hubs[0]] };
}

function shippedModules(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of ["azure-iot-mqtt-lite", "azure-iot-mqtt-lite-dps", "azure-iot-mqtt-lite-hub"]) files[name] = read("dist/espruino/" + name + ".min.js");
  return files;
}

let counter = 0;
/** One run of `scenario` (ours or a peer's) with `vars` variables. The simulator follows the
 * device's steps: a method when it is ready, then a C2D message, then a desired patch. */
async function measure(dir: string, sim: Simulator, scenario: string, vars: number): Promise<Measured> {
  const spec = SCENARIOS[scenario] || PEERS[scenario];
  const deviceId = "mem-" + process.pid + "-" + ++counter;
  const key = randomBytes(32).toString("base64");
  const hub = sim.hub();
  const ports = await portsOf(sim);
  const enroll = (assignedHub: string) => sim.dps.enrollIndividual({ registrationId: deviceId, attestation: { type: "symmetricKey", primaryKey: key }, assignedHub });
  if (spec.dps) enroll(sim.hubs[0]);
  if (scenario.startsWith("example")) return example(dir, sim, deviceId, key, dpsAndFirstHubPorts(ports, sim), vars, scenario === "example-faults");
  // Only what the firmware uses: CONFIG's variables count in every figure.
  const config: Record<string, unknown> = { scenario, ports: scenario === "reprovision" ? ports : dpsAndFirstHubPorts(ports, sim), dpsHost: sim.dpsHost };
  if (scenario === "reprovision") config.hubs = sim.hubs;
  if (spec.dps) config.dps = { idScope: sim.idScope, registrationId: deviceId, symmetricKey: key, host: sim.dpsHost };
  else config.connectionString = hub.addDevice({ deviceId, primaryKey: key }).connectionString;
  const faults = scenario === "faults" ? FAULTS.filter((fault) => !onlyFaults || onlyFaults.includes(fault.step)) : [];
  for (const fault of faults) hub.injectFault({ deviceId, ...fault });
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  if (scenario === "peer-provisioning") {
    const identity = { idScope: sim.idScope, registrationId: deviceId };
    Object.assign(config, { username: dpsUsername(identity), password: dpsSasToken(identity, key, expiry) });
  } else if (scenario === "peer-session") {
    const identity = { hostName: sim.hubs[0], deviceId };
    Object.assign(config, { hub: sim.hubs[0], deviceId, clientId: hubClientId(identity), username: hubUsername(identity), password: hubSasToken(identity, key, expiry) });
  }
  if (profile && !(scenario in PEERS)) config.profile = profiledNames();
  const program = read("bench/espruino/" + (scenario in PEERS ? "peer-firmware.js" : "memory-firmware.js")).replace("var CONFIG = {};", "var CONFIG = " + JSON.stringify(config) + ";");
  const peer: Record<string, string> = peerModule ? { MQTT: readFileSync(peerModule, "utf8") } : {};
  const profiler = config.profile ? read("bench/espruino/profiler.js") : "";
  await install(interpreter!, dir, { ...shippedModules(), ...peer, "mem-fw": profiler + read("bench/espruino/sampler.js") + program });
  const marks: Record<string, number> = {};
  const outcome = await runInterpreter({
    interpreter: interpreter!,
    dir,
    // Evaluated at the root from flash, as an ESP32 runs saved boot code (see example-boot.js).
    script: 'eval(require("Storage").read("mem-fw"));',
    vars: config.profile ? undefined : vars,
    echo,
    onStep: (step, value) => {
      if (step.startsWith("profile ")) return console.error("  " + step.slice("profile ".length) + " " + value);
      if (step.startsWith("usage:")) marks[step.slice("usage:".length)] = value;
      if (step.startsWith("usage:in-use ")) {
        if (Number(step.split(" ")[1]) <= CUTS) setTimeout(() => hub.dropConnection(deviceId), 100);
        else hub.patchDesired(deviceId, { interval: 5 }); // the firmware closes on it: DONE
      } else if (step === "ready" && scenario === "reprovision") {
        enroll(sim.hubs[1]);
        hub.revokeKeys(deviceId);
        hub.dropConnection(deviceId);
      } else if (step === "ready") {
        hub.invokeMethod(deviceId, "reboot", { delay: 1 }, { timeoutMs: STEP_TIMEOUT_MS }).catch((error) => console.error("  bench: the method failed: " + error.message));
      } else if (step === "method") {
        setTimeout(() => hub.sendC2D(deviceId, "hello from the cloud", { color: "red" }), 200);
      } else if (step.startsWith("c2d")) {
        hub.patchDesired(deviceId, { interval: 5 });
      }
    },
  });
  if (outcome.done && faults.length) checkFired(sim, deviceId, faults);
  return { ...outcome, marks };
}

/** A fault that never fired would make a faults scenario the plain one under another name.
 * (Only where faults were injected: the soak's cuts are recorded as faults too.) */
function checkFired(sim: Simulator, deviceId: string, injected: readonly HubFault[]): void {
  const fired = sim.connections.filter((c) => c.clientId === deviceId).flatMap((c) => c.events.filter((e) => e.kind === "fault"));
  if (fired.length !== injected.length) throw new Error(fired.length + " of the " + injected.length + " injected faults fired: " + fired.map((e) => e.detail).join("; "));
}

/** What the profiler needs to name what it wraps: global -> source name, and the renamed methods. */
function profiledNames(): { globals: Record<string, string>; members: Record<string, string> } {
  const names = (file: string) => JSON.parse(read("dist/espruino/" + file)) as Record<string, string>;
  const globals = Object.fromEntries(Object.entries(names("renamed-globals.json")).map(([global, source]) => [global, source.split(" ")[1]]));
  return { globals, members: names("renamed-members.json") };
}

/** examples/espruino-device.js as shipped, pointed at the simulator (the WiFi is a stub module, the
 * LED a no-op), run as boot code is, at the root from flash. Two boots: the first provisions, the
 * second connects from the assignment the first saved in Storage. Each goes through a method, a
 * C2D message and a desired patch; the peak is the higher of the two. */
async function example(dir: string, sim: Simulator, deviceId: string, key: string, ports: Record<string, number>, vars: number, faults: boolean): Promise<Measured> {
  let text = read("examples/espruino-device.js");
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
  await install(interpreter!, dir, { ...shippedModules(), Wifi: wifi, example: text });
  const hub = sim.hub();
  const injected = faults ? FAULTS.filter((fault) => fault.step !== "telemetry") : [];
  for (const fault of injected) hub.injectFault({ deviceId, ...fault });
  let peak = 0;
  for (const [boot, lastVersion] of [["first boot", 2], ["second boot", 3]] as const) {
    const outcome = await runInterpreter({
      interpreter: interpreter!,
      dir,
      script: read("bench/espruino/example-boot.js"),
      vars,
      echo,
      onLine: (line) => {
        if (line.startsWith("on ")) {
          hub.invokeMethod(deviceId, "blink", { ms: 1 }, { timeoutMs: STEP_TIMEOUT_MS }).then(
            () => hub.sendC2D(deviceId, "hello from the cloud", { color: "red" }),
            (error) => console.error("  bench: the method failed: " + error.message),
          );
        } else if (line.startsWith("cloud-to-device:")) {
          hub.patchDesired(deviceId, { interval: 5 });
        } else if (line.startsWith("could not connect") || line.startsWith("error:")) {
          throw new Error("the example: " + line);
        }
        // The patch this boot's steps end with (the first boot's comes back whole on the second).
        const desired = /^desired v(\d+)/.exec(line);
        return !!desired && Number(desired[1]) >= lastVersion;
      },
    });
    peak = Math.max(peak, outcome.peak);
    if (!outcome.done) return { done: false, peak, why: boot + ": " + outcome.why, marks: {} };
  }
  if (injected.length) checkFired(sim, deviceId, injected);
  return { done: true, peak, why: "", marks: {} };
}

/** A run of ours, or up to three of the peer's: its module loses a packet now and then (its
 * parser splits chunks by hand), which is no measure of its memory. */
async function attempt(dir: string, sim: Simulator, scenario: string, vars: number): Promise<Measured> {
  let outcome = await measure(dir, sim, scenario, vars);
  for (let tries = 1; !outcome.done && scenario in PEERS && tries < 3; tries++) outcome = await measure(dir, sim, scenario, vars);
  return outcome;
}

/** The fewest variables, in steps of 50 between lo and hi, that the scenario completes with
 * (each boundary run twice: a run near the limit may pass or fail by where the GC falls). */
async function fewest(dir: string, sim: Simulator, scenario: string, lo: number, hi: number): Promise<number | undefined> {
  const passes = async (vars: number) => (await attempt(dir, sim, scenario, vars)).done && (await attempt(dir, sim, scenario, vars)).done;
  if (!(await passes(hi))) return undefined;
  while (hi - lo > 50) {
    const mid = Math.round((lo + hi) / 100) * 50;
    if (await passes(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

const ratio = (ours: number, peer: number | undefined) => (peer ? Number((ours / peer).toFixed(3)) : 0);

async function run(dir: string, sim: Simulator, scenario: string): Promise<void> {
  const spec = SCENARIOS[scenario];
  const vars = Number(process.env.ESPRUINO_BUDGET) || spec.vars || BUDGET;
  const ours = await attempt(dir, sim, scenario, vars);
  if (!ours.done) throw new Error(scenario + " did not complete with " + vars + " variables: " + ours.why);
  // Profiled, the figures include the wrappers' thousands of variables: where, not how much.
  if (profile) return console.error("  " + scenario + ": profiled (figures not reported)");
  if (scenario === "cuts") {
    const inUse = Array.from({ length: CUTS + 1 }, (_, i) => ours.marks["in-use " + (i + 1)]);
    console.error("  variables in use after the connection and each reconnect: " + inUse.join(" "));
    const gained = (name: string, value: number) => report({ name, unit: "variables", value, peer: "none", peerValue: 0, ratio: 0 });
    gained("espruino variables gained over " + CUTS + " reconnects after connection cuts", inUse[CUTS] - inUse[0]);
    gained("espruino variables gained over the last " + (CUTS - 1) + " of them", inUse[CUTS] - inUse[1]);
    return;
  }
  const peer = peerModule && spec.peer ? await attempt(dir, sim, spec.peer, BUDGET) : undefined;
  if (peer && !peer.done) throw new Error(spec.peer + " did not complete: " + peer.why);
  const peerName = peer ? PEERS[spec.peer!].label : "none";
  report({ name: "espruino peak variables: " + spec.label, unit: "variables", value: ours.peak, peer: peerName, peerValue: peer ? peer.peak : 0, ratio: ratio(ours.peak, peer && peer.peak) });
  if (scenario === "connection-string") {
    // Where a hub session's variables go, before it connects.
    const m = ours.marks;
    const parts: [string, number][] = [["require(\"azure-iot-mqtt-lite\")", m.main - m.start], ["espruinoPlatform()", m.platform - m.main], ["the hub module", m.hub - m.platform], ["a HubClient from a connection string", m.client - m.hub]];
    for (const [what, value] of parts) report({ name: "espruino variables: " + what, unit: "variables", value, peer: "none", peerValue: 0, ratio: 0 });
  }
  if (process.env.ESPRUINO_FEWEST) {
    const least = await fewest(dir, sim, scenario, ours.peak, Math.max(vars, BUDGET + 500));
    const peerLeast = peer ? await fewest(dir, sim, spec.peer!, peer.peak, BUDGET + 500) : undefined;
    report({ name: "espruino fewest variables to complete: " + spec.label, unit: "variables", value: least ?? -1, peer: peerName, peerValue: peerLeast ?? 0, ratio: ratio(least ?? 0, peerLeast) });
  }
}

async function main(): Promise<void> {
  if (!interpreter) {
    console.error("espruino-memory: skipped, set ESPRUINO to an Espruino interpreter built for Linux (bench/espruino/README.md)");
    return;
  }
  if (profile && process.env.ESPRUINO_FEWEST) throw new Error("ESPRUINO_PROFILE runs with the interpreter's full variable count: no fewest to find");
  const named = process.env.ESPRUINO_SCENARIOS;
  const wanted = named ? named.split(",").map((name) => name.trim()) : Object.keys(SCENARIOS).filter((name) => !SCENARIOS[name].onlyWhenNamed);
  const unknown = wanted.filter((name) => !SCENARIOS[name]);
  if (unknown.length) throw new Error("no scenario " + unknown.join(", ") + "; there are " + Object.keys(SCENARIOS).join(", "));
  const dir = mkdtempSync(join(tmpdir(), "espruino-memory-"));
  const sim = await startSimulator({ dps: { retryAfterSeconds: 1 }, hubs: ["sim-hub-1.azure-devices.net", "sim-hub-2.azure-devices.net"] });
  try {
    for (const scenario of wanted) await run(dir, sim, scenario);
  } finally {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
