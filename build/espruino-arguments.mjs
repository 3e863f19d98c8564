// Espruino build step: a module-level function's parameters become locals read from `arguments`.
//
//   function f(a){...}     ->   function f(){var a=arguments[0];...}
//   function f(a,b){...}   ->   function f(){var $$=arguments,a=$$[0],b=$$[1];...}
//
// Why: the interpreter keeps each declared parameter's name as a variable (a JsVar) inside the
// function object for as long as the function exists, and the library's functions exist for as
// long as its modules are loaded. A local costs nothing until the function runs. Measured on 2v29
// (ESP32 variable format, modules in Storage): loading the main module went from 1,013 to 821
// variables and the hub module from 512 to 415, and provisioning then a hub session in one boot
// from needing 2,500 variables to 2,300. The price: about 4.5 KB across the three modules (in
// flash, where an ESP32 has 896 KB of Storage) and an `arguments` array per call (a micro
// benchmark of publish + PUBACK ran 10-30% slower).
//
// Except the methods named in `keep`: those on the path a hub session's memory peak runs through
// (a twin answer, from the socket's data to the "desired" listener). A call of a function that
// reads `arguments` makes that array, 7-10 variables more than declared parameters while it runs
// (measured on 2v29), and these run all at once at the peak: kept, the peak was 50 variables
// lower (1,919 to 1,869) for about 20 more held by their parameters, and 300 bytes fewer.
// Module-level functions are not on the list, and need not be: the same trade for the thirteen
// on the two deepest paths (the encoder's, under the twin GET a connection sends from inside its
// SUBACK; the decoder's and parseJson under a twin answer; the socket's onData) was tried by hand
// on the built modules (2v29, names kept): a hub session's peak rose by 50 variables and the fewest
// it completes with from 1,975 to 2,025 (by DPS, 2,050 to 2,100). Their parameters, held for good,
// cost more than their `arguments` arrays, made only while they run.
//
// Only functions not nested in another function: on Espruino a function that reads `arguments`
// inside one that already did sees the outer function's (the first read stores `arguments` in
// the outer scope, and the inner lookup finds it there; measured on 2v29). Nested functions cost
// nothing until their parent runs anyway. Setters keep their one parameter (the syntax needs it),
// and a function that already reads `arguments` is left as it is.
import { parse } from "acorn";
import { full, fullAncestor } from "acorn-walk";

/** The methods build.mjs keeps the parameters of (see above): the path of a hub session's memory
 * peak, from the socket's data to the "desired" listener. Source names, by name (the DPS client's
 * handleEvent_ and handleResponse_, on its answers' path, keep theirs too); build.mjs fails on one
 * no module has, so a rename cannot silently drop it. */
export const PEAK_PATH_METHODS = ["data", "receive", "handlePacket_", "handleEvent_", "route_", "handleResponse_", "settle_", "answered_", "deliverDesired_", "emit_"];

const isFunction = (node) => node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression";

/** Returns `source` with the parameters of its module-level functions read from `arguments`, but
 * for the methods whose names are in `keep`; the names found are added to `kept`. */
export function parametersFromArguments(source, keep = new Set(), kept = new Set()) {
  const program = parse(source, { ecmaVersion: 2020, sourceType: "script" });
  // The short name for `arguments` when there are two parameters or more: one the file does not
  // use anywhere, so it can shadow nothing.
  const used = new Set();
  full(program, (node) => {
    if (node.type === "Identifier") used.add(node.name);
  });
  const alias = ["$$", "_$", "$_", "__", "$$$"].find((name) => !used.has(name));
  if (!alias) throw new Error("parametersFromArguments: no unused name for arguments");
  const edits = [];
  fullAncestor(program, (node, _state, ancestors) => {
    if (node.type !== "FunctionDeclaration" && node.type !== "FunctionExpression") return;
    if (!node.params.length || ancestors.slice(0, -1).some(isFunction)) return;
    const parent = ancestors[ancestors.length - 2];
    if ((parent.type === "MethodDefinition" || parent.type === "Property") && parent.kind === "set") return;
    if (parent.type === "MethodDefinition" && parent.key.type === "Identifier" && keep.has(parent.key.name)) return void kept.add(parent.key.name);
    if (!node.params.every((param) => param.type === "Identifier")) throw new Error("parametersFromArguments: a parameter pattern at " + node.start);
    if (/\barguments\b/.test(source.slice(node.body.start, node.body.end))) return;
    const many = node.params.length > 1;
    const locals = (many ? alias + "=arguments," : "") + node.params.map((param, i) => param.name + "=" + (many ? alias : "arguments") + "[" + i + "]").join(",");
    edits.push({ from: node.params[0].start, to: node.params[node.params.length - 1].end, text: "" });
    // A body that starts with a `var` (esbuild's `var self=this` for lowered arrows) takes the
    // locals first in that declaration: a few bytes less each.
    const first = node.body.body[0];
    if (first && first.type === "VariableDeclaration" && first.kind === "var") edits.push({ from: first.declarations[0].start, to: first.declarations[0].start, text: locals + "," });
    else edits.push({ from: node.body.start + 1, to: node.body.start + 1, text: "var " + locals + ";" });
  });
  edits.sort((a, b) => b.from - a.from);
  let out = source;
  for (const edit of edits) out = out.slice(0, edit.from) + edit.text + out.slice(edit.to);
  return out;
}
