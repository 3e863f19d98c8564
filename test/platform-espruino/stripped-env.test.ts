// The exact shipped Espruino modules (dist/espruino), run in a node:vm realm stripped to what the
// interpreter has (espruino-environment.ts), through the modules' exported API only, against the
// simulator over real TLS: provisioning, the assigned hub (telemetry, reported properties, a direct
// method, a C2D message), close; and a hub session from a connection string. Every step is judged
// from the simulator's own records.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createPrivateKey, randomBytes, X509Certificate } from "node:crypto";
import { buildSync } from "esbuild";
import { createCertificateAuthority, issueClientCertificate } from "../../simulator/certificates";
import { join } from "node:path";
import { startSimulator, type Simulator } from "../../simulator/index";
import { guardProcess } from "../helpers/process-guard";
import { waitFor } from "../helpers/wait-for";
import { EspruinoEnvironment, shippedStorage } from "./espruino-environment";

const MAIN = "azure-iot-mqtt-lite";

// A firmware as a device would run it, in plain ES5-ish JavaScript: everything it does goes through
// require("azure-iot-mqtt-lite"). It reports back only through the object it returns.
const FIRMWARE = `(function (lib) {
  var platform = lib.espruinoPlatform();
  var device = { messages: [], methods: [], errors: [], disconnects: [], client: undefined, provisioning: undefined };
  function setup(client) {
    client.on("message", function (message) {
      device.messages.push({ payload: E.toString(message.payload), properties: message.properties, messageId: message.systemProperties.messageId });
    });
    client.on("error", function (error) { device.errors.push(error.code + " " + error.message); });
    client.on("disconnected", function (error) { device.disconnects.push(error && error.code); });
    client.onMethod("reboot", function (request) {
      var body = JSON.parse(E.toString(request.payload));
      device.methods.push(body);
      return { status: 200, payload: { delay: body.delay, ok: true, "caf\\xc3\\xa9": "cr\\xc3\\xa8me" } };
    });
  }
  device.provision = function (options) {
    return lib.connectViaDps(platform, { dps: options.dps, hub: options.hub, setup: setup }).then(function (result) {
      device.client = result.client;
      device.provisioning = result.provisioning;
      return result.provisioning;
    });
  };
  device.open = function (options) {
    device.client = new lib.HubClient(platform, options);
    setup(device.client);
    return device.client.connect();
  };
  device.telemetry = function (value, properties) { return device.client.sendTelemetry(value, { properties: properties }); };
  device.report = function (patch) { return device.client.updateReported(patch); };
  device.twin = function () { return device.client.getTwin(); };
  device.close = function () { return device.client.close(); };
  return device;
})`;

/** A value from the realm as a plain Node value (uvu's deep equality compares constructors). */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

/** Fails the test instead of hanging it when the library never settles a promise. */
function within<T>(what: string, promise: PromiseLike<T>, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(promise).then(undefined, (error) => Promise.reject(nodeError(what, error))), timeout]).finally(() => clearTimeout(timer));
}

/** An error made in the realm is not a Node Error, and uvu would report it without a word. */
function nodeError(what: string, error: unknown): Error {
  if (error instanceof Error) return error;
  const { code, message } = (error || {}) as { code?: string; message?: string };
  return new Error(`${what}: ${code} ${message}`);
}

interface Device {
  messages: { payload: string; properties: Record<string, string>; messageId?: string }[];
  methods: unknown[];
  errors: string[];
  disconnects: string[];
  provisioning?: { assignedHub: string; deviceId: string; status: string };
  provision(options: unknown): Promise<{ assignedHub: string; deviceId: string; status: string }>;
  open(options: unknown): Promise<void>;
  telemetry(value: unknown, properties: unknown): Promise<void>;
  report(patch: unknown): Promise<number>;
  twin(): Promise<{ reported: { $version: number } }>;
  close(): Promise<void>;
}

interface Context {
  sim: Simulator;
  guard: ReturnType<typeof guardProcess>;
  env: EspruinoEnvironment;
}

const stripped = suite<Context>("the shipped Espruino modules in a stripped realm");
let counter = 0;

stripped.before.each(async (context) => {
  context.guard = guardProcess();
  context.sim = await startSimulator({ dps: { retryAfterSeconds: 0 } });
  const sim = context.sim;
  context.env = new EspruinoEnvironment({ storage: shippedStorage(), lookup: (host) => sim.resolve(host), ca: sim.ca });
});

// Cleanup only: an assertion failing in a hook would abort the suite without a report.
stripped.after.each(async (context) => {
  context.env.dispose();
  await context.sim.close();
  context.guard.release();
});

/** The end of every test: nothing went unhandled, and the library left no socket or timer behind. */
async function nothingLeft({ env, guard }: Context): Promise<void> {
  await waitFor(() => env.stats.open === 0 && env.liveTimers === 0, "no socket or timer left after close()");
  assert.equal(guard.problems, [], "no unhandled rejection or uncaught exception");
  assert.is(env.defragsWithTlsOpen, 0, "never defragmented under a live TLS socket (it would move mbedTLS's state)");
}

stripped("the realm has only what Espruino has: no Node globals, no missing built-ins", async ({ env }) => {
  const absent = [
    "Buffer", "process.exit", "process.nextTick", "process.memoryUsage", "Map", "Set", "WeakMap", "Symbol", "TextEncoder", "TextDecoder", "Reflect", "Proxy", "BigInt", "setImmediate",
    "queueMicrotask", "performance", "RangeError", "globalThis", "require('tls').connect", "Array.from", "Number.isInteger",
    "Math.trunc", "Math.imul", "Object.freeze", "Promise.race", "Promise.allSettled", "Promise.prototype.finally", "String.fromCodePoint",
    "''.codePointAt", "[].flat", "''.trimEnd", "new Error('x').name",
  ];
  const types = env.evaluate<string[]>(`[${absent.map((name) => (name.includes("require") ? "typeof require('tls').connect.once" : `typeof ${name}`)).join(",")}]`);
  assert.equal(plain(types), absent.map(() => "undefined"), absent.join(", "));
  assert.equal(
    plain(env.evaluate<string[]>("[typeof E.toUint8Array, typeof require('crypto').SHA256, typeof Modules.removeCached, typeof btoa, typeof setInterval, typeof process.memory, typeof eval]")),
    ["function", "function", "function", "function", "function", "function", "function"],
  );
  // Espruino's root scope is `global` (measured on 2v29: global === this at the top level).
  assert.is(env.evaluate("global === this"), true);
  assert.is(env.evaluate("new Uint8Array([1, 2, 3]).slice(1) instanceof Uint8Array"), false, "slice gives a plain Array, as on Espruino");
  assert.is(env.evaluate("String.fromCharCode(0x20ac).charCodeAt(0)"), 0xac, "8-bit strings, as on the ESP32");
  assert.is(env.evaluate("JSON.stringify('\\xe9')"), '"\\u00E9"');
  assert.throws(() => env.evaluate("clearTimeout(undefined)"), /not allowed/);
  assert.throws(() => env.evaluate("String.fromCharCode.apply(null, new Uint8Array(257))"), /Maximum 256 arguments/);
  assert.is(env.evaluate("require('crypto').SHA256('abc') instanceof ArrayBuffer"), true);
});

stripped("the library's errors carry no stack on the device (the interpreter's costs 70-100 variables each), only code and message", async ({ env }) => {
  const lib = env.require(MAIN);
  const thrown: Array<{ code?: string; message?: string; stack?: string }> = [];
  const attempts = [
    () => lib.parseJson(new Uint8Array([0x22, 0xff, 0x22])), // the main module's own
    () => lib.HubClient(lib.espruinoPlatform(), { connectionString: "not a connection string" }), // the hub module's, through the main module's global
    () => lib.DpsClient(lib.espruinoPlatform(), { idScope: "", registrationId: "r", symmetricKey: "a2V5" }), // the DPS module's
  ];
  for (const attempt of attempts) {
    try {
      attempt();
    } catch (error) {
      thrown.push(error as { code?: string });
    }
  }
  // The platform's, which arrive as a socket's close.
  thrown.push(await new Promise((resolve) => lib.espruinoPlatform().connect({ host: "h", port: 1, tls: { ca: ["a", "b"] } }, { connected() {}, data() {}, closed: resolve })));
  assert.equal(thrown.map((error) => error.code), ["UTF8_INVALID", "CONNECTION_STRING_MALFORMED", "ARGUMENT_INVALID", "TLS_CONFIG_INVALID"]);
  // And no other way to make one: the only `new Error` shipped is in the stand-in's core liteError.
  const shipped = Object.values(shippedStorage()).join("\n");
  assert.is(shipped.split("new Error(").length - 1, 1, "one new Error( in the shipped modules");
  for (const error of thrown) {
    assert.is(error.stack, undefined, error.code + " has no stack");
    assert.ok(env.evaluate<(e: unknown) => boolean>("(function (e) { return e instanceof Error; })")(error), "still an Error of the realm's");
    assert.match(String(error), new RegExp("^Error: " + error.message!.slice(0, 10).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  }
});

stripped("the module loads with nothing but require(), and exports the public API", ({ env }) => {
  const lib = env.require(MAIN);
  // Everything platform-espruino/index.ts (the module's published types) declares is there.
  const declared = buildSync({ entryPoints: [join(process.cwd(), "platform-espruino/index.ts")], bundle: true, format: "esm", write: false, metafile: true, logLevel: "silent", outfile: "index.js", external: ["tls", "net", "crypto", "Storage"] });
  const names = Object.values(declared.metafile.outputs)[0].exports;
  for (const name of ["espruinoPlatform", "DpsClient", "HubClient", "connectViaDps", "parseJson", "utf8Decode", "unload"]) assert.ok(names.includes(name), name + " declared");
  for (const name of names) assert.type(lib[name], "function", name);
  assert.is(env.liveTimers, 0, "loading starts no timer");
  assert.is(env.stats.opened, 0, "loading opens no socket");
});

stripped("connectViaDps with a bad cached assignment rejects with a typed error, it does not throw", async (context) => {
  const lib = context.env.require(MAIN);
  const platform = lib.espruinoPlatform();
  const key = randomBytes(32).toString("base64");
  let outcome: unknown;
  try {
    outcome = await lib.connectViaDps(platform, { dps: { idScope: "0ne00000000", registrationId: "cached-1", symmetricKey: key }, cached: { assignedHub: "", deviceId: "cached-1" } }).then(
      () => "connected",
      (error: { code?: string }) => error.code,
    );
  } catch (thrown) {
    outcome = "threw " + String(thrown);
  }
  assert.is(outcome, "ARGUMENT_INVALID");
  await nothingLeft(context);
});

stripped("short of memory for provisioning: a typed error up front, not the interpreter running out halfway", async (context) => {
  const lib = context.env.require(MAIN);
  const platform = lib.espruinoPlatform();
  const dps = { idScope: "0ne00000000", registrationId: "tight-1", symmetricKey: randomBytes(32).toString("base64") };
  context.env.freeVariables = 849;
  let thrown: { code?: string; message?: string } | undefined;
  try {
    lib.DpsClient(platform, dps);
  } catch (error) {
    thrown = error as { code?: string; message?: string };
  }
  assert.is(thrown?.code, "DPS_NO_MEMORY");
  assert.match(String(thrown?.message), /needs 850 free variables, 849 free/);
  const outcome = await lib.connectViaDps(platform, { dps }).then(() => "connected", (error: { code?: string }) => error.code);
  assert.is(outcome, "DPS_NO_MEMORY", "connectViaDps rejects with it");
  assert.equal(plain(context.env.evaluate("Modules.getCached()")).indexOf("azure-iot-mqtt-lite-dps"), -1, "the DPS module was not even loaded");
  context.env.freeVariables = 850;
  assert.type(lib.DpsClient(platform, dps).register, "function", "enough memory: the client is made");
  await nothingLeft(context);
});

stripped("the platform reports low memory under 400 free variables, so the hub holds no more telemetry there", ({ env }) => {
  const platform = env.require(MAIN).espruinoPlatform();
  env.freeVariables = 400;
  assert.is(platform.lowOnMemory(), false);
  env.freeVariables = 399;
  assert.is(platform.lowOnMemory(), true);
});

stripped("a timer of Infinity (a request timeout of Infinity, a huge retry-after) is armed, not thrown on: the interpreter refuses one over 100 years", ({ env }) => {
  const platform = env.require(MAIN).espruinoPlatform();
  assert.throws(() => env.evaluate("setTimeout(function () {}, Infinity)"), /too long/);
  const handle = platform.setTimer(Infinity, () => undefined);
  assert.type(handle, "number");
  platform.clearTimer(handle);
  assert.is(env.liveTimers, 0);
});

stripped("low memory is judged after a garbage collection: garbage not collected yet is not a reason to refuse", ({ env }) => {
  const platform = env.require(MAIN).espruinoPlatform();
  env.freeVariablesBeforeGc = 100;
  env.freeVariables = 2000;
  assert.is(platform.lowOnMemory(), false);
  env.freeVariables = 100;
  assert.is(platform.lowOnMemory(), true);
  env.freeVariablesBeforeGc = undefined;
});

stripped("clearTimer(undefined) (a timer never set) is harmless: the interpreter's clearTimeout(undefined) throws, and clearTimeout() would clear every timer", async ({ env }) => {
  const platform = env.require(MAIN).espruinoPlatform();
  let fired = false;
  platform.setTimer(5, () => (fired = true));
  platform.clearTimer(undefined);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.ok(fired, "another timer still fires");
});

stripped("the platform clock never runs back when setTime or SNTP steps the wall clock back", ({ env }) => {
  const lib = env.require(MAIN);
  const platform = lib.espruinoPlatform();
  const realNow = env.evaluate("Date.now");
  try {
    const readings = env.evaluate<(p: { now(): number }) => number[]>(`(function (p) {
      var wall = 1700000000000, out = [];
      Date.now = function () { return wall; };
      out.push(p.now()); wall += 1000; out.push(p.now());
      wall -= 60000; out.push(p.now());   // stepped back a minute
      wall += 500; out.push(p.now());
      wall += 120000; out.push(p.now());  // and forward again
      return out;
    })`)(platform);
    assert.equal(plain(readings), [1700000000000, 1700000001000, 1700000001000, 1700000001500, 1700000121500]);
  } finally {
    env.evaluate<(now: unknown) => void>("(function (now) { Date.now = now; })")(realNow);
  }
});

stripped("the platform clock takes the first setting of the board's clock (1970 to now) as no time passing", ({ env }) => {
  const lib = env.require(MAIN);
  const platform = lib.espruinoPlatform();
  const realNow = env.evaluate("Date.now");
  try {
    const readings = env.evaluate<(p: { now(): number }) => number[]>(`(function (p) {
      var wall = 5000, out = [];
      Date.now = function () { return wall; };
      out.push(p.now()); wall += 1000; out.push(p.now());
      wall = 1780000000000; out.push(p.now());   // SNTP sets the clock
      wall += 250; out.push(p.now());
      wall += 3600000; out.push(p.now());        // a later step forward is time passing
      return out;
    })`)(platform);
    assert.equal(plain(readings), [5000, 6000, 6000, 6250, 3606250]);
  } finally {
    env.evaluate<(now: unknown) => void>("(function (now) { Date.now = now; })")(realNow);
  }
});

stripped("provision through DPS, connect to the assigned hub, telemetry, reported, a method, C2D, close", async (context) => {
  const { sim, env } = context;
  const registrationId = "espruino-dev-" + ++counter;
  const key = randomBytes(32).toString("base64");
  sim.dps.enrollIndividual({ registrationId, attestation: { type: "symmetricKey", primaryKey: key } });
  const device = env.evaluate<(lib: unknown) => Device>(FIRMWARE)(env.require(MAIN));

  // Provision and connect.
  const provisioning = await within("provision", device.provision(env.value({ dps: { idScope: sim.idScope, registrationId, symmetricKey: key, host: sim.dpsHost, timeoutMs: 5000 }, hub: { reconnectMinMs: 50 } })));
  assert.equal(Object.keys(provisioning).sort(), ["assignedHub", "deviceId"], "the assignment only: the rest of the DPS answer is not held through the hub connection");
  assert.is(provisioning.assignedHub, sim.hubs[0]);
  assert.is(provisioning.deviceId, registrationId);
  const dpsRecords = sim.connections.filter((c) => c.service === "dps");
  assert.is(dpsRecords.length, 1, "one DPS connection");
  assert.is(dpsRecords[0].clientId, registrationId);
  assert.is(dpsRecords[0].refusal, undefined, "the SAS token signed with native SHA-256 was accepted");
  assert.is(dpsRecords[0].host, sim.dpsHost, "dialled by name");
  assert.ok(sim.assignedDevice(sim.hubs[0], registrationId), "DPS assigned the device");
  const cached = env.evaluate<string[]>("Modules.getCached()");
  assert.ok(cached.indexOf("azure-iot-mqtt-lite-dps") < 0 && cached.indexOf("azure-iot-mqtt-lite-hub") >= 0, "DPS unloaded before the hub: " + cached.join(","));
  assert.is(env.defrags, 3, "memory defragmented before each TLS connection (DPS, hub) and once DPS was unloaded");
  const hub = sim.hub();
  await waitFor(() => hub.isConnected(registrationId), "the device on its hub");
  const hubRecord = sim.connections.filter((c) => c.service === "hub" && c.clientId === registrationId);
  assert.is(hubRecord.length, 1);
  assert.is(hubRecord[0].refusal, undefined);
  assert.is(hubRecord[0].host, sim.hubs[0]);

  // Telemetry: a UTF-8 byte string (what a literal "é" is on the ESP32) arrives as UTF-8 JSON.
  await within("telemetry", device.telemetry(env.value({ temperature: 21.5, note: "caf\xc3\xa9" }), env.value({ "room name": "K\xc3\xbcche & Co", alert: "false" })));
  const message = await within("nextTelemetry", hub.nextTelemetry(registrationId));
  assert.equal(JSON.parse(message.payload.toString("utf8")), { temperature: 21.5, note: "café" });
  assert.equal(message.properties, { "room name": "Küche & Co", alert: "false" });
  assert.is(message.systemProperties["$.ct"], "application/json");
  assert.is(message.qos, 1);

  // Reported properties.
  const before = await within("twin", device.twin());
  const version = await within("report", device.report(env.value({ firmware: "1.2.0", nested: { a: 1 } })));
  assert.is(version, before.reported.$version + 1);
  assert.is(hub.twin(registrationId).reported.firmware, "1.2.0");
  assert.equal(hub.twin(registrationId).reported.nested, { a: 1 });

  // A direct method invoked by the cloud.
  const answer = await within("invokeMethod", hub.invokeMethod(registrationId, "reboot", { delay: 3 }, { timeoutMs: 3000 }));
  assert.equal(answer, { status: 200, payload: { delay: 3, ok: true, "café": "crème" } });
  assert.equal(plain(device.methods), [{ delay: 3 }]);

  // Cloud-to-device.
  const c2d = hub.sendC2D(registrationId, "turn on", { lamp: "a&b=c" }, { messageId: "c2d-1" });
  assert.is(await within("C2D settled", c2d.settled), "acknowledged");
  await waitFor(() => device.messages.length === 1, "the C2D message on the device");
  assert.equal(plain(device.messages), [{ payload: "turn on", properties: { lamp: "a&b=c" }, messageId: "c2d-1" }]);

  // Close: DISCONNECT, then the socket ends; nothing left behind (checked after each test).
  await within("close", device.close());
  await waitFor(() => hubRecord[0].closedAtMs !== undefined, "the hub to see the close");
  assert.is(hubRecord[0].closeReason, "disconnect");
  assert.equal(plain(device.errors), []);
  await waitFor(() => env.stats.open === 0, "every socket closed");

  const stats = env.stats;
  assert.is(stats.nonStringWrites, 0, "every write() was a byte string (a Uint8Array would go out as '1,2,3')");
  assert.is(stats.wideCharWrites, 0, "no char above 0xff was written");
  assert.ok(stats.largestChunk <= 536 && stats.chunks > 0, "data came in chunks of at most 536 bytes");
  assert.equal(stats.dialled.map((d) => [d.host, d.tls]), [[sim.dpsHost, true], [sim.hubs[0], true]]);
  assert.is(env.defrags, 3, "no defragmenting but before connecting and after unloading");
  console.log(`  stripped realm: ${stats.opened} TLS sockets, ${stats.writes} writes (largest ${stats.largestWrite} B), ${stats.chunks} data chunks (largest ${stats.largestChunk} B)`);
  await nothingLeft(context);
});

stripped("a hub session from a device connection string", async (context) => {
  const { sim, env } = context;
  const deviceId = "espruino-cs-" + ++counter;
  const { connectionString } = sim.hub().addDevice({ deviceId });
  const device = env.evaluate<(lib: unknown) => Device>(FIRMWARE)(env.require(MAIN));
  await within("open", device.open(env.value({ connectionString, reconnectMinMs: 50 })));
  const hub = sim.hub();
  assert.ok(hub.isConnected(deviceId));
  await within("telemetry", device.telemetry(env.value({ n: 1 }), env.value({ kind: "cs" })));
  const message = await within("nextTelemetry", hub.nextTelemetry(deviceId));
  assert.equal(JSON.parse(message.payload.toString()), { n: 1 });
  assert.equal(message.properties, { kind: "cs" });
  const answer = await within("invokeMethod", hub.invokeMethod(deviceId, "reboot", { delay: 1 }, { timeoutMs: 3000 }));
  assert.is(answer.status, 200);
  // unload() with the hub's TLS socket open: no defragmenting (it would move mbedTLS's state), and
  // a module that is not loaded is no error (the interpreter throws for it).
  const defrags = env.defrags;
  const lib = env.require(MAIN);
  lib.unload("azure-iot-mqtt-lite-dps");
  assert.is(env.defrags, defrags, "not while the hub's socket is open");
  await within("close", device.close());
  await waitFor(() => env.stats.open === 0, "every socket closed");
  lib.unload("azure-iot-mqtt-lite-hub");
  assert.is(env.defrags, defrags + 1, "once every socket is closed");
  const record = sim.connections.find((c) => c.clientId === deviceId)!;
  assert.is(record.refusal, undefined);
  assert.is(record.closeReason, "disconnect");
  assert.equal(plain(device.errors), []);
  assert.is(env.stats.nonStringWrites, 0);
  assert.equal(env.stats.dialled.map((d) => d.host), [sim.hubs[0]]);
  await nothingLeft(context);
});

stripped("the server ends the link (error -30848, end, close): the device reconnects by itself and carries on", async (context) => {
  const { sim, env } = context;
  const deviceId = "espruino-drop-" + ++counter;
  const { connectionString } = sim.hub().addDevice({ deviceId });
  const device = env.evaluate<(lib: unknown) => Device>(FIRMWARE)(env.require(MAIN));
  await within("open", device.open(env.value({ connectionString, reconnectMinMs: 20, reconnectMaxMs: 50 })));
  const hub = sim.hub();
  assert.ok(hub.dropConnection(deviceId));
  await waitFor(() => device.disconnects.length === 1, "the device to notice the drop");
  assert.is(device.disconnects[0], "CONNECTION_LOST");
  await waitFor(() => sim.connections.filter((c) => c.clientId === deviceId && c.closedAtMs === undefined).length === 1 && hub.isConnected(deviceId), "the device back on its hub", 3000);
  await within("telemetry", device.telemetry(env.value({ after: "drop" }), env.value({})));
  assert.equal(JSON.parse((await within("nextTelemetry", hub.nextTelemetry(deviceId))).payload.toString()), { after: "drop" });
  await within("close", device.close());
  await waitFor(() => env.stats.open === 0, "every socket closed");
  assert.equal(plain(device.errors), [], "the close_notify error is not reported as an error");
  assert.is(sim.connections.filter((c) => c.clientId === deviceId).length, 2);
  await nothingLeft(context);
});

// platform-espruino/platform.ts sizes the platform's limits for an ESP32's ~2,500 variables (~35 KB):
// one inbound packet of at most 8 KB (a twin document or a C2D message a device can use), a short
// offline queue (16 messages and 8 KB; each held message costs about 50 variables with its promise,
// core/hub.ts), two publishes in flight. A client given no limits of its own must keep to them.
const ESP32_LIMITS = { maxPacketBytes: 8 * 1024, maxQueuedMessages: 16, maxQueuedBytes: 8 * 1024, maxInflight: 2 };

stripped("the platform's limits fit an ESP32, and a hub client on it keeps 2 publishes in flight and holds 16 messages or 8 KB, then QUEUE_FULL", async (context) => {
  const { sim, env } = context;
  const lib = env.require(MAIN);
  assert.equal(plain(lib.espruinoPlatform().limits), ESP32_LIMITS);
  const deviceId = "espruino-limits-" + ++counter;
  const { connectionString } = sim.hub().addDevice({ deviceId });
  const device = env.evaluate<(lib: unknown) => Device>(FIRMWARE)(lib);
  await within("open", device.open(env.value({ connectionString })));
  const hub = sim.hub();
  // The hub records every message but acknowledges none: each stays held until the close.
  hub.injectFault({ step: "telemetry", action: { kind: "no-ack" }, deviceId, times: Infinity });
  // Each message's outcome: refused at once, or held (in flight or queued) until the close.
  const outcomes: string[] = [];
  const send = (value: unknown) => {
    const at = outcomes.push("held") - 1;
    device.telemetry(env.value(value), env.value({})).then(
      () => (outcomes[at] = "sent"),
      (error: { code?: string; message?: string }) => (outcomes[at] = error.code + " " + error.message),
    );
  };
  send({ big: "x".repeat(4000) }); // about half the 8 KB
  send({ big: "y".repeat(4500) }); // the two together are over it
  for (let n = 0; n < 16; n++) send({ n }); // 15 more fit the count, the 16th does not
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(outcomes, ["held", "QUEUE_FULL queue full: 8192 bytes", ...Array(15).fill("held"), "QUEUE_FULL queue full: 16 messages"]);
  await waitFor(() => hub.telemetryOf(deviceId).length >= 2, "two messages at the hub");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(hub.telemetryOf(deviceId).map((m) => Object.keys(JSON.parse(m.payload.toString()))[0]), ["big", "n"], "no third message before a PUBACK");
  await within("close", device.close());
  await waitFor(() => outcomes.indexOf("held") < 0, "every held message settled by the close");
  assert.equal(outcomes.filter((outcome) => outcome.indexOf("QUEUE_FULL") < 0), Array(16).fill("CLIENT_CLOSED client closed"));
  await nothingLeft(context);
});

stripped("on the platform's limits a C2D message over 8 KB is acknowledged and reported, not taken in; the connection goes on; 7 KB arrives", async (context) => {
  const { sim, env } = context;
  const deviceId = "espruino-inbound-" + ++counter;
  const { connectionString } = sim.hub().addDevice({ deviceId });
  const device = env.evaluate<(lib: unknown) => Device>(FIRMWARE)(env.require(MAIN));
  await within("open", device.open(env.value({ connectionString, reconnectMinMs: 50 })));
  const hub = sim.hub();
  const fits = hub.sendC2D(deviceId, "a".repeat(7 * 1024));
  assert.is(await within("C2D settled", fits.settled), "acknowledged");
  await waitFor(() => device.messages.length === 1, "the C2D message on the device");
  assert.is(device.messages[0].payload, "a".repeat(7 * 1024));
  // Unacknowledged, the hub would send it again on every connection (CleanSession 0), and a
  // device that dropped the connection over it would never get past it.
  const tooLarge = hub.sendC2D(deviceId, "b".repeat(ESP32_LIMITS.maxPacketBytes));
  assert.is(await within("C2D settled", tooLarge.settled), "acknowledged");
  // (Arrays made in the device's realm are copied into this one to compare.)
  assert.equal(Array.from(device.errors, (e) => e.split(" ")[0]), ["MQTT_TOO_LARGE"]);
  assert.match(device.errors[0], "dropped: over the maximum of " + ESP32_LIMITS.maxPacketBytes);
  assert.is(device.messages.length, 1, "nothing of it reached the firmware");
  const after = hub.sendC2D(deviceId, "c");
  assert.is(await within("C2D settled", after.settled), "acknowledged");
  await waitFor(() => device.messages.length === 2, "the next message");
  assert.is(device.disconnects.length, 0, "on the same connection");
  await within("close", device.close());
  await nothingLeft(context);
});

stripped("a packet past 64 KB (limits raised on a big board) goes out although views stop at 64 KB", async (context) => {
  const { sim, env } = context;
  assert.throws(() => env.evaluate("new Uint8Array(70000).subarray(66000, 66010)"), /byteOffset too large/, "the realm has the limit");
  const deviceId = "espruino-big-" + ++counter;
  const { connectionString } = sim.hub().addDevice({ deviceId });
  const device = env.evaluate<(lib: unknown) => Device>(FIRMWARE)(env.require(MAIN));
  await within("open", device.open(env.value({ connectionString, maxQueuedBytes: 200000, maxPacketBytes: 200000 })));
  const hub = sim.hub();
  const big = "x".repeat(70000);
  await within("telemetry", device.telemetry(env.value({ big }), env.value({})));
  const message = await within("nextTelemetry", hub.nextTelemetry(deviceId));
  assert.is(JSON.parse(message.payload.toString()).big.length, 70000);
  await within("close", device.close());
  assert.equal(plain(device.errors), []);
  await nothingLeft(context);
});

stripped("X.509: PEM becomes one DER block per option (the key's, past EC PARAMETERS); chains are refused", async (context) => {
  const { sim, env } = context;
  const authority = createCertificateAuthority("espruino-test-ca");
  const device = issueClientCertificate(authority, "x509-dev-1");
  const keyDer = createPrivateKey(device.keyPem).export({ type: "pkcs8", format: "der" });
  const keyFile = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + device.keyPem;
  const lib = env.require(MAIN);
  const platform = lib.espruinoPlatform();
  const base = { idScope: sim.idScope, registrationId: "x509-dev-1", host: sim.dpsHost, timeoutMs: 3000, maxRetries: 0 };

  const client = new lib.DpsClient(platform, env.value({ ...base, cert: device.certificatePem, key: keyFile }));
  const settled = client.register().then(() => "assigned", (error: { code?: string }) => error.code);
  await waitFor(() => env.stats.dialled.length === 1, "the DPS socket dialled");
  client.cancel();
  await within("register", settled);
  assert.equal(env.stats.dialled[0], { host: sim.dpsHost, port: 8883, tls: true, ca: undefined, cert: new X509Certificate(device.certificatePem).raw.length + " bytes of DER", key: keyDer.length + " bytes of DER" });

  // A P-256 key without its public part: 51 bytes of DER, which as a string the interpreter would
  // take for a file's path ("Could not open file", retried as a refused connection).
  const scalar = createPrivateKey(device.keyPem).export({ format: "jwk" }).d as string;
  const shortKey = Buffer.concat([Buffer.from("30310201010420", "hex"), Buffer.from(scalar, "base64url"), Buffer.from("a00a06082a8648ce3d030107", "hex")]);
  const shortPem = "-----BEGIN EC PRIVATE KEY-----\n" + shortKey.toString("base64") + "\n-----END EC PRIVATE KEY-----\n";
  const short = new lib.DpsClient(platform, env.value({ ...base, cert: device.certificatePem, key: shortPem }));
  const shortSettled = short.register().then(() => "assigned", (error: { code?: string }) => error.code);
  await waitFor(() => env.stats.dialled.length === 2, "the DPS socket dialled with the short key");
  short.cancel();
  await within("register", shortSettled);
  assert.is(env.stats.dialled[1].key, "51 bytes of DER");

  const chain = new lib.DpsClient(platform, env.value({ ...base, cert: device.certificatePem + authority.certificatePem, key: device.keyPem }));
  const error = await within<{ code?: string; message?: string }>("register", chain.register().then(() => ({}), (failure: { code?: string; message?: string }) => failure));
  assert.is(error.code, "TLS_CONFIG_INVALID");
  assert.match(String(error.message), /a chain/);
  assert.is(env.stats.dialled.length, 2, "a chain is not dialled");
  await nothingLeft(context);
});

// A firmware for Unicode builds, where literals hold UTF-8 and received bytes are read with E.asUTF8.
const UNICODE_FIRMWARE = `(function (lib) {
  var platform = lib.espruinoPlatform();
  var device = { messages: [], methods: [], errors: [] };
  device.open = function (options) {
    var client = device.client = new lib.HubClient(platform, options);
    client.on("message", function (message) {
      device.messages.push({ payload: E.asUTF8(E.toString(message.payload)), properties: message.properties });
    });
    client.on("error", function (error) { device.errors.push(error.code + " " + error.message); });
    client.onMethod("greet", function (request) {
      var body = JSON.parse(E.asUTF8(E.toString(request.payload)));
      device.methods.push(body);
      return { status: 200, payload: { reply: body.name + " \u2615", emoji: "\ud83d\ude00" } };
    });
    return client.connect();
  };
  device.telemetry = function (value, properties) { return device.client.sendTelemetry(value, { properties: properties }); };
  device.report = function (patch) { return device.client.updateReported(patch); };
  device.close = function () { return device.client.close(); };
  return device;
})`;

stripped("Unicode firmware: text goes out as UTF-8 and comes back as text (payloads, properties, twin, methods, C2D)", async (context) => {
  const { sim } = context;
  const env = new EspruinoEnvironment({ storage: shippedStorage(), lookup: (host) => sim.resolve(host), ca: sim.ca, unicode: true });
  try {
    assert.is(env.evaluate("E.toUint8Array(JSON.parse('\"\\\\u00e9\"')).length"), 2, "the realm holds parsed text as UTF-8, as the Linux build does");
    const deviceId = "espruino-unicode-" + ++counter;
    const { connectionString } = sim.hub().addDevice({ deviceId });
    const device = env.evaluate<(lib: unknown) => any>(UNICODE_FIRMWARE)(env.require(MAIN));
    await within("open", device.open(env.value({ connectionString, reconnectMinMs: 50 })));
    const hub = sim.hub();

    await within("telemetry", device.telemetry(env.value({ note: "café €1 😀" }), env.value({ Zimmer: "Küche €", "ключ": "значение" })));
    const message = await within("nextTelemetry", hub.nextTelemetry(deviceId));
    assert.equal(JSON.parse(message.payload.toString("utf8")), { note: "café €1 😀" });
    assert.equal(message.properties, { Zimmer: "Küche €", "ключ": "значение" });

    await within("report", device.report(env.value({ greeting: "grüße 😀" })));
    assert.is(hub.twin(deviceId).reported.greeting, "grüße 😀");

    const answer = await within("invokeMethod", hub.invokeMethod(deviceId, "greet", { name: "Zoë" }, { timeoutMs: 3000 }));
    assert.equal(answer, { status: 200, payload: { reply: "Zoë ☕", emoji: "😀" } });
    assert.equal(plain(device.methods), [{ name: "Zoë" }]);

    const c2d = hub.sendC2D(deviceId, "Grüße 😀", { lamp: "grün €" }, { messageId: "u-1" });
    assert.is(await within("C2D settled", c2d.settled), "acknowledged");
    await waitFor(() => device.messages.length === 1, "the C2D message on the device");
    assert.equal(plain(device.messages), [{ payload: "Grüße 😀", properties: { lamp: "grün €" } }]);

    await within("close", device.close());
    await waitFor(() => env.stats.open === 0, "every socket closed");
    assert.equal(plain(device.errors), []);
    assert.is(env.stats.wideCharWrites, 0, "only bytes were written");
  } finally {
    env.dispose();
  }
});

stripped("an unknown host: connect() throws at once, as on Espruino, and the library reports CONNECTION_REFUSED", async (context) => {
  const { sim, env } = context;
  const lib = env.require(MAIN);
  const platform = lib.espruinoPlatform();
  const client = new lib.DpsClient(platform, env.value({ idScope: sim.idScope, registrationId: "nowhere-1", symmetricKey: randomBytes(32).toString("base64"), host: "no-such-dps.example.test", timeoutMs: 3000, maxRetries: 0 }));
  const error = await within<{ code?: string; message?: string } | undefined>("register", client.register().then(
    () => undefined,
    (failure: { code?: string }) => failure,
  ));
  assert.ok(error, "register() rejected");
  assert.is(error!.code, "CONNECTION_REFUSED", String(error!.message));
  assert.is(env.stats.opened, 0, "no socket was opened");
  await nothingLeft(context);
});

stripped("a certificate mbedTLS refuses is TLS_CONFIG_INVALID, not retryable; a firmware without tls or crypto says CRYPTO_UNAVAILABLE", async (context) => {
  const { sim, env } = context;
  const lib = env.require(MAIN);
  const register = (platform: unknown, options: object) =>
    within<{ code?: string; retryable?: boolean; message?: string }>("register", new lib.DpsClient(platform, env.value({ idScope: sim.idScope, host: sim.dpsHost, timeoutMs: 3000, maxRetries: 0, ...options })).register().then(
      () => ({ code: "resolved" }),
      (failure: { code?: string; retryable?: boolean; message?: string }) => failure,
    ));
  // Not DER (it would need to start with a SEQUENCE): the interpreter throws "HTTPS init failed! mbedtls_...".
  // (Over 100 bytes: a shorter string is a file's path to the interpreter.)
  const refused = await register(lib.espruinoPlatform(), { registrationId: "x509-bad-1", cert: "not a certificate ".repeat(8), key: "not a key ".repeat(12) });
  assert.is(refused.code, "TLS_CONFIG_INVALID", String(refused.message));
  assert.not.ok(refused.retryable);
  await nothingLeft(context);
  for (const missing of ["tls", "crypto"]) {
    const bare = new EspruinoEnvironment({ storage: shippedStorage(), lookup: (host) => sim.resolve(host), ca: sim.ca, missing: [missing] });
    try {
      const bareLib = bare.require(MAIN);
      const failure = await within<{ code?: string; retryable?: boolean }>("register", new bareLib.DpsClient(bareLib.espruinoPlatform(), bare.value({ idScope: sim.idScope, registrationId: "bare-1", symmetricKey: randomBytes(32).toString("base64"), host: sim.dpsHost, timeoutMs: 3000, maxRetries: 0 })).register().then(
        () => ({ code: "resolved" }),
        (error: { code?: string; retryable?: boolean }) => error,
      ));
      assert.is(failure.code, "CRYPTO_UNAVAILABLE", "without " + missing);
      assert.not.ok(failure.retryable);
    } finally {
      bare.dispose();
    }
  }
});

stripped.run();
