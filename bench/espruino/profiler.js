// With ESPRUINO_PROFILE=1, put before the firmware by bench/espruino-memory.bench.ts: every
// function of the library's (the modules' globals, and the methods of their classes) is wrapped
// to read the variables in use on entry and exit, so each step reports where, in which call
// path, memory was highest since the step before: "@@ profile <path> <most in use>". The wrappers
// cost thousands of variables themselves (the bench then runs with the interpreter's default
// count): read where the peaks are and by how much they rise, not the totals.
var PROFILE = { max: 0, at: "", stack: [], wrapped: {} };
function profileProbe() {
  var usage = process.memory(false).usage;
  if (usage > PROFILE.max) {
    PROFILE.max = usage;
    PROFILE.at = PROFILE.stack.join(">");
  }
}
function profileWrap(owner, key, label) {
  var f = owner[key];
  owner[key] = function () {
    PROFILE.stack.push(label);
    profileProbe();
    try {
      return f.apply(this, arguments);
    } finally {
      profileProbe();
      PROFILE.stack.pop();
    }
  };
}
/** names: global -> its source name; members: mangled method name -> source name. A class's
 * methods are wrapped, not the class (the library makes its objects with `new` on classes only,
 * and a wrapped constructor would make them on the wrong prototype). Only loaded modules' globals
 * are there to wrap: the firmware loads the hub module first, the DPS module never. */
function profileGlobals(names, members) {
  for (var g in names) {
    var f = global[g];
    if (typeof f !== "function" || PROFILE.wrapped[g]) continue;
    PROFILE.wrapped[g] = 1;
    var proto = f.prototype;
    var own = proto ? Object.getOwnPropertyNames(proto) : [];
    var methods = 0;
    for (var i = 0; i < own.length; i++) {
      // The interpreter also lists Function.prototype's own methods for a class's prototype.
      // (Through the descriptor: reading a getter off the prototype would run it.)
      var descriptor = Object.getOwnPropertyDescriptor(proto, own[i]);
      if (["constructor", "apply", "bind", "call", "replaceWith"].indexOf(own[i]) < 0 && descriptor && typeof descriptor.value === "function") {
        methods++;
        profileWrap(proto, own[i], names[g] + "." + (members[own[i]] || own[i]));
      }
    }
    if (!methods) profileWrap(global, g, names[g]);
  }
}
function profileReport() {
  console.log("@@ profile " + (PROFILE.at || "-").replace(/ /g, "_") + " " + PROFILE.max);
  PROFILE.max = 0;
}
