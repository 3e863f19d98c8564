// The device side of bench/espruino-memory.bench.ts, after sampler.js, evaluated by the Espruino
// interpreter at the root from a Storage file, as an ESP32 runs saved boot code (its functions stay
// in flash). CONFIG is written in by the bench: { scenario, ports: { host: port }, dps, connectionString }.
var CONFIG = {};
mark("start");
var lib = require("azure-iot-mqtt-lite");
mark("main");
if (CONFIG.profile) {
  require("azure-iot-mqtt-lite-hub");
  profileGlobals(CONFIG.profile.globals, CONFIG.profile.members);
}
var platform = lib.espruinoPlatform({
  resolve: function (host) {
    return { host: "127.0.0.1", port: CONFIG.ports[host.toLowerCase()] };
  },
});
mark("platform");

/** Telemetry, a reported-properties update, then the bench invokes a method, sends a C2D message
 * and patches the desired properties; the client closes once the patch arrives. An "error" event
 * fails the run, unless `tolerant` (the bench injects faults). */
function session(client, tolerant) {
  client.onMethod("reboot", function () {
    say("method");
    return { status: 200, payload: { ok: true } };
  });
  client.on("message", function (message) {
    say("c2d " + message.payload.length);
  });
  client.on("desired", function (desired, version, complete) {
    // The whole document arrives first, right after connecting; the bench's patch comes last.
    say(complete ? "twin" : "desired");
    if (complete) return;
    client.close().then(function () {
      say("DONE");
    }, fail);
  });
  client.on("error", tolerant ? function (error) {
    say("error " + error.code);
  } : fail);
  if (tolerant) client.on("disconnected", function (error) {
    say("disconnected " + error.code);
  });
}
function afterConnect(client) {
  say("connected");
  client.sendTelemetry({ seq: 1, temperature: 21.5 }).then(function () {
    say("telemetry");
    return client.updateReported({ firmware: "1.0.0" });
  }).then(function () {
    say("ready");
  }, fail);
}

if (CONFIG.scenario === "provisioning") {
  var dps = lib.DpsClient(platform, CONFIG.dps);
  dps.register().then(function (result) {
    dps = undefined;
    say("provisioned " + result.assignedHub);
    lib.unload("azure-iot-mqtt-lite-dps");
    say("DONE");
  }, fail);
} else if (CONFIG.scenario === "connection-string") {
  require("azure-iot-mqtt-lite-hub"); // what HubClient() loads, loaded first to be measured apart
  mark("hub");
  var hub = lib.HubClient(platform, { connectionString: CONFIG.connectionString });
  mark("client");
  session(hub);
  hub.connect().then(function () {
    afterConnect(hub);
  }, fail);
} else if (CONFIG.scenario === "via-dps") {
  lib.connectViaDps(platform, { dps: CONFIG.dps, setup: session }).then(function (result) {
    afterConnect(result.client);
  }, fail);
} else if (CONFIG.scenario === "faults") {
  // The bench has the hub refuse the first connection (3: server unavailable), answer the first
  // twin GET with 429, drop the connection at the first telemetry message and answer the first
  // reported patch with 503: the session must still complete.
  var faulty = lib.HubClient(platform, { connectionString: CONFIG.connectionString, reconnectMinMs: 100, reconnectMaxMs: 400 });
  session(faulty, true);
  faulty.connect().then(function () {
    afterConnect(faulty);
  }, fail);
} else if (CONFIG.scenario === "reprovision") {
  // Once ready, the bench moves the device's enrollment to the second hub and has the first refuse
  // it: the client provisions again by itself (DPS_NO_MEMORY, an "error", fails the run).
  lib.connectViaDps(platform, {
    dps: CONFIG.dps,
    hub: { reconnectMinMs: 100, reconnectMaxMs: 400 },
    reprovisionAfter: 2,
    setup: function (client) {
      client.on("error", fail);
      client.on("reprovisioning", function () {
        say("reprovisioning");
      });
      client.on("connected", function () {
        say("connected to " + client.hostName);
        if (client.hostName !== CONFIG.hubs[1]) return;
        client.close().then(function () {
          say("DONE");
        }, fail);
      });
    },
  }).then(function () {
    say("ready");
  }, fail);
} else if (CONFIG.scenario === "cuts") {
  // The bench cuts the connection after each "in-use" step; the client reconnects by itself.
  var cut = lib.HubClient(platform, { connectionString: CONFIG.connectionString, reconnectMinMs: 100, reconnectMaxMs: 400 });
  var rounds = 0;
  session(cut);
  cut.on("desired", function (desired, version, complete) {
    // Once connected and the twin is in (the client asks for it on each connection): variables in
    // use, not the peak, to see what stays. On the next turn, outside this callback.
    if (complete) setTimeout(function () {
      mark("in-use " + ++rounds);
    }, 0);
  });
  cut.connect().then(undefined, fail);
} else if (CONFIG.scenario === "renewals") {
  var renewing = lib.HubClient(platform, { connectionString: CONFIG.connectionString, sasTtlSeconds: 3 });
  var connections = 0;
  renewing.on("connected", function () {
    say("connected " + ++connections);
    if (connections === 3) renewing.close().then(function () {
      say("DONE");
    }, fail);
  });
  renewing.on("error", fail);
  renewing.connect().then(undefined, fail);
}
