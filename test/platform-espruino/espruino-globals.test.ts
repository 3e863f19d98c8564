// build/espruino-globals.mjs: a module's top-level names become globals (renamed wherever they are
// read, and nowhere a local of the same name hides them), and the Storage file's stub evaluates
// the code in the root scope. Checked by running a module both ways and comparing, and on the
// shipped modules in the stripped realm (loading, unloading).
import { test } from "uvu";
import * as assert from "uvu/assert";
import vm from "node:vm";
import { parse } from "acorn";
import { codeOf, nameAllocator, storageFile, toGlobalCode, topLevelNames } from "../../build/espruino-globals.mjs";
import { EspruinoEnvironment, shippedStorage } from "./espruino-environment";

// Locals that share top-level names in every kind of scope: parameters, var, let in a block, a
// catch binding, a for-let, a class method's local, a function expression's own name; a
// shorthand property; a class referring to itself; what is read off the required module.
const MODULE = `
var m=require("main"),A=m._0,B=m.pub;
function f(){var a=arguments[0];return a+g(1)}
function g(){var x=arguments[0];return x*2}
var k=class{constructor(){this.v=f(1)}m(){let f=3;return f+this.v}static s(){return new k}};
var t=function(g){return g+1},u;
function sh(){try{throw 7}catch(f){return f}}
function blk(){{let g=5;return g}}
function imp(){return A(2)+B}
function lp(){let s=0;for(let f=0;f<3;f++)s+=f;return s+g(0)}
var named=function g(){return typeof g};
var o={f,g:g};
function sw(){switch(1){case 1:let f=9;return f}}
module.exports={f:f,k:k,o:o,sh:sh,blk:blk,imp:imp,lp:lp,t:t,u:u,named:named,sw:sw,g:g};
`;

/** Runs the module's functions and gives what each returned. */
const PROBE = `[api.f(1), new api.k().m(), api.k.s().v, api.t(1), api.u, api.sh(), api.blk(), api.imp(), api.lp(), api.named(), api.o.f(2), api.o.g(3), api.sw(), api.g(4)]`;

test("the global form of a module computes what the module computes", () => {
  const original = vm.createContext({});
  vm.runInContext("var exports={},module={exports:exports};var require=function(){return {_0:function(x){return x*10},pub:5}};" + MODULE + ";var api=module.exports;", original);
  // As JSON: arrays of two realms differ in their constructors.
  const expected = JSON.stringify(vm.runInContext(PROBE, original));

  const next = nameAllocator();
  const globalOf = new Map(topLevelNames(MODULE, "main").map((name) => [name, next()]));
  assert.not.ok(globalOf.has("A") || globalOf.has("m"), "the import's names get no globals of their own");
  const imported = { module: "main", globalOf: new Map([["_0", "_$M0"], ["pub", "_$M1"]]) };
  const { code } = toGlobalCode(MODULE, { globalOf, imported, api: "_$API" });
  const declared = parse(code, { ecmaVersion: 2020 }).body.filter((s: { type: string }) => /Declaration/.test(s.type));
  assert.is(declared.length, 0, "nothing declared at the top level (declarations would go to the caller's scope)");
  const realm = vm.createContext({});
  vm.runInContext("_$M0=function(x){return x*10};_$M1=5;", realm);
  vm.runInContext(code, realm);
  const actual = JSON.stringify(vm.runInContext(PROBE.replace(/api/g, "_$API"), realm));
  assert.equal(actual, expected);
  // Every top-level name is a global now, under its new name only.
  for (const [name, global] of globalOf) {
    assert.is(vm.runInContext(`"${global}" in this`, realm), true, `${name} became ${global}`);
    assert.is(vm.runInContext(`"${name}" in this`, realm), false, `no global named ${name}`);
  }
});

test("a module that uses its import any other way is refused", () => {
  const next = nameAllocator();
  const source = 'var m=require("main"),A=m._0;function f(){return m}module.exports={f:f};';
  const globalOf = new Map(topLevelNames(source, "main").map((name) => [name, next()]));
  assert.throws(() => toGlobalCode(source, { globalOf, imported: { module: "main", globalOf: new Map([["_0", "_$x"]]) }, api: "_$a" }), /the required module/);
});

test("a function declared in a block (scoping the rewrite does not model) is refused", () => {
  for (const body of ["if(1){function g(){}}", "switch(1){case 1:function g(){}}", "x:function g(){}", "{function g(){}}"]) {
    const source = "function f(){" + body + "return 1}module.exports={f:f};";
    const globalOf = new Map(topLevelNames(source).map((name) => [name, "$" + name]));
    assert.throws(() => toGlobalCode(source, { globalOf, api: "$api" }), /declared in a block/, body);
  }
});

test("global names take at most 4 characters, never repeat, and skip the names taken", () => {
  const next = nameAllocator(new Set(["$b", "$$"]));
  const names = Array.from({ length: 64 + 64 * 64 + 64 * 64 * 64 - 2 }, () => next());
  assert.is(new Set(names).size, names.length);
  assert.ok(names.every((name) => /^\$[\w$]{1,3}$/.test(name)));
  assert.equal(names.slice(0, 3), ["$a", "$c", "$d"]);
  assert.not.ok(names.includes("$$"));
  assert.throws(() => next(), /out of 4-character names/);
});

test("a Storage file's stub reads exactly its code, which must be ASCII with no end of comment", () => {
  const code = "$a=function(){return 1};$b={f:$a};";
  const file = storageFile("lib", code, "$b");
  assert.is(codeOf(file), code);
  const match = /read\("lib",(\d+),(\d+)\)/.exec(file) as RegExpExecArray;
  assert.is(file.substr(Number(match[1]), Number(match[2])), code);
  assert.is(file.slice(Number(match[1]) - 2, Number(match[1])), "/*", "the code starts right after the comment opens");
  assert.throws(() => storageFile("lib", "$a=/x*/;", "$a"), /contains \*\//);
  assert.throws(() => storageFile("lib", "$a='\u00e9';", "$a"), /not ASCII/);
});

test("the shipped modules' code declares nothing at the top level (a declaration would go to the stub's module scope)", () => {
  const storage = shippedStorage();
  for (const name of ["azure-iot-mqtt-lite", "azure-iot-mqtt-lite-dps", "azure-iot-mqtt-lite-hub"]) {
    const code = codeOf(storage[name]) as string;
    assert.ok(code, name + " holds its code in a comment");
    const declarations: string[] = [];
    // Top-level statements, and `var` anywhere outside a function (var is function-scoped).
    const visit = (node: { type: string; [key: string]: unknown }, top: boolean): void => {
      if (/Function|Class/.test(node.type) && !top) return;
      if (/Declaration$/.test(node.type) && (top || node.type === "VariableDeclaration")) declarations.push(code.slice((node as unknown as { start: number }).start, (node as unknown as { start: number }).start + 40));
      for (const value of Object.values(node)) {
        for (const child of Array.isArray(value) ? value : [value]) if (child && typeof child === "object" && typeof (child as { type?: unknown }).type === "string") visit(child as { type: string }, false);
      }
    };
    for (const statement of parse(code, { ecmaVersion: 2020 }).body) visit(statement as unknown as { type: string }, true);
    assert.equal(declarations, [], name);
  }
});

test("the shipped modules define their names as globals, and unload() deletes a feature module's", () => {
  const env = new EspruinoEnvironment({ storage: shippedStorage(), lookup: () => { throw new Error("no network here"); }, ca: "" });
  try {
    const globals = () => env.evaluate<string[]>("Object.keys(global).filter(function (k) { return /^\\$[\\w$]+$/.test(k); })").slice();
    const lib = env.require("azure-iot-mqtt-lite");
    const mainGlobals = globals();
    assert.ok(mainGlobals.length > 50, `the main module's names are globals (${mainGlobals.length})`);
    assert.equal(Object.keys(lib).sort(), ["DpsClient", "HubClient", "connectViaDps", "espruinoPlatform", "parseJson", "unload", "utf8Decode"].sort(), "its API, and nothing the feature modules read through globals");
    const dps = env.require("azure-iot-mqtt-lite-dps");
    assert.is(typeof dps.DpsClient, "function");
    assert.ok(globals().length > mainGlobals.length + 10, "the DPS module's names are globals too");
    lib.unload("azure-iot-mqtt-lite-dps");
    assert.equal(globals(), mainGlobals, "unload() deleted every global of the DPS module and no other");
    assert.is(typeof env.require("azure-iot-mqtt-lite-dps").DpsClient, "function", "required again, it loads again");
    assert.ok(globals().length > mainGlobals.length + 10);
  } finally {
    env.dispose();
  }
});

/** What making a HubClient (which loads the hub module) throws, if anything. */
function hubClientError(lib: any): { code?: string; message?: string } | undefined {
  try {
    lib.HubClient(lib.espruinoPlatform(), { connectionString: "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=" + Buffer.alloc(32).toString("base64") });
  } catch (error) {
    return error as { code?: string; message?: string };
  }
  return undefined;
}

test("a DPS or hub file of another build is refused before its code runs: MODULE_MISMATCH, the main module's globals untouched", () => {
  const storage = shippedStorage();
  const hub = storage["azure-iot-mqtt-lite-hub"];
  const required = /^(\$[\w$]+);/.exec(hub) as RegExpExecArray;
  assert.ok(required, "the hub stub reads the main module's build global first");
  assert.ok(codeOf(storage["azure-iot-mqtt-lite"])?.endsWith(required[1] + "=1;"), "which the main module defines");
  // Another build: same length, another global (the stub's offsets stay right).
  const other = required[1] === "$Zzz" ? "$Yyy" : "$Zzz";
  storage["azure-iot-mqtt-lite-hub"] = other + hub.slice(required[1].length);
  const env = new EspruinoEnvironment({ storage, lookup: () => { throw new Error("no network here"); }, ca: "" });
  try {
    const lib = env.require("azure-iot-mqtt-lite");
    // An error first: the first one the library makes also makes the one its errors inherit from
    // (a global of the main module's, platform-espruino/native-errors.ts).
    assert.throws(() => lib.parseJson(new Uint8Array([0xff])), /UTF-8/);
    const before = env.evaluate<string>("JSON.stringify(Object.keys(global).filter(function (k) { return /^\\$[\\w$]+$/.test(k); }).map(function (k) { return k + ':' + typeof global[k]; }))");
    const thrown = hubClientError(lib);
    assert.is(thrown?.code, "MODULE_MISMATCH");
    assert.match(String(thrown?.message), /azure-iot-mqtt-lite-hub is from another build/);
    const after = env.evaluate<string>("JSON.stringify(Object.keys(global).filter(function (k) { return /^\\$[\\w$]+$/.test(k); }).map(function (k) { return k + ':' + typeof global[k]; }))");
    assert.is(after, before, "no global defined or overwritten");
  } finally {
    env.dispose();
  }
});

test("a DPS or hub file missing from Storage is MODULE_MISSING, naming it, not the interpreter's bare 'not found'", () => {
  const storage = shippedStorage();
  delete storage["azure-iot-mqtt-lite-hub"];
  const env = new EspruinoEnvironment({ storage, lookup: () => { throw new Error("no network here"); }, ca: "" });
  try {
    const lib = env.require("azure-iot-mqtt-lite");
    const thrown = hubClientError(lib);
    assert.is(thrown?.code, "MODULE_MISSING");
    assert.match(String(thrown?.message), /azure-iot-mqtt-lite-hub is not in Storage/);
  } finally {
    env.dispose();
  }
});

test.run();
