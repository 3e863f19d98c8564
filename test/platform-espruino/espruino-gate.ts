// The Espruino gate: parses a bundle with acorn and reports every construct the Espruino
// interpreter (2v29) lacks or runs wrongly, per ../shared/ESPRUINO.md and our own runs of the
// interpreter built for Linux. Espruino checks syntax only when a line runs, so a bundle can load
// and fail later, on a path a test never took: this check reads every line.
//
//   const findings = checkBundle(source);      // [] when the interpreter can run all of it
//   const over = checkSize(source, 16000);     // [] within the limit, else one "size" finding
//   console.log(formatFindings(findings));
//
// What is not reported because the interpreter was measured to handle it: arrow functions,
// template literals (untagged), let/const, classes with constructors, methods, getters/setters and
// (instance or static) fields, 2-level super calls, `??`, optional catch bindings, getters and
// setters in object literals, Object.keys/values/entries/assign/create/defineProperty (with a
// value), Array includes/find/findIndex/fill, String includes/startsWith/endsWith/repeat/padStart/
// padEnd/replaceAll, typed arrays and DataView, Math.sign.
import { parse } from "acorn";
import * as walk from "acorn-walk";

export interface Finding {
  /** Stable id of the rule, e.g. "spread-call", "missing-global", "regex-optional". */
  rule: string;
  message: string;
  /** 1-based line and 0-based column of the construct in the bundle. */
  line: number;
  column: number;
  /** The bundle text around it. */
  excerpt: string;
}

/** Byte size of the bundle as stored (UTF-8). */
export function bundleBytes(source: string): number {
  return new TextEncoder().encode(source).length;
}

/** [] when the bundle is at most limitBytes, else one "size" finding. */
export function checkSize(source: string, limitBytes: number): Finding[] {
  const bytes = bundleBytes(source);
  if (bytes <= limitBytes) return [];
  return [{ rule: "size", message: `${bytes} bytes, over the limit of ${limitBytes} (by ${bytes - limitBytes})`, line: 1, column: 0, excerpt: "" }];
}

export function formatFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `${f.line}:${f.column} ${f.rule}: ${f.message}${f.excerpt ? `  [${f.excerpt}]` : ""}`).join("\n");
}

// ---------------------------------------------------------------------------------------------
// What the interpreter lacks (measured on 2v29: typeof is "undefined", or reading it throws).

/** Globals a bundle must not use (a `typeof X` feature test is allowed). */
const MISSING_GLOBALS: Record<string, string> = {
  Map: "no Map", Set: "no Set", WeakMap: "no WeakMap", WeakSet: "no WeakSet", WeakRef: "no WeakRef",
  FinalizationRegistry: "no FinalizationRegistry", Symbol: "no Symbol", TextEncoder: "no TextEncoder",
  TextDecoder: "no TextDecoder", Reflect: "no Reflect", Proxy: "no Proxy", BigInt: "no BigInt",
  setImmediate: "no setImmediate", queueMicrotask: "no queueMicrotask", performance: "no performance",
  RangeError: "no RangeError", AggregateError: "no AggregateError", EvalError: "no EvalError", URIError: "no URIError",
  Buffer: "no Buffer (Node)", structuredClone: "no structuredClone", Intl: "no Intl",
  encodeURI: "no encodeURI", decodeURI: "no decodeURI", escape: "no escape", unescape: "no unescape",
  process: "Node's process: Espruino's process has only memory(), env and version (those are allowed)",
  globalThis: "host detection through globalThis: keep the bundle free of it (Node idiom)",
};

/** Static members of globals that are missing. */
const MISSING_STATICS: Record<string, string[]> = {
  Array: ["from", "of"],
  Number: ["isInteger", "isFinite", "isNaN", "isSafeInteger", "parseInt", "parseFloat", "EPSILON", "MAX_SAFE_INTEGER", "MIN_SAFE_INTEGER"],
  Math: ["trunc", "imul", "clz32", "log2", "log10", "log1p", "expm1", "hypot", "cbrt", "fround", "sinh", "cosh", "tanh"],
  Object: ["freeze", "is", "seal", "isFrozen", "isSealed", "preventExtensions", "hasOwn"],
  Promise: ["race", "any", "allSettled"],
  String: ["fromCodePoint", "raw"],
  Date: ["UTC"],
  Error: ["captureStackTrace"],
  Uint8Array: ["from", "of"],
  ArrayBuffer: ["isView"],
};

/** Built-ins whose `.prototype.<method>` reads fail (measured on 2v29: `Array.prototype.slice.call`
 * throws "Can't read property 'call' of undefined"). */
const PROTOTYPE_READS = new Set(["Array", "String", "Function", "Uint8Array"]);

/** Methods missing on the built-in prototypes, reported on any object (names no library member uses). */
const MISSING_METHODS: Record<string, string> = {
  finally: "Promise.prototype.finally",
  codePointAt: "String.prototype.codePointAt",
  trimEnd: "String.prototype.trimEnd",
  trimStart: "String.prototype.trimStart",
  trimLeft: "String.prototype.trimLeft",
  trimRight: "String.prototype.trimRight",
  matchAll: "String.prototype.matchAll",
  normalize: "String.prototype.normalize",
  localeCompare: "String.prototype.localeCompare",
  flat: "Array.prototype.flat",
  flatMap: "Array.prototype.flatMap",
  copyWithin: "Array/Uint8Array copyWithin",
  findLast: "Array.prototype.findLast",
  findLastIndex: "Array.prototype.findLastIndex",
  reduceRight: "Array.prototype.reduceRight",
  toPrecision: "Number.prototype.toPrecision",
  toExponential: "Number.prototype.toExponential",
  toLocaleString: "toLocaleString",
  search: "String.prototype.search",
  // (Not `at`, missing too: the minifier names members `at`, and the sources' ES2020 lib has no .at.)
};

/** Globals that exist but are wrong for what the library sends (measured on 2v29). */
const WRONG_GLOBALS: Record<string, string> = {
  encodeURIComponent: "encodes the bytes of a non-ASCII string wrongly (\"\\xc3\\xa9\" gives %33%19): use the core's urlEncode",
  decodeURIComponent: "throws for a multi-byte escape (%C3%A9): use the core's urlDecode",
  RegExp: "a pattern built at run time escapes the gate's regular-expression checks ({n,m} then never matches): write a literal",
};

/** `class X extends <one of these>` does not work (Error: "Calling 'super' outside of class"). */
const UNEXTENDABLE = new Set(["Error", "TypeError", "SyntaxError", "ReferenceError", "RangeError", "InternalError", "Array"]);

/** Callbacks these run before they return, so a function passed to them runs at that point. */
const SYNCHRONOUS_CALLBACKS = new Set(["forEach", "map", "filter", "some", "every", "reduce", "find", "findIndex", "sort", "replace"]);

const ALLOWED_REGEX_FLAGS = new Set(["g", "i"]);

// ---------------------------------------------------------------------------------------------

// acorn's node types are exact per kind; the checks read nodes generically.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type N = any;

interface Binding {
  name: string;
  kind: "var" | "let" | "const" | "function" | "class" | "param" | "catch" | "self";
  /** Offset from which the binding holds its value on Espruino (no hoisting of functions). */
  definedAt: number;
  /** The function (or class) the binding holds, when it is one. */
  callable?: N;
  scope: Scope;
  /** A class expression's own name: declared, but not bound inside the class on Espruino. */
  unbound?: boolean;
}

interface Scope {
  parent: Scope | undefined;
  names: Map<string, Binding>;
  /** The code that runs when this scope is entered: the Program, a function, or a class. */
  owner: Body;
  /** A `for (let/const ...)` scope: closures over it see only the last value on Espruino. */
  loop: boolean;
}

/** A piece of code that runs as a unit: the Program (at load), a function body, a class's instance setup. */
interface Body {
  node: N;
  /** Identifier references made when this body runs (not inside nested functions run later). */
  refs: { binding: Binding; node: N; call: boolean }[];
  /** Functions started while this body runs: IIFEs and callbacks of synchronous array methods. */
  runs: { body: Body; at: number }[];
}

interface State {
  scope: Scope;
  body: Body;
  /** Inside a function nested in a loop body, per loop scope: used to spot loop closures. */
  functionDepth: number;
}

class Gate {
  readonly findings: Finding[] = [];
  private readonly lineStarts: number[] = [0];
  private readonly bodies = new Map<N, Body>();
  private readonly callees = new Set<N>();
  private readonly typeofArguments = new Set<N>();
  /** `process` identifiers read as process.memory / env / version, which Espruino has. */
  private readonly espruinoProcess = new Set<N>();
  /** Function nodes started right where they appear (IIFE, synchronous callback). */
  private readonly startedHere = new Set<N>();
  /** Module-level names bound to Object.defineProperty / defineProperties / create (esbuild's __defProp). */
  private readonly aliasMethods = new Map<Binding, string>();
  private readonly loopScopeDepth = new Map<Scope, number>();

  constructor(private readonly source: string) {
    for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  report(rule: string, node: { start: number; end: number }, message: string): void {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStarts[middle] <= node.start) low = middle;
      else high = middle - 1;
    }
    const from = Math.max(0, node.start - 20);
    const to = Math.min(this.source.length, Math.max(node.end, node.start + 20) + 20, node.start + 80);
    const excerpt = this.source.slice(from, to).replace(/\s+/g, " ");
    this.findings.push({ rule, message, line: low + 1, column: node.start - this.lineStarts[low], excerpt });
  }

  run(): void {
    let program: N;
    try {
      program = parse(this.source, { ecmaVersion: "latest", sourceType: "script", allowHashBang: true });
    } catch (error) {
      const failure = error as SyntaxError & { pos?: number };
      const at = failure.pos ?? 0;
      this.report("parse-error", { start: at, end: at + 1 }, "not a script: " + failure.message + " (Espruino has no import/export, top-level await or newer syntax)");
      return;
    }
    this.checkSource();
    const body = this.newBody(program);
    const scope = this.newScope(undefined, body, false);
    this.declareHoisted(program.body, scope, scope);
    this.declareAssignedGlobals(program.body, scope);
    this.noteAliases(program, scope);
    this.walk(program, { scope, body, functionDepth: 0 });
    this.checkDefinitionOrder(program);
    this.checkArrowThisInSkippedOperands(program);
    this.checkNestedArguments(program);
  }

  /** A function reading `arguments` inside another function that reads it gets the outer one's on
   * Espruino: the first read stores `arguments` in the outer function's scope, where the inner
   * lookup finds it (measured on 2v29). build/espruino-arguments.mjs only rewrites functions that
   * are not nested, so its output never has this shape. An arrow function reading `arguments` gets
   * its own there, not the enclosing function's (measured on 2v29). */
  private checkNestedArguments(program: N): void {
    const readers = new Map<N, N>(); // function -> its first `arguments` read
    walk.fullAncestor(program, (node: N, _state: unknown, ancestors: N[]) => {
      if (node.type !== "Identifier" || node.name !== "arguments") return;
      const parent = ancestors[ancestors.length - 2];
      if (parent && parent.type === "MemberExpression" && parent.property === node && !parent.computed) return;
      for (let i = ancestors.length - 2; i >= 0; i--) {
        const fn = ancestors[i];
        if (fn.type === "ArrowFunctionExpression") {
          this.report("arrow-arguments", node, "`arguments` in an arrow function: on Espruino it is the arrow's own, not the enclosing function's (name a variable outside)");
          return;
        }
        if (/Function/.test(fn.type)) {
          if (!readers.has(fn)) readers.set(fn, node);
          return;
        }
      }
    });
    walk.fullAncestor(program, (node: N, _state: unknown, ancestors: N[]) => {
      const read = readers.get(node);
      if (!read) return;
      if (ancestors.slice(0, -1).some((outer) => readers.has(outer))) {
        this.report("arguments-nested", read, "`arguments` read in a function nested in one that reads it: Espruino gives the outer function's (name the parameters)");
      }
    });
  }

  /** An arrow function that uses `this` inside an operand the interpreter may skip (right of && ||
   * ??, a branch of ?:) trips ASSERT(jsvHasChildren(obj)) in its debug builds when skipped
   * (measured on 2v29: `false && (() => this.x)`). The minifier makes that shape from early returns,
   * which is why build.mjs lowers arrow functions for Espruino. */
  private checkArrowThisInSkippedOperands(program: N): void {
    const usesThis = (fn: N) => {
      let found = false;
      walk.recursive(fn.body, null, { ThisExpression() { found = true; }, FunctionExpression() {}, FunctionDeclaration() {} });
      return found;
    };
    walk.fullAncestor(program, (node: N, _state: unknown, ancestors: N[]) => {
      if (node.type !== "ArrowFunctionExpression" || !usesThis(node)) return;
      for (let i = ancestors.length - 2; i >= 0; i--) {
        const parent = ancestors[i];
        const child = ancestors[i + 1];
        if (/Function/.test(parent.type) && parent.type !== "ArrowFunctionExpression") return;
        if ((parent.type === "LogicalExpression" && parent.right === child) || (parent.type === "ConditionalExpression" && parent.test !== child)) {
          this.report("arrow-this-skipped", node, "an arrow function using `this` in an operand that may be skipped: Espruino's debug builds assert (lower arrows, or capture this in a variable)");
          return;
        }
      }
    });
  }

  // --- text-level checks ---------------------------------------------------------------------

  private checkSource(): void {
    const nonAscii = /[^\x00-\x7f]/.exec(this.source);
    if (nonAscii) {
      this.report("non-ascii", { start: nonAscii.index, end: nonAscii.index + 1 }, "a non-ASCII character in the source: the ESP32 firmware has no Unicode strings, so its length and char codes differ (escape it)");
    }
  }

  private checkStringRaw(node: N, raw: string): void {
    if (/(^|[^\\])(\\\\)*\\u\{/.test(raw)) this.report("code-point-escape", node, "a \\u{...} escape: 'Invalid escape sequence' on Espruino (use \\uXXXX)");
    if (/(^|[^\\])(\\\\)*\\(\r\n|\n|\r|\u2028|\u2029)/.test(raw)) this.report("line-continuation", node, "a backslash line continuation in a string: Espruino keeps the newline");
  }

  // --- scopes --------------------------------------------------------------------------------

  private newBody(node: N): Body {
    const body: Body = { node, refs: [], runs: [] };
    this.bodies.set(node, body);
    return body;
  }

  private newScope(parent: Scope | undefined, owner: Body, loop: boolean): Scope {
    return { parent, names: new Map(), owner, loop };
  }

  private declare(scope: Scope, name: string, kind: Binding["kind"], definedAt: number, callable?: N): Binding {
    const existing = scope.names.get(name);
    if (existing) {
      // `var f; ... function f(){}` or a repeated var: keep the earliest definition point.
      if (callable && !existing.callable) existing.callable = callable;
      return existing;
    }
    const binding: Binding = { name, kind, definedAt, callable, scope };
    scope.names.set(name, binding);
    return binding;
  }

  private patternNames(pattern: N, out: N[] = []): N[] {
    if (!pattern) return out;
    switch (pattern.type) {
      case "Identifier":
        out.push(pattern);
        break;
      case "ObjectPattern":
        for (const property of pattern.properties) this.patternNames(property.type === "RestElement" ? property.argument : property.value, out);
        break;
      case "ArrayPattern":
        for (const element of pattern.elements) if (element) this.patternNames(element, out);
        break;
      case "RestElement":
        this.patternNames(pattern.argument, out);
        break;
      case "AssignmentPattern":
        this.patternNames(pattern.left, out);
        break;
    }
    return out;
  }

  /** Declarations made directly in a list of statements (let/const/class/function) and, into
   * varScope, every `var` inside them that is not inside a nested function. */
  private declareHoisted(statements: N[], blockScope: Scope, varScope: Scope): void {
    for (const statement of statements) this.declareLexical(statement, blockScope);
    const visitVars = (node: N): void => {
      if (!node || typeof node.type !== "string") return;
      if (node.type === "VariableDeclaration" && node.kind === "var") {
        for (const declarator of node.declarations) {
          for (const id of this.patternNames(declarator.id)) {
            this.declare(varScope, id.name, "var", declarator.start, id === declarator.id ? this.callableOf(declarator.init) : undefined);
          }
        }
      }
      if (/Function|Class/.test(node.type) && node.type !== "ClassBody") return; // their own scopes
      for (const key of Object.keys(node)) {
        const value = node[key];
        if (Array.isArray(value)) value.forEach(visitVars);
        else if (value && typeof value === "object" && typeof value.type === "string") visitVars(value);
      }
    };
    statements.forEach(visitVars);
  }

  /** Top-level `a = ...` (or `a = ..., b = ...`) to a name declared nowhere makes a global: the
   * shipped modules' code defines its names so (build/espruino-globals.mjs), and they count as
   * declarations from that point, for the use-before-definition check. */
  private declareAssignedGlobals(statements: N[], scope: Scope): void {
    for (const statement of statements) {
      if (statement.type !== "ExpressionStatement") continue;
      const expression = statement.expression;
      const assignments = expression.type === "SequenceExpression" ? expression.expressions : [expression];
      for (const assignment of assignments) {
        if (assignment.type !== "AssignmentExpression" || assignment.operator !== "=" || assignment.left.type !== "Identifier") continue;
        if (!scope.names.has(assignment.left.name)) this.declare(scope, assignment.left.name, "var", assignment.start, this.callableOf(assignment.right));
      }
    }
  }

  private declareLexical(statement: N, scope: Scope): void {
    if (statement.type === "FunctionDeclaration" && statement.id) this.declare(scope, statement.id.name, "function", statement.start, statement);
    else if (statement.type === "ClassDeclaration" && statement.id) this.declare(scope, statement.id.name, "class", statement.start, statement);
    else if (statement.type === "VariableDeclaration" && statement.kind !== "var") {
      for (const declarator of statement.declarations) {
        for (const id of this.patternNames(declarator.id)) {
          this.declare(scope, id.name, statement.kind, declarator.start, id === declarator.id ? this.callableOf(declarator.init) : undefined);
        }
      }
    }
  }

  private callableOf(init: N): N | undefined {
    if (!init) return undefined;
    return /Function|Class/.test(init.type) ? init : undefined;
  }

  private resolve(scope: Scope | undefined, name: string): Binding | undefined {
    for (let s = scope; s; s = s.parent) {
      const binding = s.names.get(name);
      if (binding) return binding;
    }
    return undefined;
  }

  // --- the walk ------------------------------------------------------------------------------

  private walk(node: N, state: State): void {
    walk.recursive(node, state, this.visitors() as unknown as walk.RecursiveVisitors<State>);
  }

  private visitorsCache: Record<string, (node: N, state: State, c: (node: N, state: State, type?: string) => void) => void> | undefined;

  private visitors() {
    if (this.visitorsCache) return this.visitorsCache;
    const gate = this;
    const base = walk.base as unknown as Record<string, (node: N, state: State, c: (node: N, state: State, type?: string) => void) => void>;
    this.visitorsCache = {
      Function(node, state, c) {
        gate.checkFunction(node);
        const body = gate.newBody(node);
        if (gate.startedHere.has(node)) state.body.runs.push({ body, at: node.start });
        const scope = gate.newScope(state.scope, body, false);
        if (node.type === "FunctionExpression" && node.id) gate.declare(scope, node.id.name, "self", node.start, node);
        if (node.type !== "ArrowFunctionExpression") gate.declare(scope, "arguments", "param", node.start);
        for (const param of node.params) for (const id of gate.patternNames(param)) gate.declare(scope, id.name, "param", node.start);
        const inner: State = { scope, body, functionDepth: state.functionDepth + 1 };
        for (const param of node.params) c(param, inner, "Pattern");
        if (node.expression) {
          c(node.body, inner, "Expression");
        } else {
          // The body's own declarations live in the function scope (one scope for params and body).
          gate.declareHoisted(node.body.body, scope, scope);
          for (const statement of node.body.body) c(statement, inner, "Statement");
        }
      },
      BlockStatement(node, state, c) {
        const scope = gate.newScope(state.scope, state.body, false);
        gate.declareHoisted(node.body, scope, gate.functionScope(state.scope));
        const inner = { ...state, scope };
        for (const statement of node.body) c(statement, inner, "Statement");
      },
      StaticBlock(node, state, c) {
        gate.report("static-block", node, "a class static block: SyntaxError on Espruino");
        base.StaticBlock(node, state, c);
      },
      SwitchStatement(node, state, c) {
        let sawDefault = false;
        for (const switchCase of node.cases) {
          if (!switchCase.test) sawDefault = true;
          else if (sawDefault) gate.report("case-after-default", switchCase, "a case after default: the interpreter throws");
        }
        const scope = gate.newScope(state.scope, state.body, false);
        for (const switchCase of node.cases) gate.declareHoisted(switchCase.consequent, scope, gate.functionScope(state.scope));
        c(node.discriminant, state, "Expression");
        const inner = { ...state, scope };
        for (const switchCase of node.cases) {
          if (switchCase.test) c(switchCase.test, inner, "Expression");
          for (const statement of switchCase.consequent) c(statement, inner, "Statement");
        }
      },
      ForStatement(node, state, c) {
        const lexical = node.init && node.init.type === "VariableDeclaration" && node.init.kind !== "var";
        const inner = lexical ? gate.loopState(node.init, state) : state;
        base.ForStatement(node, inner, c);
      },
      ForInStatement(node, state, c) {
        const lexical = node.left.type === "VariableDeclaration" && node.left.kind !== "var";
        base.ForInStatement(node, lexical ? gate.loopState(node.left, state) : state, c);
      },
      ForOfStatement(node, state, c) {
        gate.report("for-of", node, node.await ? "for await: no async iteration on Espruino" : "for-of: Espruino iterates only arrays and strings; use an index loop");
        const lexical = node.left.type === "VariableDeclaration" && node.left.kind !== "var";
        base.ForOfStatement(node, lexical ? gate.loopState(node.left, state) : state, c);
      },
      CatchClause(node, state, c) {
        const scope = gate.newScope(state.scope, state.body, false);
        if (node.param) for (const id of gate.patternNames(node.param)) gate.declare(scope, id.name, "catch", node.start);
        base.CatchClause(node, { ...state, scope }, c);
      },
      Class(node, state, c) {
        gate.checkClass(node, state);
        // Instance fields run when the class is constructed: a body of their own.
        const setup = gate.newBody(node);
        let scope = state.scope;
        if (node.type === "ClassExpression" && node.id) {
          // Measured: a class expression's own name is not bound inside it ("B" is not defined).
          scope = gate.newScope(state.scope, state.body, false);
          gate.declare(scope, node.id.name, "self", node.start, node).unbound = true;
        }
        if (node.superClass) c(node.superClass, state, "Expression");
        for (const member of node.body.body) {
          if (member.type === "StaticBlock") {
            c(member, { ...state, scope });
            continue;
          }
          if (member.key && member.key.type === "PrivateIdentifier") c(member.key, state);
          if (member.computed) {
            gate.report("computed-key", member, "a computed class member name: SyntaxError on Espruino");
            c(member.key, { ...state, scope }, "Expression");
          }
          if (!member.value) continue;
          if (member.type === "PropertyDefinition" && !member.static) c(member.value, { scope, body: setup, functionDepth: state.functionDepth + 1 }, "Expression");
          else c(member.value, { ...state, scope }, "Expression");
        }
      },
      VariablePattern(node, state) {
        // An assignment target (declarations were made up front): `x = ...` writes a binding.
        const binding = gate.resolve(state.scope, node.name);
        if (binding) gate.checkLoopClosure(binding, node, state);
      },
      Identifier(node, state) {
        gate.reference(node, state);
      },
      MemberExpression(node, state, c) {
        gate.checkMember(node, state);
        base.MemberExpression(node, state, c);
      },
      CallExpression(node, state, c) {
        gate.checkCall(node, state);
        base.CallExpression(node, state, c);
      },
      NewExpression(node, state, c) {
        gate.checkCall(node, state);
        base.NewExpression(node, state, c);
      },
      UnaryExpression(node, state, c) {
        if (node.operator === "typeof") gate.typeofArguments.add(node.argument);
        base.UnaryExpression(node, state, c);
      },
      ArrayExpression(node, state, c) {
        for (const element of node.elements) if (element && element.type === "SpreadElement") gate.report("spread-array", element, "spread in an array literal: SyntaxError on Espruino");
        base.ArrayExpression(node, state, c);
      },
      ObjectExpression(node, state, c) {
        for (const property of node.properties) {
          if (property.type === "SpreadElement") gate.report("spread-object", property, "spread in an object literal: SyntaxError on Espruino");
          else if (property.computed) gate.report("computed-key", property, "a computed property name: SyntaxError on Espruino");
        }
        base.ObjectExpression(node, state, c);
      },
      ObjectPattern(node, state, c) {
        gate.report("destructuring", node, "object destructuring: Espruino misreads it ('x is not defined')");
        base.ObjectPattern(node, state, c);
      },
      ArrayPattern(node, state, c) {
        gate.report("destructuring", node, "array destructuring: Espruino misreads it");
        base.ArrayPattern(node, state, c);
      },
      ChainExpression(node, state, c) {
        gate.report("optional-chaining", node, "optional chaining (?.): SyntaxError on Espruino");
        base.ChainExpression(node, state, c);
      },
      BinaryExpression(node, state, c) {
        if (node.operator === "**") gate.report("exponent", node, "the ** operator: SyntaxError on Espruino (Math.pow, or shifts for powers of two)");
        base.BinaryExpression(node, state, c);
      },
      AssignmentExpression(node, state, c) {
        if (node.operator === "**=") gate.report("exponent", node, "the **= operator: SyntaxError on Espruino");
        if (node.operator === "??=" || node.operator === "||=" || node.operator === "&&=") gate.report("logical-assignment", node, `the ${node.operator} operator: SyntaxError on Espruino`);
        base.AssignmentExpression(node, state, c);
      },
      LabeledStatement(node, state, c) {
        gate.report("labelled-statement", node, "a labelled statement: Espruino treats the label as a variable ('x is not defined')");
        base.LabeledStatement(node, state, c);
      },
      TaggedTemplateExpression(node, state, c) {
        gate.report("tagged-template", node, "a tagged template: Espruino returns undefined");
        base.TaggedTemplateExpression(node, state, c);
      },
      TemplateLiteral(node, state, c) {
        for (const quasi of node.quasis) gate.checkStringRaw(quasi, quasi.value.raw);
        // Espruino's lexer ends a ${...} at the first }, even one inside a string there.
        for (const expression of node.expressions) {
          walk.simple(expression, { Literal(literal: N) { if (typeof literal.value === "string" && literal.raw.indexOf("}") >= 0) gate.report("template-brace", literal, "a } in a string inside ${...}: Espruino's lexer ends the substitution there"); } });
        }
        base.TemplateLiteral(node, state, c);
      },
      MetaProperty(node) {
        gate.report(node.meta.name === "new" ? "new-target" : "module-syntax", node, `${node.meta.name}.${node.property.name}: SyntaxError on Espruino`);
      },
      ImportExpression(node, state, c) {
        gate.report("module-syntax", node, "import(): Espruino has no modules beyond require()");
        base.ImportExpression(node, state, c);
      },
      PrivateIdentifier(node) {
        gate.report("private-member", node, "a #private member: SyntaxError on Espruino (use a name ending in _)");
      },
      Literal(node) {
        if (node.regex) gate.checkRegex(node, node.regex.pattern, node.regex.flags);
        else if (typeof node.bigint === "string") gate.report("bigint", node, "a BigInt literal: Espruino has no BigInt");
        else if (typeof node.value === "string" && node.raw) gate.checkStringRaw(node, node.raw);
      },
    };
    return this.visitorsCache;
  }

  private functionScope(scope: Scope): Scope {
    // The scope that receives `var`s: the nearest one owned by a different body than its parent.
    let s = scope;
    while (s.parent && s.parent.owner === s.owner) s = s.parent;
    return s;
  }

  private loopState(declaration: N, state: State): State {
    const scope = this.newScope(state.scope, state.body, true);
    for (const declarator of declaration.declarations) {
      for (const id of this.patternNames(declarator.id)) this.declare(scope, id.name, declaration.kind, declarator.start);
    }
    this.loopScopeDepth.set(scope, state.functionDepth);
    return { ...state, scope };
  }

  private checkLoopClosure(binding: Binding, node: N, state: State): void {
    const depth = binding.scope.loop ? this.loopScopeDepth.get(binding.scope) : undefined;
    if (depth !== undefined && state.functionDepth > depth) {
      this.report("loop-closure", node, `a closure over the loop variable ${binding.name} of a for (let/const ...) loop: on Espruino every closure sees the last value (copy it into a let in the body, or use forEach)`);
    }
  }

  private reference(node: N, state: State): void {
    const binding = this.resolve(state.scope, node.name);
    if (!binding) {
      const why = MISSING_GLOBALS[node.name];
      if (why && !this.typeofArguments.has(node) && !this.espruinoProcess.has(node)) this.report("missing-global", node, `${node.name}: ${why} on Espruino`);
      const wrong = Object.prototype.hasOwnProperty.call(WRONG_GLOBALS, node.name) ? WRONG_GLOBALS[node.name] : undefined;
      if (wrong && !this.typeofArguments.has(node)) this.report("wrong-global", node, `${node.name} on Espruino ${wrong}`);
      return;
    }
    if (binding.unbound) {
      this.report("class-self-reference", node, `the class expression's own name ${node.name} is not bound inside it on Espruino`);
    }
    this.checkLoopClosure(binding, node, state);
    state.body.refs.push({ binding, node, call: this.callees.has(node) });
  }

  private checkFunction(node: N): void {
    if (node.async) this.report("async-function", node, "an async function: SyntaxError on Espruino (use promises)");
    if (node.generator) this.report("generator", node, "a generator: SyntaxError on Espruino");
    for (const param of node.params) {
      if (param.type === "AssignmentPattern") this.report("default-parameter", param, "a default parameter value: SyntaxError on Espruino");
      else if (param.type === "RestElement") this.report("rest-parameter", param, "a rest parameter: SyntaxError on Espruino (use arguments)");
    }
  }

  private checkClass(node: N, state: State): void {
    const superClass = node.superClass;
    if (superClass && superClass.type === "Identifier" && UNEXTENDABLE.has(superClass.name) && !this.resolve(state.scope, superClass.name)) {
      this.report("extends-builtin", superClass, `class extends ${superClass.name}: fails on Espruino ('Calling 'super' outside of class'); use a plain Error with a code field`);
    }
  }

  private checkCall(node: N, state: State): void {
    const callee = node.callee;
    if (callee.type === "Identifier") this.callees.add(callee);
    for (const argument of node.arguments) {
      if (argument.type === "SpreadElement") this.report("spread-call", argument, "spread in a call: SyntaxError on Espruino (use apply, at most 256 arguments)");
    }
    // Functions that start right here: an IIFE, fn.call(...)/fn.apply(...), a synchronous callback, new Promise(executor).
    if (/Function/.test(callee.type)) this.startedHere.add(callee);
    if (callee.type === "MemberExpression" && !callee.computed && /Function/.test(callee.object.type) && /^(call|apply)$/.test(callee.property.name)) this.startedHere.add(callee.object);
    const synchronous =
      (callee.type === "MemberExpression" && !callee.computed && SYNCHRONOUS_CALLBACKS.has(callee.property.name)) ||
      (node.type === "NewExpression" && callee.type === "Identifier" && callee.name === "Promise");
    if (synchronous) for (const argument of node.arguments) if (/Function/.test(argument.type)) this.startedHere.add(argument);
    // new C(...) or C(...) where C names a function/class: recorded as a reference with call=true.
    if (node.type === "NewExpression" && callee.type === "Identifier") this.callees.add(callee);
    this.checkAccessorDescriptor(node, state);
    this.checkCallShape(node, state);
  }

  /** Calls that run on Espruino but do something else (measured on 2v29). */
  private checkCallShape(node: N, state: State): void {
    const callee = node.callee;
    const args = node.arguments;
    const given = (arg: N) => arg && !(arg.type === "Identifier" && arg.name === "undefined") && !(arg.type === "Literal" && arg.value === null);
    if (callee.type === "Identifier" && callee.name === "clearTimeout" && !this.resolve(state.scope, "clearTimeout") && args.length === 0) {
      this.report("clear-all-timers", node, "clearTimeout() with no argument cancels every timer on Espruino (the firmware's too)");
    }
    if (callee.type !== "MemberExpression" || callee.computed) return;
    const method = callee.property.name;
    const onJson = callee.object.type === "Identifier" && callee.object.name === "JSON" && !this.resolve(state.scope, "JSON");
    if (onJson && method === "stringify" && given(args[1])) this.report("json-replacer", node, "JSON.stringify's replacer is ignored on Espruino");
    if (onJson && method === "parse" && given(args[1])) this.report("json-reviver", node, "JSON.parse's reviver is ignored on Espruino");
    if (method === "split" && args.length > 1) this.report("split-limit", node, "split's limit is ignored on Espruino");
    if (method === "replace" && args[1] && args[1].type === "Literal" && typeof args[1].value === "string" && args[1].value.indexOf("$") >= 0) {
      this.report("replace-pattern", node, "a $ pattern in replace's replacement is written literally on Espruino ($& stays $&)");
    }
  }

  /** Object.defineProperty(o, k, { get }) and esbuild's aliased __defProp: the interpreter ignored
   * the getters esbuild uses for module namespaces (measured: a getter came back instead of its value). */
  private checkAccessorDescriptor(node: N, state: State): void {
    const callee = node.callee;
    let method: string | undefined;
    if (callee.type === "MemberExpression" && !callee.computed && callee.object.type === "Identifier" && callee.object.name === "Object" && !this.resolve(state.scope, "Object")) {
      method = callee.property.name;
    } else if (callee.type === "Identifier") {
      const binding = this.resolve(state.scope, callee.name);
      if (binding) method = this.aliasMethods.get(binding);
    }
    // Getters only: setters run (measured on 2v29, through defineProperty and defineProperties, on
    // a plain object and on a module's exports), and the Storage stub of the shipped modules
    // depends on one (build/espruino-globals.mjs).
    const hasAccessor = (descriptor: N) =>
      descriptor && descriptor.type === "ObjectExpression" && descriptor.properties.some((p: N) => p.type === "Property" && !p.computed && (p.key.name ?? p.key.value) === "get");
    let found = false;
    if (method === "defineProperty") found = hasAccessor(node.arguments[2]);
    else if (method === "defineProperties" || method === "create") {
      const map = node.arguments[1];
      found = map && map.type === "ObjectExpression" && map.properties.some((p: N) => p.type === "Property" && hasAccessor(p.value));
    }
    if (found) this.report("accessor-descriptor", node, "a getter in a property descriptor: write plain properties (the interpreter ignored esbuild's namespace getters)");
  }

  private checkMember(node: N, state: State): void {
    if (node.property.type === "PrivateIdentifier") this.report("private-member", node.property, "a #private member: SyntaxError on Espruino (use a name ending in _)");
    const name = node.computed ? (node.property.type === "Literal" && typeof node.property.value === "string" ? node.property.value : undefined) : node.property.name;
    if (name === undefined) return;
    if (node.object.type === "Identifier" && node.object.name === "process" && /^(memory|env|version)$/.test(name)) this.espruinoProcess.add(node.object);
    const owner = node.object;
    if (owner.type === "MemberExpression" && !owner.computed && owner.property.name === "prototype" && owner.object.type === "Identifier" && PROTOTYPE_READS.has(owner.object.name) && !this.resolve(state.scope, owner.object.name)) {
      this.report("prototype-read", node, `${owner.object.name}.prototype.${name}: reads of the built-ins' prototypes fail on Espruino (call the method on a value)`);
      return;
    }
    if (node.object.type === "Identifier" && !this.resolve(state.scope, node.object.name)) {
      const statics = MISSING_STATICS[node.object.name];
      if (statics && statics.indexOf(name) >= 0 && !this.typeofArguments.has(node)) {
        this.report("missing-member", node, `${node.object.name}.${name} is missing on Espruino`);
        return;
      }
    }
    if (Object.prototype.hasOwnProperty.call(MISSING_METHODS, name) && !this.typeofArguments.has(node)) {
      this.report("missing-member", node.property, `.${name}: ${MISSING_METHODS[name]} is missing on Espruino`);
    }
  }

  // --- `var X = Object.defineProperty` aliases (esbuild's helpers) ------------------------------

  private noteAliases(program: N, scope: Scope): void {
    for (const statement of program.body) {
      if (statement.type !== "VariableDeclaration") continue;
      for (const declarator of statement.declarations) {
        const init = declarator.init;
        if (declarator.id.type !== "Identifier" || !init || init.type !== "MemberExpression" || init.computed) continue;
        if (init.object.type !== "Identifier" || init.object.name !== "Object") continue;
        if (!/^(defineProperty|defineProperties|create)$/.test(init.property.name)) continue;
        const binding = this.resolve(scope, declarator.id.name);
        if (!binding) continue;
        this.aliasMethods.set(binding, init.property.name);
      }
    }
  }

  // --- regular expressions -------------------------------------------------------------------

  /** Espruino's own matcher (src/jswrap_regexp.c, 2v29) knows . [] [^] \d\D\s\S\w\W\f\n\r\t\v\0\xHH,
   * * and + after a single character, ^ $ ( ) and top-level |. Everything else fails or is
   * matched literally, mostly without an error (measured). */
  checkRegex(node: N, pattern: string, flags: string): void {
    const seen = new Set<string>();
    const hit = (rule: string, message: string) => {
      if (seen.has(rule)) return;
      seen.add(rule);
      this.report(rule, node, `${message} in /${pattern}/${flags}`);
    };
    const badFlags = flags.split("").filter((flag) => !ALLOWED_REGEX_FLAGS.has(flag));
    if (badFlags.length) hit("regex-flag", `flag ${badFlags.join("")} (only g and i work; m returns false, s is a ReferenceError, u and y are ignored)`);
    let inClass = false;
    let depth = 0;
    let quantifiable = false; // the previous token is an atom a quantifier can follow
    let afterGroup = false;
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i];
      if (inClass) {
        if (ch === "\\") {
          if ("ucpP".indexOf(pattern[i + 1]) >= 0) hit("regex-escape", `the escape \\${pattern[i + 1]} (matched as a plain letter)`);
          i++;
        } else if (ch === "]") {
          inClass = false;
          quantifiable = true;
          afterGroup = false;
        } else if (ch === "/") {
          hit("regex-class-slash", "an unescaped / in a character class (Espruino's lexer ends the expression there: a SyntaxError when the code runs; write \\/)");
        }
        continue;
      }
      const quantifier = ch === "*" || ch === "+" || ch === "?" || (ch === "{" && /^\{\d+(,\d*)?\}/.test(pattern.slice(i)));
      if (quantifier && quantifiable) {
        if (afterGroup) hit("regex-group-quantifier", "a quantifier after a group (Espruino quantifies single characters only)");
        if (ch === "?") hit("regex-optional", "the ? quantifier (Espruino matches '?' literally: /ab?/ does not match 'a')");
        if (ch === "{") {
          hit("regex-counted-quantifier", "a {n,m} quantifier (silently never matches)");
          i = pattern.indexOf("}", i);
        }
        if (pattern[i + 1] === "?") {
          hit("regex-non-greedy", "a non-greedy quantifier (returns null)");
          i++;
        }
        quantifiable = false;
        afterGroup = false;
        continue;
      }
      afterGroup = false;
      quantifiable = true;
      if (ch === "\\") {
        const next = pattern[i + 1];
        if (next === "b" || next === "B") {
          hit("regex-word-boundary", `\\${next} (Espruino reads \\b as a backspace character)`);
          quantifiable = false;
        } else if (next >= "1" && next <= "9") hit("regex-backreference", "a backreference (throws 'Backreferences not supported')");
        else if (next === "k" && pattern[i + 2] === "<") hit("regex-named-group", "a named backreference");
        else if ("ucpP".indexOf(next) >= 0) hit("regex-escape", `the escape \\${next} (matched as a plain letter)`);
        i += next === "x" ? 3 : 1;
      } else if (ch === "[") {
        inClass = true;
        quantifiable = false;
        if (pattern[i + 1] === "^") i++;
        if (pattern[i + 1] === "]") i++; // a leading ] is a literal
      } else if (ch === "(") {
        if (depth > 0) hit("regex-nested-group", "a group inside a group (Espruino reports wrong captures)");
        if (pattern[i + 1] === "?") {
          const kind = pattern.slice(i + 2, i + 4);
          if (kind[0] === "=" || kind[0] === "!") hit("regex-lookahead", "a lookahead (silently never matches)");
          else if (kind === "<=" || kind === "<!") hit("regex-lookbehind", "a lookbehind (silently never matches)");
          else if (kind[0] === "<") hit("regex-named-group", "a named group (returns null)");
          else if (kind[0] === ":") hit("regex-non-capturing-group", "a non-capturing group (returns null)");
          i++;
        }
        depth++;
        quantifiable = false;
      } else if (ch === ")") {
        depth = Math.max(0, depth - 1);
        afterGroup = true;
      } else if (ch === "|") {
        if (depth > 0) hit("regex-group-alternation", "| inside a group (Espruino ends the whole match at the |: /^(a|b)c$/ matches 'ax')");
        quantifiable = false;
      } else if (ch === "^" || ch === "$") {
        quantifiable = false;
      }
    }
  }

  // --- functions defined before first use ----------------------------------------------------

  /**
   * Espruino does not hoist function declarations: a function exists once its declaration has run.
   * Reported: (1) code of a body (the module at load, or a function when it runs) using a function
   * or class of that same body declared further down; (2) at load, a call to a module-level
   * function whose body (or the bodies it calls in turn, IIFEs and synchronous callbacks included)
   * uses a module-level function declared after the point of that load-time call.
   */
  private checkDefinitionOrder(program: N): void {
    const programBody = this.bodies.get(program)!;
    for (const body of this.bodies.values()) {
      for (const ref of body.refs) {
        const binding = ref.binding;
        if (binding.scope.owner !== body || !binding.callable || binding.kind === "self") continue;
        if (binding.definedAt > ref.node.start) {
          const where = body === programBody ? "at load" : "when its function runs";
          this.report("use-before-define", ref.node, `${binding.name} is ${ref.call ? "called" : "used"} ${where} before its declaration (line ${this.lineOf(binding.definedAt)}): Espruino does not hoist functions`);
        }
      }
    }
    // Transitive, from the top level.
    const calledBodies = (body: Body): { body: Body; via: string }[] => {
      const out: { body: Body; via: string }[] = [];
      for (const ref of body.refs) {
        if (!ref.call || !ref.binding.callable) continue;
        for (const callable of this.callableBodies(ref.binding.callable)) out.push({ body: callable, via: ref.binding.name });
      }
      for (const run of body.runs) out.push({ body: run.body, via: "(function)" });
      return out;
    };
    const startPoints: { body: Body; at: number; via: string }[] = [];
    for (const ref of programBody.refs) {
      if (!ref.call || !ref.binding.callable || ref.binding.definedAt > ref.node.start) continue;
      for (const callable of this.callableBodies(ref.binding.callable)) startPoints.push({ body: callable, at: ref.node.start, via: ref.binding.name });
    }
    for (const run of programBody.runs) startPoints.push({ body: run.body, at: run.at, via: "(function)" });
    const reported = new Set<string>();
    for (const start of startPoints) {
      const visited = new Set<Body>();
      const queue: { body: Body; chain: string[] }[] = [{ body: start.body, chain: [start.via] }];
      while (queue.length) {
        const { body, chain } = queue.shift()!;
        if (visited.has(body)) continue;
        visited.add(body);
        for (const ref of body.refs) {
          const binding = ref.binding;
          if (binding.scope.owner !== programBody || !binding.callable || binding.definedAt < start.at) continue;
          const key = start.at + ":" + binding.name;
          if (reported.has(key)) continue;
          reported.add(key);
          this.report(
            "use-before-define",
            { start: start.at, end: start.at + 1 },
            `at load, ${chain.join(" -> ")} ${ref.call ? "calls" : "uses"} ${binding.name}, declared later (line ${this.lineOf(binding.definedAt)}): Espruino does not hoist functions`,
          );
        }
        for (const next of calledBodies(body)) queue.push({ body: next.body, chain: chain.concat(next.via) });
      }
    }
  }

  /** The bodies that run when a callable is called: a function's own, or a class's field setup and constructor. */
  private callableBodies(callable: N): Body[] {
    const out: Body[] = [];
    const own = this.bodies.get(callable);
    if (own) out.push(own);
    if (callable.type === "ClassDeclaration" || callable.type === "ClassExpression") {
      const constructor = callable.body.body.find((m: N) => m.type === "MethodDefinition" && m.kind === "constructor");
      const constructorBody = constructor && this.bodies.get(constructor.value);
      if (constructorBody) out.push(constructorBody);
    }
    return out;
  }

  private lineOf(offset: number): number {
    let line = 0;
    while (line + 1 < this.lineStarts.length && this.lineStarts[line + 1] <= offset) line++;
    return line + 1;
  }
}

/** Every construct in `source` that the Espruino interpreter lacks or runs wrongly. */
export function checkBundle(source: string): Finding[] {
  const gate = new Gate(source);
  gate.run();
  return gate.findings.sort((a, b) => a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : 1));
}
