// Boots examples/espruino-device.js for bench/espruino-memory.bench.ts as an ESP32 runs saved boot
// code: at the root (this file is the interpreter's script, so eval runs there; the example's
// `var`s become globals), from flash (the example is a Storage file: its functions stay there). Prints "@@ peak <n>" whenever process.memory().usage (sampled
// every 50 ms) reaches a new high. The board's LED is a no-op here.
var peak = 0;
setInterval(function () {
  var usage = process.memory().usage;
  if (usage > peak) console.log("@@ peak " + (peak = usage));
}, 50);
global.LED1 = 0;
global.digitalPulse = function () {};
eval(require("Storage").read("example"));
