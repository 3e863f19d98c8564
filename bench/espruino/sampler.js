// Put first in the firmware bench/espruino-memory.bench.ts runs (memory-firmware.js, peer-firmware.js).
// It keeps the highest process.memory().usage it sees (sampled every 50 ms and at each step) and
// reports steps on the console as "@@ <step> <peak>", which the bench reads to drive the simulator;
// mark() reports the variables in use at a point instead of the peak.
var peak = 0;
function sample() {
  var usage = process.memory().usage;
  if (usage > peak) peak = usage;
}
function say(step) {
  sample();
  if (typeof profileReport === "function") profileReport();
  console.log("@@ " + step + " " + peak);
}
function mark(point) {
  console.log("@@ usage:" + point + " " + process.memory().usage);
}
function fail(error) {
  say("FAIL " + (error && error.code) + " " + (error && error.message));
}
setInterval(sample, 50);
say("start");
