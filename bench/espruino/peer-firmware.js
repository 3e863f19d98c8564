// The peer of bench/espruino-memory.bench.ts, after sampler.js: the same steps done by hand with
// Espruino's own MQTT module (EspruinoDocs modules/MQTT.js, installed as the Storage file "MQTT"),
// measured the same way as memory-firmware.js. The bench computes its SAS tokens; it sends no PUBACK and tracks no
// acknowledgement, so it is the floor of what the steps cost, not an equal of the library.
// CONFIG is written in by the bench: { scenario, ports, username, password, clientId, hub, deviceId, dps }.
var CONFIG = {};

function open(host, clientId, onConnected, onMessage) {
  var mqtt = require("MQTT").create(host, { client_id: clientId, username: CONFIG.username, password: CONFIG.password, keep_alive: 240 });
  mqtt.on("connected", function () {
    onConnected(mqtt);
  });
  mqtt.on("message", function (topic, message) {
    onMessage(mqtt, topic, message);
  });
  mqtt.on("error", function (error) {
    say("FAIL " + error);
  });
  var socket = require("tls").connect({ host: "127.0.0.1", port: CONFIG.ports[host] }, function () {
    mqtt.connect(socket);
  });
  socket.on("error", function (error) {
    say("FAIL socket " + error);
  });
}

if (CONFIG.scenario === "peer-provisioning") {
  var dps = CONFIG.dps;
  open(
    CONFIG.dpsHost,
    dps.registrationId,
    function (mqtt) {
      say("connected");
      mqtt.subscribe("$dps/registrations/res/#", 1);
      mqtt.publish("$dps/registrations/PUT/iotdps-register/?$rid=1", JSON.stringify({ registrationId: dps.registrationId }), 0);
    },
    function (mqtt, topic, message) {
      var answer = JSON.parse(message);
      if (topic.indexOf("$dps/registrations/res/202/") === 0) {
        setTimeout(function () {
          mqtt.publish("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=" + answer.operationId, "", 0);
        }, 1000);
      } else if (topic.indexOf("$dps/registrations/res/200/") === 0) {
        say("provisioned " + answer.registrationState.assignedHub);
        mqtt.disconnect();
        say("DONE");
      } else say("FAIL " + topic);
    }
  );
} else if (CONFIG.scenario === "peer-session") {
  var id = CONFIG.deviceId;
  open(
    CONFIG.hub,
    CONFIG.clientId,
    function (mqtt) {
      say("connected");
      mqtt.subscribe("$iothub/methods/POST/#", 0);
      mqtt.subscribe("devices/" + id + "/messages/devicebound/#", 1);
      mqtt.subscribe("$iothub/twin/res/#", 0);
      mqtt.subscribe("$iothub/twin/PATCH/properties/desired/#", 0);
      // The whole twin, as the library asks for it on each connection when desired properties are listened to.
      mqtt.publish("$iothub/twin/GET/?$rid=0", "", 0);
    },
    function (mqtt, topic, message) {
      if (topic.indexOf("$iothub/twin/res/200/") === 0) {
        say("twin " + Object.keys(JSON.parse(message).desired).length);
        mqtt.publish("devices/" + id + "/messages/events/", JSON.stringify({ seq: 1, temperature: 21.5 }), 1);
        say("telemetry");
        mqtt.publish("$iothub/twin/PATCH/properties/reported/?$rid=1", JSON.stringify({ firmware: "1.0.0" }), 0);
      } else if (topic.indexOf("$iothub/twin/res/204/") === 0) say("ready");
      else if (topic.indexOf("$iothub/methods/POST/reboot/") === 0) {
        say("method");
        mqtt.publish("$iothub/methods/res/200/?$rid=" + topic.split("$rid=")[1], JSON.stringify({ ok: true }), 0);
      } else if (topic.indexOf("devices/" + id + "/messages/devicebound/") === 0) say("c2d " + message.length);
      else if (topic.indexOf("$iothub/twin/PATCH/properties/desired/") === 0) {
        say("desired");
        mqtt.disconnect();
        say("DONE");
      } else say("FAIL " + topic);
    }
  );
}
