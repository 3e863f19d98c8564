// Firmware for an ESP32 running Espruino: join WiFi, get the time, provision through Azure DPS
// (once: the assignment is saved in Storage), then live on the assigned IoT Hub with telemetry
// every minute, a direct method, desired properties and cloud-to-device messages. The library
// reconnects by itself (backoff with jitter, a fresh SAS token before expiry, provisioning again
// if the hub keeps refusing the device). Install the three modules first (see README).
// Written in the subset Espruino runs: no arrow functions needed, no default parameters.

var WIFI_SSID = "my-network";
var WIFI_PASSWORD = "my-password";
var ID_SCOPE = "0ne00XXXXXX";
var REGISTRATION_ID = "esp32-kitchen-01";
var DEVICE_KEY = "base64 key of the enrollment"; // or groupKey: the group enrollment key
var SAVED = "azure-dps.json"; // the hub and device id DPS assigned, so a reboot goes straight there
var RESTARTS = "azure-restarts.json"; // restarts in a row to provision again (they wait longer each time)

var restart; // the pending restart, if the hub kept refusing the device
var wifiUp = false; // joined: failures to reach the hub are then the hub's, not the network's

var wifi = require("Wifi");
var storage = require("Storage");
var azure = require("azure-iot-mqtt-lite");

/** SAS tokens carry an expiry: without the real time the hub would refuse them (CLOCK_NOT_SET). */
function whenTimeIsSet(then) {
  if (Date.now() > 1577836800000) return then();
  setTimeout(function () {
    whenTimeIsSet(then);
  }, 1000);
}

function live(client) {
  var seq = 0;
  setInterval(function () {
    var n = ++seq; // this message's number: acknowledgements may come late, after the next ones
    client.sendTelemetry({ seq: n, temperature: E.getTemperature() }).then(
      function () {
        console.log("telemetry", n, "acknowledged");
      },
      function (error) {
        // QUEUE_FULL while offline for long; the message is not silently dropped: we hear of it.
        console.log("telemetry", n, "failed:", error.code);
      }
    );
  }, 60000);
  client.updateReported({ firmware: "1.0.0", freeVars: process.memory().free }).then(undefined, function (error) {
    console.log("reported properties not updated:", error.code); // TWIN_TIMEOUT if offline for 30 s
  });
}

/** The hub kept refusing the device, and provisioning again does not fit in memory next to the hub
 * client and this firmware (the library alone needs about 2,500 variables for it): forget the
 * refused hub and restart, to provision first.
 * A hub that refuses for good (a disabled device) would make that a loop: each restart in a row
 * waits twice as long, from a minute up to an hour; connecting resets the count. */
function provisionAfterRestart() {
  if (restart) return; // one is already on its way
  var rounds = (storage.readJSON(RESTARTS, true) || 0) + 1;
  storage.writeJSON(RESTARTS, rounds);
  storage.erase(SAVED);
  // Jittered (half to all of it), so a fleet cut off together does not come back in step.
  var waitMs = Math.min(3600000, 60000 * Math.pow(2, rounds - 1)) * (0.5 + Math.random() / 2);
  console.log("restarting to provision again in", waitMs / 1000, "s");
  restart = setTimeout(function () {
    E.reboot();
  }, waitMs);
}

function setup(client) {
  // Attached before connecting, so nothing that arrives right away is missed.
  client.onMethod("blink", function (request) {
    // parseJson, not JSON.parse(E.toString(...)): it keeps text that senders escape (\u00e9) as UTF-8.
    var body = request.payload.length ? azure.parseJson(request.payload) : {};
    digitalPulse(LED1, 1, (body && body.ms) || 200);
    return { status: 200, payload: { blinked: true } };
  });
  // Save where the device lives on every connection: the client provisions again by itself when
  // the hub keeps refusing it, and the next boot should go to the new hub, not the refused one.
  client.on("connected", function () {
    var saved = storage.readJSON(SAVED, true);
    if (!saved || saved.assignedHub !== client.hostName || saved.deviceId !== client.deviceId) {
      storage.writeJSON(SAVED, { assignedHub: client.hostName, deviceId: client.deviceId });
    }
    if (storage.read(RESTARTS) !== undefined) storage.erase(RESTARTS);
    if (restart) {
      clearTimeout(restart); // the hub took the device back meanwhile
      restart = undefined;
    }
  });
  client.on("message", function (message) {
    console.log("cloud-to-device:", E.toString(message.payload), JSON.stringify(message.properties));
  });
  client.on("desired", function (desired, version) {
    console.log("desired v" + version + ":", JSON.stringify(desired));
  });
  client.on("disconnected", function (error) {
    console.log("disconnected:", error.code, "(reconnecting)");
  });
  client.on("error", function (error) {
    console.log("error:", error.code, error.message);
    // Three refusals of the device's credentials in a row, or ten minutes of failed reconnects,
    // make the client provision again, which does not fit next to it: restart to do it first. Not while WiFi is down: the hub is not the one to blame then,
    // and the client keeps trying by itself.
    if (error.code === "DPS_NO_MEMORY" && wifiUp) provisionAfterRestart();
  });
}

// Memory: measured on the interpreter (2v29, ESP32 variable format, modules in Storage), this
// example completes with 2,150 variables: provisioning, then the hub session with its listeners,
// saved state and timers. A 2,500-variable ESP32 leaves about 350 for more: keep the firmware's
// own state small, or split the work: provision alone on the first boot
// (azure.DpsClient(platform, dps).register(), save result.assignedHub and deviceId, E.reboot()),
// and on later boots use new azure.HubClient(platform, { hostName, deviceId, sharedAccessKey })
// directly (it does not provision again by itself if the hub refuses the device).
function start() {
  var platform = azure.espruinoPlatform();
  azure
    .connectViaDps(platform, {
      dps: { idScope: ID_SCOPE, registrationId: REGISTRATION_ID, symmetricKey: DEVICE_KEY },
      cached: storage.readJSON(SAVED, true),
      setup: setup,
    })
    .then(
      function (connected) {
        console.log("on", connected.client.hostName, "as", connected.client.deviceId, "free vars", process.memory().free);
        live(connected.client);
      },
      function (error) {
        console.log("could not connect:", error.code, error.message);
        // The hub never took the device, and provisioning again does not fit next to its client:
        // restart to provision first (the waits grow with each restart in a row). Not while WiFi
        // is down: the saved hub is not the one to blame then, so try it again later.
        if (error.code === "DPS_NO_MEMORY") return wifiUp ? provisionAfterRestart() : setTimeout(start, 60000);
        // DPS unreachable or busy for long (DPS_TIMEOUT, DPS_THROTTLED ...), or an assignment that
        // is no IoT hub name (DPS_BAD_RESPONSE: an interceptor, see README): try again later. What
        // retrying cannot fix (a wrong key, a disabled enrollment) waits for someone to look.
        if (error.retryable) setTimeout(start, 600000 * (0.5 + Math.random() / 2));
      }
    );
}

// Measured, the example needs about 2,150 variables (README, "Memory"): on a board with fewer it
// would run out and restart over and over. (On an ESP32, ESP32.enableBLE(false) gives about 1,800
// more; it erases the saved code, so run it before sending the firmware.)
if (process.memory().total < 2150) console.log("only", process.memory().total, "variables: this needs about 2,150");

// Out of memory inside a socket or timer callback, the interpreter drops that callback and the
// client never hears of it (no "error", no retry): the device would sit silent. The interpreter
// flags it, so check now and then and restart. (LOW_MEMORY alone is only a garbage collection.)
setInterval(function () {
  if (E.getErrorFlags().indexOf("MEMORY") >= 0) {
    console.log("ran out of memory: restarting");
    E.reboot();
  }
}, 30000);

var started = false; // start() runs once: after that the client reconnects by itself
var rejoin; // the pending WiFi rejoin, if any

/** The ESP32's WiFi does not rejoin by itself once the access point is gone (2v29), and a join that
 * fails may never call back: rejoin after every "disconnected" (also sent for a failed join). */
function joinWifi() {
  wifi.connect(WIFI_SSID, { password: WIFI_PASSWORD }, function (error) {
    if (error) return console.log("WiFi:", error);
    wifiUp = true;
    // Once per boot: SNTP keeps polling through WiFi drops, and on the ESP32 setSNTP starts it
    // again without stopping it first (2v29), which lwIP asserts against. On the ESP32 the zone
    // is a POSIX TZ string (a number throws "Zone is not a string").
    if (started) return;
    started = true;
    wifi.setSNTP("pool.ntp.org", "UTC0");
    whenTimeIsSet(start);
  });
}
wifi.on("disconnected", function () {
  wifiUp = false;
  if (rejoin) return;
  rejoin = setTimeout(function () {
    rejoin = undefined;
    joinWifi();
  }, 10000);
});
joinWifi();
