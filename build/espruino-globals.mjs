// Espruino build step: each module's top-level names become globals, and the module's Storage file
// evaluates its code in the interpreter's root scope.
//
//   function f(){...}  var a=1,b=class{...}     ->   $a=function(){...};$b=1,$c=class{...};
//
// Why: a function the interpreter makes while a scope is open keeps a link to that scope (a JsVar
// named "\xFFsco" inside the function, jsparse.c), and a module's code runs in the module's own
// scope, so every function and method of the library pays one variable more for as long as it is
// loaded. Made with no scope open (the root scope, as boot code is), it has no such link. Measured
// on 2v29 (ESP32 variable format, code in Storage): 100 small functions took 514 variables as a
// module and 417 run from a module's stub as here; the library's hub session peaked at 2,087
// variables before and 1,865 after. The feature modules also stop binding each name they use from
// the main module to a variable of their own: they name its global directly.
//
// How the code gets to the root scope: a module still installs as one Storage file, required by
// name. Its text is a short stub, then the code inside a comment, which require() skips:
//
//   Object.defineProperty(this,"_",{set:eval})._=require("Storage").read(NAME,AT,LEN);module.exports=API;/*CODE*/
//
// (`this` is the module's exports object while its code runs.)
//
// A setter is run by the interpreter as a callback, with no scope open (jspExecuteFunction), and
// `eval` called with none evaluates in the root scope; read() gives the code as a string over the
// flash, so function bodies stay in flash as they do for a module. The code declares nothing
// (declarations would go to the caller's scope): it only assigns globals. Under Node (the test
// realm) a setter `eval` is an indirect eval, which also runs in the global scope.
//
// The price: the library's names are globals, all `$` and one to three letters or digits (names
// a firmware's own code seldom has; none the modules use themselves), and unloading a module
// means deleting its globals (the main module's facade does, from the lists given it).
import { parse } from "acorn";

export const PREFIX = "$";
const CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$";

/** Hands out short global names: $a .. $_, then $aa ... (a name over 4 characters would take a
 * second variable on the interpreter), skipping any in `taken` (names the modules use already,
 * such as the `$$` of build/espruino-arguments.mjs). */
export function nameAllocator(taken) {
  let next = 0;
  // The n-th name: all those of one character after the prefix, then of two, then of three.
  const nth = (n) => {
    for (let length = 1, count = CHARS.length; length <= 3; length++, count *= CHARS.length) {
      if (n >= count) {
        n -= count;
        continue;
      }
      let name = "";
      for (let i = 0; i < length; i++, n = Math.floor(n / CHARS.length)) name = CHARS[n % CHARS.length] + name;
      return PREFIX + name;
    }
    throw new Error("espruino-globals: out of 4-character names");
  };
  return () => {
    let name = nth(next++);
    while (taken && taken.has(name)) name = nth(next++);
    return name;
  };
}

/** The AST nodes directly under `node`. */
function childNodes(node) {
  const out = [];
  for (const key of Object.keys(node)) {
    const value = node[key];
    for (const child of Array.isArray(value) ? value : [value]) if (child && typeof child === "object" && typeof child.type === "string") out.push(child);
  }
  return out;
}

const isFunction = (node) => node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression";

/** Names a pattern binds (the bundles have only plain identifiers; anything else is refused). */
function bound(pattern) {
  if (pattern.type === "Identifier") return [pattern.name];
  throw new Error("espruino-globals: a binding pattern at " + pattern.start);
}

/** The names a list of statements declares directly: let, const, class and function. */
function lexicalNames(statements, into) {
  for (const statement of statements) {
    if (statement.type === "VariableDeclaration" && statement.kind !== "var") for (const d of statement.declarations) bound(d.id).forEach((n) => into.add(n));
    else if (statement.type === "ClassDeclaration") into.add(statement.id.name);
    else if (statement.type === "FunctionDeclaration") into.add(statement.id.name);
  }
}

/** Every `var` under `node` that is not inside a nested function. */
function varNames(node, into) {
  if (!node || typeof node.type !== "string") return;
  if (node.type === "VariableDeclaration" && node.kind === "var") for (const d of node.declarations) bound(d.id).forEach((n) => into.add(n));
  if (isFunction(node) || node.type === "ClassDeclaration" || node.type === "ClassExpression") return;
  for (const child of childNodes(node)) varNames(child, into);
}

/**
 * Calls `visit(identifier, scopeChain, shorthand)` for every identifier that reads or writes a
 * variable (not property names, labels or declarations' own names), with the names declared by
 * each enclosing scope below the program, innermost first; `shorthand` when it is the `a` of `{a}`.
 * Top-level statements in `skip` are not walked.
 */
function references(program, visit, skip) {
  const walk = (node, chain) => {
    if (!node || typeof node.type !== "string") return;
    switch (node.type) {
      case "Identifier":
        return visit(node, chain);
      case "MemberExpression":
        walk(node.object, chain);
        if (node.computed) walk(node.property, chain);
        return;
      case "Property":
        if (node.shorthand) return visit(node.value, chain, true);
      // falls through
      case "MethodDefinition":
      case "PropertyDefinition":
        if (node.computed) walk(node.key, chain);
        return walk(node.value, chain);
      case "LabeledStatement":
        refuseFunctionDeclarations([node.body]);
        return walk(node.body, chain);
      case "BreakStatement":
      case "ContinueStatement":
        return;
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression": {
        const names = new Set();
        if (node.type === "FunctionExpression" && node.id) names.add(node.id.name);
        for (const param of node.params) bound(param).forEach((n) => names.add(n));
        if (node.body.type === "BlockStatement") {
          varNames(node.body, names);
          lexicalNames(node.body.body, names);
          for (const statement of node.body.body) walk(statement, [names, ...chain]);
        } else walk(node.body, [names, ...chain]);
        return;
      }
      case "ClassDeclaration":
      case "ClassExpression": {
        walk(node.superClass, chain);
        const names = new Set(node.type === "ClassExpression" && node.id ? [node.id.name] : []);
        for (const member of node.body.body) walk(member, [names, ...chain]);
        return;
      }
      case "VariableDeclarator":
        return walk(node.init, chain);
      case "BlockStatement":
      case "StaticBlock": {
        // Not a function's body (those are walked above): a block, or a class's static block,
        // which scopes its own var.
        const names = new Set();
        if (node.type === "StaticBlock") varNames({ type: "BlockStatement", body: node.body }, names);
        lexicalNames(node.body, names);
        refuseFunctionDeclarations(node.body);
        for (const statement of node.body) walk(statement, [names, ...chain]);
        return;
      }
      case "SwitchStatement": {
        walk(node.discriminant, chain);
        const names = new Set();
        for (const c of node.cases) lexicalNames(c.consequent, names);
        for (const c of node.cases) refuseFunctionDeclarations(c.consequent);
        for (const c of node.cases) {
          walk(c.test, [names, ...chain]);
          for (const statement of c.consequent) walk(statement, [names, ...chain]);
        }
        return;
      }
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement": {
        const head = node.type === "ForStatement" ? node.init : node.left;
        const names = new Set();
        if (head && head.type === "VariableDeclaration" && head.kind !== "var") for (const d of head.declarations) bound(d.id).forEach((n) => names.add(n));
        const inner = [names, ...chain];
        for (const key of ["init", "test", "update", "left", "right", "body"]) walk(node[key], inner);
        return;
      }
      case "CatchClause": {
        const names = new Set(node.param ? bound(node.param) : []);
        return walk(node.body, [names, ...chain]);
      }
      default:
        if (node.type === "IfStatement" || /While|With/.test(node.type)) refuseFunctionDeclarations([node.consequent, node.alternate, node.body]);
        for (const child of childNodes(node)) walk(child, chain);
    }
  };
  for (const statement of program.body) if (!skip.includes(statement)) walk(statement, []);
}

/** A function declared anywhere but at the top of a function or the program has scoping rules of
 * its own (block scope, and Annex B's var binding): not handled, so refused. */
function refuseFunctionDeclarations(statements) {
  for (const s of statements) if (s && s.type === "FunctionDeclaration") throw new Error("espruino-globals: a function declared in a block at " + s.start);
}

/** The identifiers a module's text uses anywhere (to check that no global name is one of them). */
export function identifiersOf(source) {
  const names = new Set();
  const program = parse(source, { ecmaVersion: 2020, sourceType: "script" });
  const walk = (node) => {
    if (node.type === "Identifier") names.add(node.name);
    childNodes(node).forEach(walk);
  };
  walk(program);
  return names;
}

/** A top-level `var m=require(module),a=m.key,...`: what the module reads off another. */
function isImport(statement, module) {
  const init = statement.type === "VariableDeclaration" && statement.declarations[0].init;
  return !!module && !!init && init.type === "CallExpression" && init.callee.name === "require" && init.arguments[0].value === module;
}

/** The module's own top-level names, in order of declaration (not those of its import from `imported`). */
export function topLevelNames(source, imported) {
  const program = parse(source, { ecmaVersion: 2020, sourceType: "script" });
  const names = [];
  for (const statement of program.body) {
    if (statement.type === "FunctionDeclaration" || statement.type === "ClassDeclaration") names.push(statement.id.name);
    else if (statement.type === "VariableDeclaration" && !isImport(statement, imported)) for (const d of statement.declarations) names.push(...bound(d.id));
  }
  return names;
}

/**
 * Rewrites one minified module (a CommonJS script, as esbuild writes it) to assign globals only.
 * - `globalOf`: top-level name -> its global name (every top-level name must have one).
 * - `imported`: the name of the variable holding require(fromModule), and key -> global name for
 *   what the module reads off it (its declaration `var m=require(...),a=m.key,...` is dropped).
 * - `api`: the global name `module.exports = {...}` is assigned to instead, with only the keys in
 *   `publicKeys` if given (the rest other modules read through their globals).
 * Returns the code and the global names of what `module.exports` held, by key.
 */
export function toGlobalCode(source, { globalOf, imported, api, publicKeys }) {
  const program = parse(source, { ecmaVersion: 2020, sourceType: "script" });
  const edits = [];
  const aliasGlobal = new Map(); // local alias of an imported name -> global name
  let exportsStatement;
  let importStatement;
  for (const statement of program.body) {
    if (statement.type === "FunctionDeclaration" || statement.type === "ClassDeclaration") {
      // `function f(){}` -> `G=function(){};` (the name inside, once renamed, is the global).
      const keyword = statement.type === "FunctionDeclaration" ? "function" : "class";
      edits.push({ from: statement.start, to: statement.id.end, text: globalOf.get(statement.id.name) + "=" + keyword });
      edits.push({ from: statement.end, to: statement.end, text: ";" });
    } else if (statement.type === "VariableDeclaration") {
      if (imported && isImport(statement, imported.module)) {
        const holder = statement.declarations[0].id.name;
        for (const d of statement.declarations.slice(1)) {
          const init = d.init;
          if (!init || init.type !== "MemberExpression" || init.object.name !== holder || init.computed) throw new Error("espruino-globals: unexpected import " + source.slice(d.start, d.end));
          const global = imported.globalOf.get(init.property.name);
          if (!global) throw new Error("espruino-globals: " + imported.module + " has no global for " + init.property.name);
          aliasGlobal.set(d.id.name, global);
        }
        aliasGlobal.set(holder, null); // any other use of it is refused below
        importStatement = statement;
        edits.push({ from: statement.start, to: statement.end, text: "" });
        continue;
      }
      // `var a=1,b` -> `A=1,B=void 0;` (an unassigned global would be a ReferenceError when read).
      edits.push({ from: statement.start, to: statement.declarations[0].start, text: "" });
      for (const d of statement.declarations) {
        edits.push({ from: d.id.start, to: d.id.end, text: globalOf.get(d.id.name) });
        if (!d.init) edits.push({ from: d.id.end, to: d.id.end, text: "=void 0" });
      }
      if (source[statement.end - 1] !== ";") edits.push({ from: statement.end, to: statement.end, text: ";" });
    } else if (
      statement.type === "ExpressionStatement" && statement.expression.type === "AssignmentExpression" &&
      source.slice(statement.expression.left.start, statement.expression.left.end) === "module.exports"
    ) {
      exportsStatement = statement;
    }
  }
  const exportsObject = exportsStatement && exportsStatement.expression.right;
  if (!exportsObject || exportsObject.type !== "ObjectExpression") throw new Error("espruino-globals: no module.exports = {...}");

  // The import is dropped and the exports statement written anew below: neither is walked.
  references(program, (node, chain, shorthand) => {
    if (chain.some((names) => names.has(node.name))) return; // a local of that name
    let global = globalOf.get(node.name);
    if (aliasGlobal.has(node.name)) {
      global = aliasGlobal.get(node.name);
      if (!global) throw new Error("espruino-globals: " + node.name + " (the required module) used at " + node.start);
    }
    // A shorthand property `{a}` reads as `{a:a}`: its key kept, its value renamed.
    if (global) edits.push({ from: node.start, to: node.end, text: (shorthand ? node.name + ":" : "") + global });
  }, [importStatement, exportsStatement]);

  const exportsGlobal = {};
  for (const property of exportsObject.properties) {
    const key = property.key.name || property.key.value;
    const value = property.value;
    if (value.type !== "Identifier") throw new Error("espruino-globals: module.exports." + key + " is not a name");
    exportsGlobal[key] = aliasGlobal.get(value.name) || globalOf.get(value.name);
    if (!exportsGlobal[key]) throw new Error("espruino-globals: module.exports." + key + " is no top-level name");
  }
  // The whole statement, written anew: `API={key:global,...}`.
  const kept = Object.keys(exportsGlobal).filter((key) => !publicKeys || publicKeys.includes(key));
  edits.push({ from: exportsStatement.start, to: exportsStatement.end, text: api + "={" + kept.map((key) => key + ":" + exportsGlobal[key]).join(",") + "};" });

  edits.sort((a, b) => b.from - a.from || b.to - a.to);
  let out = source;
  for (const edit of edits) out = out.slice(0, edit.from) + edit.text + out.slice(edit.to);
  return { code: out.trim(), exportsGlobal };
}

/** How often each of `names` is referred to in `source` (roughly: as a word not after a dot). */
export function referenceCounts(source, names) {
  const counts = new Map();
  for (const name of names) counts.set(name, 0);
  for (const match of source.matchAll(/(?<![.\w$])[A-Za-z_$][\w$]*/g)) if (counts.has(match[0])) counts.set(match[0], counts.get(match[0]) + 1);
  return counts;
}

/** `module.exports={key:name,...}` of a module: key -> top-level name. */
export function exportedNames(source) {
  const program = parse(source, { ecmaVersion: 2020, sourceType: "script" });
  const statement = program.body.find((s) => s.type === "ExpressionStatement" && s.expression.type === "AssignmentExpression" && source.slice(s.expression.left.start, s.expression.left.end) === "module.exports");
  return new Map(statement.expression.right.properties.map((p) => [p.key.name || p.key.value, p.value.name]));
}

/** A feature module's aliases of what it reads off `module`: local name -> key. */
export function importedKeys(source, module) {
  const program = parse(source, { ecmaVersion: 2020, sourceType: "script" });
  const statement = program.body.find((s) => isImport(s, module));
  return new Map(statement ? statement.declarations.slice(1).map((d) => [d.id.name, d.init.property.name]) : []);
}

/** The Storage file: the stub that evaluates the code in the root scope, then the code in a comment.
 * With `requires`, the stub first reads that global (a ReferenceError naming it if it is missing). */
export function storageFile(name, code, api, requires) {
  if (/[^\x20-\x7e\n]/.test(code)) throw new Error("espruino-globals: " + name + " is not ASCII (offsets are bytes)");
  if (code.includes("*/")) throw new Error("espruino-globals: " + name + " contains */, which would end the comment early");
  const stub = (at) => `${requires ? requires + ";" : ""}Object.defineProperty(this,"_",{set:eval})._=require("Storage").read(${JSON.stringify(name)},${at},${code.length});module.exports=${api};/*`;
  let at = 0;
  while (stub(at).length !== at) at = stub(at).length;
  return stub(at) + code + "*/";
}

/** The code part of a Storage file made by storageFile (what runs in the root scope). */
export function codeOf(file) {
  const match = /^(?:\$[\w$]+;)?Object\.defineProperty\(this,"_",\{set:eval\}\)\._=require\("Storage"\)\.read\("[^"]+",(\d+),(\d+)\);/.exec(file);
  if (!match) return undefined;
  return file.substr(Number(match[1]), Number(match[2]));
}
