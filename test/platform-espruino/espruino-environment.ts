// A node:vm realm stripped to what the Espruino interpreter (2v29, ESP32 firmware: no Unicode
// strings; or, with `unicode`, firmware built with Unicode support) has, with Espruino-like `tls`, `net` and `crypto` modules backed by Node, and a
// `require` that finds the shipped Storage modules by name. Used to run the exact shipped bundle
// through a provisioning and hub session against the simulator, in a few seconds.
//
// Reproduced from measurements (../shared/ESPRUINO.md, and runs of the interpreter built for Linux):
// - only the globals Espruino has; none of Node's (Buffer, process, setImmediate, ...), and the
//   missing built-in members removed (Map, Set, Symbol, Math.trunc, Promise.prototype.finally, ...);
// - byte strings: String.fromCharCode keeps 8 bits, JSON.stringify escapes chars >= 0x7f as \u00XX,
//   JSON.parse keeps 8 bits of \uXXXX; Function.prototype.apply takes at most 256 arguments;
//   Uint8Array.prototype.slice returns a plain Array; errors have no .name; a TypeError is not
//   instanceof Error; clearTimeout(undefined) throws and clearTimeout() clears every timer;
//   setTimeout returns a number;
// - a typed array view's byteOffset is 16 bits (subarray past 64 KB throws);
// - sockets: connect(options, callback) with the callback on TCP connect (before the TLS handshake
//   ends), data as byte strings in chunks of at most 536 bytes each in its own task, write() of a
//   non-string sends its text form ("1,2,3"), a TLS close from the server gives
//   error {code: -30848} then end then close(true), our own end() gives end then close(false), an unknown host throws synchronously ("Unable to
//   create socket"), PEM certificates are refused (the interpreter takes DER only), and there is
//   no once/destroy/setTimeout/setNoDelay.
// - with `unicode` (measured on the 2v29 Linux build): a string from a literal or JSON.parse holds
//   UTF-8 (E.isUTF8 is true, E.toUint8Array gives the UTF-8 bytes), strings of bytes (E.toString,
//   socket data) do not, E.asUTF8 reads bytes as UTF-8, JSON.stringify escapes chars >= 0x7f as
//   \uXXXX, and String.fromCharCode still keeps 8 bits. Node cannot mark a string, so the realm
//   remembers the byte strings it made and treats every other non-ASCII string as UTF-8 text.
// What differs on purpose: TLS sends SNI (the host name the library dialled, so the simulator can
// route; the interpreter sends none) and verifies the server against `ca` (the interpreter does not).
import { createHash, randomInt } from "node:crypto";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import vm from "node:vm";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The shipped Storage modules (dist/espruino), by the name a device stores them under (file name
 * minus .min.js). Tests run from the project root (test/run.mjs). */
export function shippedStorage(): Record<string, string> {
  const dir = join(process.cwd(), "dist/espruino");
  const storage: Record<string, string> = {};
  for (const file of readdirSync(dir)) if (file.endsWith(".min.js")) storage[file.slice(0, -".min.js".length)] = readFileSync(join(dir, file), "utf8");
  return storage;
}

/** Globals Espruino has that the stripped realm keeps (its own intrinsics). */
const KEPT_GLOBALS = [
  "Object", "Function", "Array", "String", "Number", "Boolean", "Math", "JSON", "Date", "RegExp", "Error", "TypeError",
  "SyntaxError", "Uint8Array", "ArrayBuffer", "Promise", "parseInt", "parseFloat", "isNaN", "isFinite",
  "undefined", "NaN", "Infinity", "eval",
];

/** Built-in members the interpreter lacks (measured), removed from the realm's own intrinsics. */
const STRIP_SCRIPT = `(function (g, unicode) {
  var keep = ${JSON.stringify(KEPT_GLOBALS)};
  Object.getOwnPropertyNames(g).forEach(function (name) { if (keep.indexOf(name) < 0) delete g[name]; });
  function strip(target, names) { names.forEach(function (name) { delete target[name]; }); }
  strip(Array, ["from", "of"]);
  strip(Array.prototype, ["flat", "flatMap", "at", "copyWithin", "keys", "values", "entries", "lastIndexOf", "reduceRight", "findLast", "findLastIndex"]);
  strip(Number, ["isInteger", "isFinite", "isNaN", "isSafeInteger", "parseInt", "parseFloat", "EPSILON", "MAX_SAFE_INTEGER", "MIN_SAFE_INTEGER"]);
  strip(Math, ["trunc", "imul", "clz32", "log2", "log10", "log1p", "expm1", "hypot", "cbrt", "fround", "sinh", "cosh", "tanh"]);
  strip(Object, ["freeze", "is", "seal", "isFrozen", "isSealed", "preventExtensions", "hasOwn"]);
  strip(Promise, ["race", "any", "allSettled"]);
  strip(Promise.prototype, ["finally"]);
  strip(String, ["fromCodePoint", "raw"]);
  strip(String.prototype, ["trimStart", "trimEnd", "trimLeft", "trimRight", "at", "matchAll", "normalize", "localeCompare", "codePointAt", "search"]);
  strip(Date, ["UTC"]);
  strip(Date.prototype, ["toLocaleString"]);
  strip(Number.prototype, ["toPrecision", "toExponential"]);
  // Error.stackTraceLimit stays: the interpreter also puts a stack on every Error it makes.
  strip(Error, ["captureStackTrace"]);
  var typed = Object.getPrototypeOf(Uint8Array.prototype);
  strip(typed, ["lastIndexOf", "copyWithin", "at", "entries", "keys", "values"]);
  // Uint8Array.prototype.slice returns a plain Array on Espruino.
  var arraySlice = Array.prototype.slice;
  Object.defineProperty(typed, "slice", { value: function (start, end) { return arraySlice.call(this, start, end); }, writable: true, configurable: true });
  // A view's byteOffset is 16 bits: "byteOffset too large (or negative)".
  var subarray = typed.subarray;
  Object.defineProperty(typed, "subarray", { value: function (begin, end) {
    var view = subarray.call(this, begin, end);
    if (view.byteOffset > 65535) throw new Error("byteOffset too large (or negative)");
    return view;
  }, writable: true, configurable: true });
  // Errors have no name; a TypeError or SyntaxError is not an Error.
  strip(Error.prototype, ["name"]); strip(TypeError.prototype, ["name"]); strip(SyntaxError.prototype, ["name"]);
  Object.setPrototypeOf(TypeError.prototype, Object.prototype);
  Object.setPrototypeOf(SyntaxError.prototype, Object.prototype);
  // Function.prototype.apply: at most 256 arguments.
  var apply = Function.prototype.apply;
  Object.defineProperty(Function.prototype, "apply", { value: function (self, args) {
    if (args && args.length > 256) throw new Error("Array passed to Function.apply is too big! Maximum 256 arguments");
    return apply.call(this, self, args);
  }, writable: true, configurable: true });
  // No Unicode strings on the ESP32 firmware: a char keeps 8 bits.
  var fromCharCode = String.fromCharCode;
  String.fromCharCode = function () {
    var codes = [];
    for (var i = 0; i < arguments.length; i++) codes.push(arguments[i] & 255);
    return apply.call(fromCharCode, String, codes);
  };
  var stringify = JSON.stringify, parse = JSON.parse;
  function hex(code) { return "\\\\u" + ("000" + (unicode ? code : code & 255).toString(16).toUpperCase()).slice(-4); }
  JSON.stringify = function (value, replacer, indent) {
    var text = stringify(value, null, indent);
    return typeof text === "string" ? text.replace(/[\\u007f-\\uffff]/g, function (c) { return hex(c.charCodeAt(0)); }) : text;
  };
  if (unicode) return;
  function bytes(text) { return text.replace(/[\\u0100-\\uffff]/g, function (c) { return fromCharCode(c.charCodeAt(0) & 255); }); }
  JSON.parse = function (text) {
    return parse(text, function (key, value) {
      if (typeof value === "string") return bytes(value);
      if (value && typeof value === "object" && !Array.isArray(value)) {
        for (var k in value) if (bytes(k) !== k) { value[bytes(k)] = value[k]; delete value[k]; }
      }
      return value;
    });
  };
})`;

/** Helpers that make values in the realm's own intrinsics (so instanceof and prototypes are the realm's). */
const FACTORY_SCRIPT = `({
  bytes: function (n) { return new Uint8Array(n); },
  buffer: function (n) { return new ArrayBuffer(n); },
  error: function (message) { return new Error(message); },
  event: function (code, message) { return { code: code, message: message }; },
  fromJson: function (text) { return JSON.parse(text); }
})`;

interface Factory {
  bytes(n: number): Uint8Array;
  buffer(n: number): ArrayBuffer;
  error(message: string): Error;
  event(code: number, message: string): object;
  fromJson(text: string): unknown;
}

export interface EspruinoEnvironmentOptions {
  /** Storage files by name (require(name) finds them), e.g. the shipped dist/espruino modules. */
  storage: Record<string, string>;
  /** "DNS": where a host name is dialled; throw for an unknown host (connect then throws, as on Espruino). */
  lookup(host: string, port: number): { host: string; port: number };
  /** CA (PEM) the Node side verifies TLS servers against. */
  ca: string;
  /** Firmware built with Unicode support (Linux, Bangle.js 2) instead of the ESP32's byte strings. */
  unicode?: boolean;
  /** Built-in modules this firmware lacks (some ESP32 IDF4 builds have no crypto or tls). */
  missing?: string[];
}

export interface SocketStats {
  opened: number;
  open: number;
  /** Bytes written, and how many write() calls. */
  bytesWritten: number;
  writes: number;
  largestWrite: number;
  /** write() calls with something other than a string (sent as text, as Espruino does): a library bug. */
  nonStringWrites: number;
  /** Strings written with a char above 0xff (impossible on the ESP32): a library bug. */
  wideCharWrites: number;
  /** `data` events and the largest chunk. */
  chunks: number;
  largestChunk: number;
  /** Hosts dialled, with the options the library passed (certificates summarised). */
  dialled: { host: string; port: number; tls: boolean; ca?: string; cert?: string; key?: string }[];
}

type Listener = (...args: unknown[]) => void;

const CHUNK = 536;
const PEER_CLOSE_NOTIFY = -30848;

export class EspruinoEnvironment {
  readonly context: vm.Context;
  /** How many times the bundle called E.defrag(). */
  defrags = 0;
  /** Calls of E.defrag() made while a TLS socket was open: the interpreter's defragmenting moves
   * the block mbedTLS points into (its TLS state), which would corrupt memory on a device. */
  defragsWithTlsOpen = 0;
  private openTls = 0;
  /** What process.memory().free answers (Node's heap is not the interpreter's variables): a test
   * sets it low to see how the bundle behaves on a board short of memory. */
  freeVariables = 10000;
  /** What process.memory(false) answers (no garbage collection first), when it differs: garbage
   * not yet collected counts as used there. */
  freeVariablesBeforeGc: number | undefined;
  readonly stats: SocketStats = {
    opened: 0, open: 0, bytesWritten: 0, writes: 0, largestWrite: 0, nonStringWrites: 0, wideCharWrites: 0, chunks: 0, largestChunk: 0, dialled: [],
  };
  /** What the realm printed with console.log / console.error. */
  readonly output: string[] = [];
  private readonly options: EspruinoEnvironmentOptions;
  private readonly factory: Factory;
  private readonly timers = new Map<number, { kind: "timeout" | "interval"; handle: ReturnType<typeof setTimeout> }>();
  private nextTimerId = 1;
  private readonly sockets = new Set<Socket>();
  private readonly moduleCache = new Map<string, unknown>();
  private readonly byteStrings = new Set<string>();
  /** After dispose(), no timer starts and no socket event is delivered (a failed test must not hang). */
  private disposed = false;

  constructor(options: EspruinoEnvironmentOptions) {
    this.options = options;
    this.context = vm.createContext({});
    const unicode = options.unicode === true;
    vm.runInContext(STRIP_SCRIPT, this.context)(vm.runInContext("this", this.context), unicode);
    this.factory = vm.runInContext(FACTORY_SCRIPT, this.context) as Factory;
    const g = vm.runInContext("this", this.context) as Record<string, unknown>;
    g.setTimeout = (fire: () => void, ms?: number) => this.addTimer("timeout", fire, ms);
    g.setInterval = (fire: () => void, ms?: number) => this.addTimer("interval", fire, ms);
    g.clearTimeout = (...args: unknown[]) => this.clearTimer(args);
    g.clearInterval = (...args: unknown[]) => this.clearTimer(args);
    g.btoa = (binary: string) => {
      for (let i = 0; i < binary.length; i++) if (binary.charCodeAt(i) > 255) throw this.factory.error("btoa: not a byte string");
      return Buffer.from(binary, "latin1").toString("base64");
    };
    g.atob = (text: string) => this.byteString(Buffer.from(String(text), "base64").toString("latin1")); // lenient, like Espruino's
    const print = (...args: unknown[]) => this.output.push(args.map(String).join(" "));
    g.console = { log: print, error: print, warn: print, info: print };
    g.E = {
      toUint8Array: (text: string) => this.bytesOf(Buffer.from(String(text), unicode && this.isUtf8(text) ? "utf8" : "latin1")),
      toString: (...parts: Array<ArrayLike<number> | string>) =>
        this.byteString(Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part, "latin1") : Buffer.from(Array.prototype.slice.call(part))))).toString("latin1")),
      isUTF8: (text: string) => unicode && this.isUtf8(text),
      asUTF8: (text: string) => {
        if (!unicode) throw this.factory.error("Unicode not supported on this build");
        return Buffer.from(String(text), "latin1").toString("utf8");
      },
      hwRand: () => randomInt(0, 2 ** 32) | 0,
      // Node's heap needs no defragmenting; the call is counted so a test can see it was made.
      defrag: () => {
        this.defrags++;
        if (this.openTls > 0) this.defragsWithTlsOpen++;
      },
    };
    g.Modules = {
      addCached: (name: string, code: string) => this.moduleCache.set(name, this.evaluateModule(name, code)),
      removeCached: (name: string) => {
        // As the interpreter: a module that is not loaded is an error (jswrap_modules.c).
        if (!this.moduleCache.delete(name)) throw this.factory.error(`Module ${name} not found`);
      },
      removeAllCached: () => this.moduleCache.clear(),
      getCached: () => [...this.moduleCache.keys()],
    };
    g.require = (name: string) => this.require(name);
    // The root scope, as on Espruino (the shipped modules' code defines its names there).
    g.global = g;
    // Espruino's process: memory(), env and version only (no Node process in the realm).
    g.process = {
      memory: (gc?: boolean) => {
        const free = gc === false && this.freeVariablesBeforeGc !== undefined ? this.freeVariablesBeforeGc : this.freeVariables;
        return { free, usage: 10000 - free, total: 10000 };
      },
      env: { VERSION: "2v29" },
      version: "2v29",
    };
  }

  /** require(name) as the interpreter does it: built-in modules, then the Storage file of that name. */
  require(name: string): any {
    if (this.options.missing && this.options.missing.indexOf(name) >= 0) throw this.factory.error(`Module ${name} not found`);
    if (name === "crypto") return this.cryptoModule();
    if (name === "Storage") return { read: (file: string, offset?: number, length?: number) => this.readStorage(file, offset, length) };
    if (name === "tls" || name === "net") return { connect: (options: any, callback?: () => void) => this.connect(name === "tls", options, callback) };
    if (this.moduleCache.has(name)) return this.moduleCache.get(name);
    const code = this.options.storage[name];
    if (code === undefined) throw this.factory.error(`Module ${name} not found`);
    const exported = this.evaluateModule(name, code);
    this.moduleCache.set(name, exported);
    return exported;
  }

  /** require("Storage").read(name, offset, length): undefined for a file that is not there. */
  private readStorage(file: string, offset?: number, length?: number): string | undefined {
    const text = this.options.storage[file];
    if (text === undefined) return undefined;
    return text.substr(offset || 0, length === undefined ? text.length : length);
  }

  /** Runs JavaScript source in the realm and returns its value. */
  evaluate<T = any>(source: string): T {
    return vm.runInContext(source, this.context) as T;
  }

  /** A JSON-able value rebuilt inside the realm (its objects and arrays are the realm's). */
  value<T>(value: T): T {
    return this.factory.fromJson(JSON.stringify(value)) as T;
  }

  /** Ends every socket and timer left behind; returns how many there were. */
  dispose(): { sockets: number; timers: number } {
    this.disposed = true;
    const left = { sockets: this.sockets.size, timers: this.timers.size };
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    for (const timer of this.timers.values()) (timer.kind === "timeout" ? clearTimeout : clearInterval)(timer.handle);
    this.timers.clear();
    return left;
  }

  get liveTimers(): number {
    return this.timers.size;
  }

  private evaluateModule(name: string, code: string): unknown {
    // A module runs in its own scope with `module` and `exports` (top-level vars stay in it, as
    // measured on the interpreter); the shipped text is compiled unchanged.
    const run = vm.compileFunction(code, ["module", "exports"], { parsingContext: this.context, filename: name });
    const exports = this.evaluate("({})");
    const module = this.evaluate("({})") as { exports: unknown };
    module.exports = exports;
    run.call(exports, module, exports);
    return module.exports;
  }

  /** Remembers a string of bytes the realm made (Unicode firmware does not hold it as UTF-8). */
  private byteString(text: string): string {
    if (this.byteStrings.size > 10000) this.byteStrings.clear();
    if (/[^\x00-\x7f]/.test(text)) this.byteStrings.add(text);
    return text;
  }

  private isUtf8(text: string): boolean {
    return typeof text === "string" && /[^\x00-\x7f]/.test(text) && !this.byteStrings.has(text);
  }

  private bytesOf(data: Uint8Array): Uint8Array {
    const bytes = this.factory.bytes(data.length);
    bytes.set(data);
    return bytes;
  }

  private addTimer(kind: "timeout" | "interval", fire: () => void, ms?: number): number {
    if (typeof fire !== "function") throw this.factory.error("setTimeout: expected a function");
    // Measured on 2v29: over 100 years (Infinity too) throws.
    if (Number(ms) > 3.1536e13) throw this.factory.error("Interval is too long (>100 years)");
    const id = this.nextTimerId++;
    if (this.disposed) return id;
    const delay = Math.min(Math.max(0, Number(ms) || 0), 2147483647);
    const handle =
      kind === "timeout"
        ? setTimeout(() => {
            this.timers.delete(id);
            fire();
          }, delay)
        : setInterval(fire, delay);
    this.timers.set(id, { kind, handle });
    return id;
  }

  private clearTimer(args: unknown[]): void {
    if (args.length === 0) {
      // Espruino: clearTimeout() with no argument clears every timer.
      for (const timer of this.timers.values()) (timer.kind === "timeout" ? clearTimeout : clearInterval)(timer.handle);
      this.timers.clear();
      return;
    }
    const id = args[0];
    if (id === undefined) throw this.factory.error("clearTimeout(undefined) not allowed. Use clearTimeout() instead");
    const timer = this.timers.get(id as number);
    if (!timer) return;
    (timer.kind === "timeout" ? clearTimeout : clearInterval)(timer.handle);
    this.timers.delete(id as number);
  }

  private cryptoModule() {
    const digest = (algorithm: string) => (data: unknown) => {
      let input: Buffer;
      if (typeof data === "string") input = Buffer.from(data, "latin1");
      else if (data instanceof Uint8Array || (data && ArrayBuffer.isView(data))) input = Buffer.from(Array.prototype.slice.call(data));
      else if (data && typeof (data as ArrayBuffer).byteLength === "number") input = Buffer.from(new Uint8Array(data as ArrayBuffer));
      else throw this.factory.error(`crypto: cannot hash ${typeof data}`);
      const hash = createHash(algorithm).update(input).digest();
      const buffer = this.factory.buffer(hash.length);
      new Uint8Array(buffer).set(hash);
      return buffer; // an ArrayBuffer, as on Espruino
    };
    return { SHA1: digest("sha1"), SHA224: digest("sha224"), SHA256: digest("sha256"), SHA384: digest("sha384"), SHA512: digest("sha512") };
  }

  private certificate(value: unknown, what: string): string | undefined {
    if (value === undefined) return undefined;
    if (ArrayBuffer.isView(value)) {
      const bytes = value as Uint8Array;
      if (bytes[0] !== 0x30) throw this.factory.error(`HTTPS init failed! mbedtls_x509_crt_parse of ${what}: -0x2180`);
      return `${bytes.length} bytes of DER`;
    }
    if (typeof value !== "string") return typeof value;
    // A string of 100 bytes or less is a file's path (libs/network/network.c, on a firmware with a
    // file system, as the ESP32's has; measured on 2v29).
    if (value.length <= 100) throw this.factory.error("Could not open file");
    // The interpreter's mbedTLS has no PEM parser (measured: "HTTPS init failed! ... Invalid format").
    if (value.indexOf("-----BEGIN") >= 0) throw this.factory.error(`HTTPS init failed! mbedtls_x509_crt_parse of ${what}: Invalid format (PEM; the interpreter takes DER)`);
    // DER starts with a SEQUENCE (0x30); mbedTLS refuses anything else.
    if (value.charCodeAt(0) !== 0x30) throw this.factory.error(`HTTPS init failed! mbedtls_x509_crt_parse of ${what}: -0x2180`);
    return `${value.length} bytes of DER`;
  }

  private connect(useTls: boolean, options: any, callback?: () => void): object {
    const host = String(options && options.host);
    const port = Number(options && options.port);
    let target: { host: string; port: number };
    try {
      target = this.options.lookup(host, port);
    } catch {
      // On Linux the interpreter throws at once for a refused connection or an unknown host.
      throw this.factory.error("Unable to create socket");
    }
    this.stats.dialled.push({
      host, port, tls: useTls,
      ca: useTls ? this.certificate(options.ca, "ca") : undefined,
      cert: useTls ? this.certificate(options.cert, "cert") : undefined,
      key: useTls ? this.certificate(options.key, "key") : undefined,
    });
    const socket: Socket = useTls
      ? tlsConnect({ host: target.host, port: target.port, servername: host, ca: this.options.ca, minVersion: "TLSv1.2" })
      : netConnect({ host: target.host, port: target.port });
    this.sockets.add(socket);
    this.stats.opened++;
    this.stats.open++;
    if (useTls) this.openTls++;
    const listeners: { [event: string]: Listener[] } = {};
    // Listeners run with `this` set to the socket, as the interpreter calls them (measured).
    const emit = (event: string, ...args: unknown[]) => {
      for (const listener of (listeners[event] || []).slice()) listener.apply(espruinoSocket, args);
    };
    // Each event in its own task, in order, like the interpreter's idle loop.
    const queue: (() => void)[] = [];
    let draining = false;
    const later = (task: () => void) => {
      if (this.disposed) return;
      queue.push(task);
      if (draining) return;
      draining = true;
      const next = () => {
        const task = this.disposed ? undefined : queue.shift();
        if (!task) {
          draining = false;
          return;
        }
        task();
        setImmediate(next);
      };
      setImmediate(next);
    };
    let hadError = false;
    let endedByUs = false;
    let ended = false;
    let closed = false;
    // TCP up (TLS may still be shaking hands); like listeners, the callback gets the socket as `this`.
    socket.on("connect", () => later(() => callback && callback.call(espruinoSocket)));
    socket.on("data", (data: Buffer) => {
      for (let at = 0; at < data.length; at += CHUNK) {
        const chunk = this.byteString(data.subarray(at, Math.min(data.length, at + CHUNK)).toString("latin1"));
        later(() => {
          this.stats.chunks++;
          this.stats.largestChunk = Math.max(this.stats.largestChunk, chunk.length);
          emit("data", chunk);
        });
      }
    });
    const finish = () => {
      if (!ended) {
        ended = true;
        later(() => emit("end"));
      }
    };
    socket.on("end", () => {
      // The server closed: over TLS a close_notify arrives as error -30848 before end (measured).
      // Node does not say whether a close_notify came, so any server close over TLS gives it here;
      // after our own end() the interpreter gives just end and close (measured).
      if (useTls && !endedByUs) {
        hadError = true;
        later(() => emit("error", this.factory.event(PEER_CLOSE_NOTIFY, "unknown error")));
      }
      finish();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      hadError = true;
      later(() => emit("error", this.factory.event(-1, String(error.code || error.message))));
    });
    socket.on("close", () => {
      this.sockets.delete(socket);
      this.stats.open--;
      if (useTls) this.openTls--; // the interpreter frees its TLS state, then queues "close"
      finish();
      later(() => {
        if (closed) return;
        closed = true;
        emit("close", hadError);
      });
    });
    const espruinoSocket = {
      on: (event: string, listener: Listener) => {
        (listeners[event] = listeners[event] || []).push(listener);
        return espruinoSocket;
      },
      removeListener: (event: string, listener: Listener) => {
        const list = listeners[event] || [];
        if (list.indexOf(listener) >= 0) list.splice(list.indexOf(listener), 1);
      },
      removeAllListeners: (event?: string) => {
        if (event === undefined) for (const key of Object.keys(listeners)) delete listeners[key];
        else delete listeners[event];
      },
      emit,
      write: (data: unknown) => {
        let text: string;
        if (typeof data === "string") text = data;
        else {
          this.stats.nonStringWrites++;
          text = String(data); // what the interpreter sends for a Uint8Array: "1,2,3"
        }
        for (let i = 0; i < text.length; i++) {
          if (text.charCodeAt(i) > 255) {
            this.stats.wideCharWrites++;
            break;
          }
        }
        this.stats.writes++;
        this.stats.bytesWritten += text.length;
        this.stats.largestWrite = Math.max(this.stats.largestWrite, text.length);
        if (!socket.destroyed && socket.writable) socket.write(Buffer.from(text, "latin1"));
        return false; // what the interpreter returns
      },
      end: () => {
        endedByUs = true;
        if (!socket.destroyed) socket.end();
      },
    };
    return espruinoSocket;
  }
}
