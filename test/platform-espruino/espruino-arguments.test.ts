// build/espruino-arguments.mjs: module-level functions read their parameters from `arguments` in
// the Espruino modules (each declared parameter costs the device a variable for as long as the
// module is loaded). The rewrite must not change what any function does, must leave nested
// functions alone (Espruino would hand them the outer function's `arguments`), and must have run
// on the shipped modules.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { parse } from "acorn";
import * as walk from "acorn-walk";
import { parametersFromArguments, PEAK_PATH_METHODS } from "../../build/espruino-arguments.mjs";
import { codeOf } from "../../build/espruino-globals.mjs";
import { checkBundle, formatFindings } from "./espruino-gate";

// Every shape the minified modules contain: declarations, expressions, class members, object
// methods, a setter, nested functions and callbacks that capture parameters, a parameter that is
// reassigned, a function that already reads `arguments`, one with a nested function that does (it
// must keep its parameters: read from `arguments`, they would be what the nested one sees on
// Espruino), and a module-level name `$$` (the rewrite must then pick another name for `arguments`).
const SAMPLE = `
var $$ = 100;
function add(a, b, c) { return a + b + (c === undefined ? $$ : c); }
function one(x) { x = x * 2; return x; }
var expr = function (p, q) { return [p, q]; };
function outer(a, b) {
  function inner(c, d) { return a + b + c + d; }
  return [inner(1, 2), [3, 4].map(function (v, i) { return v * a + i; })];
}
function guarded(a) { return (function () { return a + arguments.length; })(7, 8); }
function variadic() { return Array.prototype.slice.call(arguments).join("-"); }
class Box {
  constructor(v, w) { this.v = v; this.w = w; }
  get twice() { return this.v * 2; }
  set value(n) { this.v = n; }
  sum(k) { return this.v + this.w + k; }
}
var api = { scale: function (n, m) { return n * m; }, later: function (f, x) { return f(x); } };
var results = [
  add(1, 2, 3), add(1, 2), one(5), expr("p", "q"), outer(10, 20), variadic(1, 2, 3), guarded(40),
  (function () { var b = new Box(1, 2); b.value = 5; return [b.twice, b.sum(3)]; })(),
  api.scale(6, 7), api.later(function (y) { return y + 1; }, 41),
  [add.length, one.length, outer.length, Box.length],
];
`;

function functionsOf(source: string): { node: any; nested: boolean; setter: boolean; method?: string }[] {
  const out: { node: any; nested: boolean; setter: boolean; method?: string }[] = [];
  walk.fullAncestor(parse(source, { ecmaVersion: 2020 }) as any, (node: any, _state: unknown, ancestors: any[]) => {
    if (node.type !== "FunctionDeclaration" && node.type !== "FunctionExpression") return;
    const parent = ancestors[ancestors.length - 2];
    const method = parent && parent.type === "MethodDefinition" ? parent.key.name : undefined;
    out.push({ node, nested: ancestors.slice(0, -1).some((a) => /Function/.test(a.type)), setter: !!parent && parent.kind === "set", method });
  });
  return out;
}

test("the rewritten code computes the same results as the original", () => {
  const rewritten = parametersFromArguments(SAMPLE);
  assert.not.equal(rewritten, SAMPLE);
  const before = runInNewContext(SAMPLE + "; results");
  const after = runInNewContext(rewritten + "; results");
  assert.equal(JSON.parse(JSON.stringify(after)).slice(0, -1), JSON.parse(JSON.stringify(before)).slice(0, -1));
  assert.equal(JSON.parse(JSON.stringify(after[after.length - 1])), [0, 0, 0, 0], "the declared parameters are gone");
  assert.ok(!/var \$\$=arguments/.test(rewritten), "the module's own $$ is not shadowed");
});

test("only module-level functions lose their parameters; nested ones and setters keep them", () => {
  const rewritten = parametersFromArguments(SAMPLE);
  let nestedWithParams = 0;
  for (const { node, nested, setter } of functionsOf(rewritten)) {
    if (nested) nestedWithParams += node.params.length > 0 ? 1 : 0;
    else if (setter) assert.is(node.params.length, 1, "a setter keeps its parameter");
    else if (node.id && node.id.name === "guarded") assert.is(node.params.length, 1, "guarded keeps its parameter");
    else assert.is(node.params.length, 0, "module-level function at " + node.start + " still declares parameters");
  }
  assert.is(nestedWithParams, 2, "inner and the map callback keep theirs");
  assert.equal(checkBundle(rewritten).filter((f) => f.rule === "arguments-nested"), [], "no nested arguments read for the gate to refuse");
});

test("methods named to keep their parameters keep them, and compute the same", () => {
  const rewritten = parametersFromArguments(SAMPLE, new Set(["sum"]));
  const sum = functionsOf(rewritten).find((f) => f.method === "sum");
  assert.is(sum && sum.node.params.length, 1, "Box.sum keeps its parameter");
  assert.is(functionsOf(rewritten).filter((f) => !f.nested && !f.setter && f.method !== "sum" && f.node.params.length && !(f.node.id && f.node.id.name === "guarded")).length, 0, "the others lose theirs");
  assert.equal(JSON.parse(JSON.stringify(runInNewContext(rewritten + "; results"))).slice(0, -1), JSON.parse(JSON.stringify(runInNewContext(SAMPLE + "; results"))).slice(0, -1));
});

test("the shipped Espruino modules went through the rewrite", () => {
  // Minified member name -> source name; a method on the memory peak's path keeps its parameters.
  const sourceName = JSON.parse(readFileSync(join(process.cwd(), "dist/espruino/renamed-members.json"), "utf8")) as Record<string, string>;
  const kept = (method: string | undefined) => method !== undefined && PEAK_PATH_METHODS.includes(sourceName[method] || method);
  const keptSeen = new Set<string>();
  for (const file of ["azure-iot-mqtt-lite.min.js", "azure-iot-mqtt-lite-dps.min.js", "azure-iot-mqtt-lite-hub.min.js"]) {
    // The code of the Storage file (the stub's own code has no function).
    const source = codeOf(readFileSync(join(process.cwd(), "dist/espruino", file), "utf8")) as string;
    assert.ok(source, file + " has its code in a comment");
    assert.ok(functionsOf(source).length > 20, file + ": its functions are read");
    const withParams = functionsOf(source).filter((f) => !f.nested && !f.setter && f.node.params.length > 0);
    for (const f of withParams) if (kept(f.method)) keptSeen.add(sourceName[f.method!] || f.method!);
    const rewritable = withParams.filter((f) => !kept(f.method));
    assert.is(rewritable.length, 0, file + ": module-level functions declaring parameters at " + rewritable.map((f) => f.node.start).join(", "));
    assert.is(formatFindings(checkBundle(source).filter((f) => f.rule === "arguments-nested")), "", file);
  }
  assert.equal([...keptSeen].sort(), [...PEAK_PATH_METHODS].sort(), "each method on the peak's path keeps its parameters");
});

test.run();
