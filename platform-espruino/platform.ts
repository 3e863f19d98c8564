// The Espruino platform: sockets from require("tls") (or "net"), byte strings <-> Uint8Array with
// E.toUint8Array / E.toString, native SHA-256, E.hwRand. What was measured on the interpreter
// (ESPRUINO.md and our own runs of 2v29) shapes it: connect() throws synchronously on refusal,
// a clean close from the server arrives as error -30848 before close, certificates must be DER
// (no PEM parser), and writing a Uint8Array would send its text form ("1,2,3").
// The interpreter's TLS does not verify the server certificate and sends no SNI: see README.
import { liteError, textOf, type LiteError } from "../core/errors";
import type { CryptoProvider } from "../core/crypto";
import type { Platform, PlatformLimits, PlatformSocket, SocketHandlers, SocketTarget } from "../core/platform";

export interface EspruinoPlatformOptions {
  /** false: plain TCP through require("net") (for local tests only; Azure requires TLS). */
  tls?: boolean;
  /** Maps a host to the address dialled (for simulators); default identity. */
  resolve?: (host: string, port: number) => { host: string; port: number };
}

const enum Timer {
  MaxMs = 2147483647,
}

const enum Socket {
  // Writes go out in pieces of at most this many bytes, so no large string is built at once.
  WriteChunk = 512,
  // mbedTLS MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY: the server closed the TLS session cleanly.
  PeerCloseNotify = -30848,
  MaxViewOffset = 65535,
}

/**
 * PEM to the DER bytes the interpreter's mbedTLS wants (it has no PEM parser), taking the block
 * whose label holds `label` (an EC key file may start with an EC PARAMETERS block). It takes one
 * certificate each: a chain or several CAs are refused, not silently cut to the first. Bytes, not
 * a string: the interpreter takes a string of 100 bytes or less for a file's path (a P-256 key
 * without its public part is 51 bytes of DER: "Could not open file", measured on 2v29). Text that
 * is not PEM goes as it is (a file's path, or DER as a string).
 */
function der(pem: string | string[] | undefined, label: string): string | Uint8Array | undefined {
  const text = typeof pem === "string" ? pem : pem && pem.length < 2 ? pem[0] : undefined;
  if (pem && !text) throw pemError("a list");
  if (!text || text.indexOf("-----BEGIN") < 0) return text;
  const lines = text.split("\n");
  let body: string | undefined;
  let inside = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line.indexOf("-----BEGIN") === 0 && line.indexOf(label) > 0) {
      if (body !== undefined) throw pemError("a chain");
      body = "";
      inside = true;
    } else if (line.indexOf("-----") === 0) inside = false;
    else if (inside) body += line;
  }
  if (body === undefined) throw pemError("no " + label);
  return E.toUint8Array(atob(body));
}

function pemError(what: string): LiteError {
  return liteError("TLS_CONFIG_INVALID", "Espruino takes one PEM block per TLS option, found " + what);
}

/** The interpreter's socket, on which the adapter keeps its own state. */
interface RawSocket {
  owner_: EspruinoSocket;
  on(event: string, listener: (value?: any) => void): void;
  write(data: string): void;
  end(): void;
}

/** Sockets of this module not closed yet. E.defrag() moves blocks of memory, and the
 * interpreter's TLS state is one such block that mbedTLS points into (libs/network/network.c):
 * moved under a live connection, it would corrupt memory. So it runs only when none is open. */
export let openSockets = 0;

// The interpreter calls a socket's listeners, and its connect callback, with `this` set to the
// socket, so one set of listeners serves every connection: no closures per connection (each
// costs ~10 JsVars, and would keep the scope it was made in).
function onConnect(this: RawSocket): void {
  const socket = this.owner_;
  if (socket && !socket.ended_) socket.handlers_.connected(socket);
}

function onData(this: RawSocket, data: string): void {
  const socket = this.owner_;
  if (socket && !socket.ended_) socket.handlers_.data(E.toUint8Array(data), socket);
}

function onError(this: RawSocket, error: { code?: number; message?: string }): void {
  const socket = this.owner_;
  if (!socket || (error && error.code === Socket.PeerCloseNotify)) return;
  socket.failure_ = socket.failure_ || liteError("SOCKET_ERROR", socket.host_ + ": socket error " + (error && error.code) + " " + ((error && error.message) || ""), { retryable: true });
}

function onClose(this: RawSocket): void {
  const socket = this.owner_;
  if (!socket) return;
  // Links cut now, so the interpreter can free its socket once this returns; the session hears
  // of it on the next turn. The hub may open its next TLS connection from `closed` (a SAS
  // renewal does), and made inside this callback it needed the old socket in memory too
  // (measured on 2v29: out of memory there, in a callback nothing could catch).
  openSockets--;
  this.owner_ = undefined as unknown as EspruinoSocket;
  socket.raw_ = undefined;
  setTimeout(() => socket.end_(), 0);
}

class EspruinoSocket implements PlatformSocket {
  handlers_: SocketHandlers;
  readonly host_: string;
  ended_ = false;
  failure_: LiteError | undefined;
  /** Undefined once the interpreter's socket closed (or never opened). */
  raw_: RawSocket | undefined;

  constructor(target: SocketTarget, handlers: SocketHandlers, options: EspruinoPlatformOptions) {
    this.handlers_ = handlers;
    this.host_ = target.host;
    const useTls = options.tls !== false;
    const dial = options.resolve ? options.resolve(target.host, target.port) : target;
    const connectOptions: any = { host: dial.host, port: dial.port };
    try {
      if (useTls && target.tls) {
        connectOptions.ca = der(target.tls.ca, "CERTIFICATE");
        connectOptions.cert = der(target.tls.cert, "CERTIFICATE");
        connectOptions.key = der(target.tls.key, "PRIVATE KEY");
      }
      // The connect callback is queued by the interpreter: it never runs inside connect().
      this.raw_ = require(useTls ? "tls" : "net").connect(connectOptions, onConnect) as RawSocket;
    } catch (error) {
      // Refused connections, unknown hosts and certificates it cannot take throw here; the
      // platform contract says "later". What retrying cannot fix is not retryable: a certificate
      // or key mbedTLS refuses ("HTTPS init failed! mbedtls_..."; each attempt also leaks a
      // socket in 2v29), or a firmware without the tls module.
      const message = textOf(error);
      this.failure_ = error && (error as LiteError).code
        ? (error as LiteError)
        : message.indexOf("mbedtls_") >= 0
          ? liteError("TLS_CONFIG_INVALID", target.host + ": " + message)
          : message.indexOf("Module ") === 0
            ? liteError("CRYPTO_UNAVAILABLE", message)
            : liteError("CONNECTION_REFUSED", target.host + ": " + message, { retryable: true });
      setTimeout(() => this.end_(), 0);
      return;
    }
    openSockets++;
    const raw = this.raw_;
    raw.owner_ = this;
    raw.on("data", onData);
    raw.on("error", onError);
    raw.on("close", onClose);
  }

  end_(): void {
    if (this.ended_) return;
    this.ended_ = true;
    const handlers = this.handlers_;
    // The interpreter may keep its closed socket object a while; cut the links to ours, so the
    // session, driver and client behind them can be collected now (measured: ~300 JsVars of a
    // finished DPS registration were still alive when the hub connected).
    // The interpreter frees its TLS state before it reports the close (socketserver.c).
    if (this.raw_) {
      openSockets--;
      this.raw_.owner_ = undefined as unknown as EspruinoSocket;
    }
    this.raw_ = undefined;
    // Let go (every call is made only while not ended): no stand-in object, no no-op function,
    // each variables held for as long as the module is loaded.
    this.handlers_ = undefined as unknown as SocketHandlers;
    handlers.closed(this.failure_, this);
  }

  /** Gives nothing back: the interpreter's write() always gives false (for Node's sake), which
   * passed on would hold every publish after the first until `drain`. Here lowOnMemory bounds. */
  write(bytes: Uint8Array): void {
    const raw = this.raw_;
    if (this.ended_ || !raw) return;
    // A view's byteOffset is 16 bits on the interpreter (subarray past 64 KB throws): a packet
    // that large (limits raised on a big board) goes out as one string.
    if (bytes.byteOffset + bytes.length > Socket.MaxViewOffset) {
      raw.write(E.toString(bytes));
      return;
    }
    for (let at = 0; at < bytes.length; at += Socket.WriteChunk) {
      raw.write(E.toString(bytes.subarray(at, Math.min(bytes.length, at + Socket.WriteChunk))));
    }
  }

  close(): void {
    if (!this.ended_ && this.raw_) this.raw_.end();
  }
}

// Espruino's process (declared here, not globally: the Node code shares the type-check).
declare const process: {
  /** Counts JsVars (variables), after a garbage collection unless `gc` is false. */
  memory(gc?: boolean): { free: number };
};

const enum Clock {
  /** 2020-01-01 in ms: a wall clock before it has not been set yet (boards boot at 1970). */
  SetMs = 1577836800000,
}

const enum Memory {
  /** Free variables kept back from queued telemetry: what getting back online takes (the TLS
   * socket, CONNECT, SUBSCRIBE, the twin resync) with the queue flushing. Measured on 2v29 with
   * the example firmware cut off for minutes while sending every second: no variable count it
   * completed with ran out of memory, and it sent everything held once back. */
  Reserve = 400,
}

/** The platform as a class: its methods are defined once with the module, not as closures made
 * for every platform object. It is its own crypto provider (native SHA-256). */
class EspruinoPlatform implements Platform {
  readonly crypto: CryptoProvider;
  // An ESP32 has ~2,500 JsVars (~35 KB): one inbound packet of at most 8 KB (a twin document or a
  // C2D message a device can use), a short offline queue, two publishes in flight.
  readonly limits: PlatformLimits = { maxPacketBytes: 8192, maxQueuedMessages: 16, maxQueuedBytes: 8192, maxInflight: 2 };
  // The interpreter's TLS checks no certificate (see README): DPS assignments are held to IoT Hub names.
  readonly unverifiedTls = true;
  private readonly settings_: EspruinoPlatformOptions;
  private last_ = 0;
  private skew_ = 0;
  private readonly natives_: { SHA256(data: Uint8Array): ArrayBuffer } | undefined;

  constructor(options: EspruinoPlatformOptions | undefined) {
    this.settings_ = options || {};
    // A firmware built without it (some ESP32 IDF4 builds) throws an untyped "Module crypto not
    // found": without it the core's SHA-256 stand-in says CRYPTO_UNAVAILABLE when a SAS is signed.
    try {
      this.natives_ = require("crypto");
    } catch {
      this.natives_ = undefined;
    }
    this.crypto = this.natives_ ? this : {};
  }

  /** Defragments memory first: the interpreter's TLS state is one block of ~90 contiguous
   * variables, and after a while offline (messages queued, connections tried) the free ones are
   * scattered (measured on 2v29: a reconnect ran out of memory with 300 free). */
  connect(target: SocketTarget, handlers: SocketHandlers): PlatformSocket {
    if (E.defrag && !openSockets) E.defrag();
    return new EspruinoSocket(target, handlers, this.settings_);
  }

  /** The interpreter throws for a delay over 100 years (Infinity, a huge retry-after): capped at
   * 24.8 days instead. The DPS deadline and the session's timer check the time when they fire and
   * wait out the rest; a request timeout of Infinity ends after 24.8 days. */
  setTimer(ms: number, fire: () => void): unknown {
    return setTimeout(fire, Math.min(ms, Timer.MaxMs));
  }

  /** clearTimeout(undefined) throws on Espruino, and clearTimeout() clears every timer. */
  clearTimer(handle: unknown): void {
    if (handle !== undefined) clearTimeout(handle);
  }

  /** Date.now() made monotonic: setTime() or SNTP may step the clock back, and deadlines would
   * wait out the step (a keep-alive late by it); a step back becomes a pause instead. So does the
   * first setting of a board's clock, from 1970 to now: taken as elapsed time, every deadline
   * open then (a PUBACK, a provisioning) would have passed at once. (The interpreter fires its
   * own pending timers early at that step, SNTP's anyway: the session and DPS check the time.) */
  now(): number {
    const wall = Date.now();
    if (wall + this.skew_ < this.last_ || (this.last_ && this.last_ - this.skew_ < Clock.SetMs && wall >= Clock.SetMs)) this.skew_ = this.last_ - wall;
    return (this.last_ = wall + this.skew_);
  }

  epochSeconds(): number {
    return Date.now() / 1000;
  }

  random(): number {
    return (E.hwRand() >>> 0) / 4294967296;
  }

  sha256(data: Uint8Array): Uint8Array {
    return new Uint8Array(this.natives_!.SHA256(data));
  }

  /** Counted without a garbage collection first (that takes milliseconds), then with one when the
   * count looks low (cycles freed since the last one would otherwise count as used). */
  lowOnMemory(): boolean {
    return process.memory(false).free < Memory.Reserve && process.memory().free < Memory.Reserve;
  }
}

export function espruinoPlatform(options?: EspruinoPlatformOptions): Platform {
  return new EspruinoPlatform(options);
}
