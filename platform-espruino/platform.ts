// The Espruino platform: sockets from require("tls") (or "net"), byte strings <-> Uint8Array with
// E.toUint8Array / E.toString, native SHA-256, E.hwRand. What was measured on the interpreter
// (ESPRUINO.md and our own runs of 2v29) shapes it: connect() throws synchronously on refusal,
// a clean close from the server arrives as error -30848 before close, certificates must be DER
// (no PEM parser), and writing a Uint8Array would send its text form ("1,2,3").
// The interpreter's TLS does not verify the server certificate and sends no SNI: see README.
import { liteError, type LiteError } from "../core/errors";
import { installNative } from "../core/native";
import type { Platform, PlatformSocket, SocketHandlers, SocketTarget } from "../core/platform";

export interface EspruinoPlatformOptions {
  /** false: plain TCP through require("net") (for local tests only; Azure requires TLS). */
  tls?: boolean;
  /** Maps a host to the address dialled (for simulators); default identity. */
  resolve?: (host: string, port: number) => { host: string; port: number };
}

const enum Socket {
  // Writes go out in pieces of at most this many bytes, so no large string is built at once.
  WriteChunk = 512,
  // mbedTLS MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY: the server closed the TLS session cleanly.
  PeerCloseNotify = -30848,
}

/** PEM to the binary DER string the interpreter's mbedTLS wants (it has no PEM parser). */
function der(pem: string | string[] | undefined): string | undefined {
  const text = typeof pem === "string" ? pem : pem && pem[0];
  if (!text || text.indexOf("-----BEGIN") < 0) return text;
  const lines = text.split("\n");
  let body = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line.indexOf("-----END") === 0) break;
    if (line && line.indexOf("-----") !== 0) body += line;
  }
  return atob(body);
}

class EspruinoSocket implements PlatformSocket {
  private socket_: any;
  private ended_ = false;

  constructor(target: SocketTarget, handlers: SocketHandlers, options: EspruinoPlatformOptions) {
    const useTls = options.tls !== false;
    const dial = options.resolve ? options.resolve(target.host, target.port) : target;
    const connectOptions: any = { host: dial.host, port: dial.port };
    if (useTls && target.tls) {
      connectOptions.ca = der(target.tls.ca);
      connectOptions.cert = der(target.tls.cert);
      connectOptions.key = der(target.tls.key);
    }
    let failure: LiteError | undefined;
    const end = () => {
      if (this.ended_) return;
      this.ended_ = true;
      handlers.closed(failure);
    };
    try {
      this.socket_ = require(useTls ? "tls" : "net").connect(connectOptions, () => {
        if (!this.ended_) handlers.connected();
      });
    } catch (error) {
      // Refused connections and unknown hosts throw here; the platform contract says "later".
      failure = liteError("CONNECTION_REFUSED", target.host + ": " + ((error as Error).message || error), { retryable: true });
      setTimeout(end, 0);
      return;
    }
    this.socket_.on("data", (data: string) => {
      if (!this.ended_) handlers.data(E.toUint8Array(data));
    });
    this.socket_.on("error", (error: { code?: number; message?: string }) => {
      if (error && error.code === Socket.PeerCloseNotify) return;
      failure = failure || liteError("SOCKET_ERROR", target.host + ": socket error " + (error && error.code) + " " + ((error && error.message) || ""), { retryable: true });
    });
    this.socket_.on("close", end);
  }

  write(bytes: Uint8Array): void {
    if (this.ended_ || !this.socket_) return;
    for (let at = 0; at < bytes.length; at += Socket.WriteChunk) {
      this.socket_.write(E.toString(bytes.subarray(at, Math.min(bytes.length, at + Socket.WriteChunk))));
    }
  }

  close(): void {
    if (!this.ended_ && this.socket_) this.socket_.end();
  }
}

/** True on firmware without Unicode strings (a char keeps 8 bits). Computed through apply so the
 * minifier cannot fold it at build time with Node's answer. */
function hasByteStrings(): boolean {
  const probe = [0x20ac];
  return String.fromCharCode.apply(null, probe).charCodeAt(0) !== 0x20ac;
}

function randomUnit(): number {
  return (E.hwRand() >>> 0) / 4294967296;
}

export function espruinoPlatform(options?: EspruinoPlatformOptions): Platform {
  const settings = options || {};
  // Firmware without Unicode support (the ESP32's) keeps strings as bytes: text stays UTF-8 bytes.
  installNative({
    byteStrings: hasByteStrings(),
    latin1: (bytes, start, end) => (start === end ? "" : E.toString(bytes.subarray(start, end))),
  });
  const crypto = require("crypto");
  return {
    connect: (target, handlers) => new EspruinoSocket(target, handlers, settings),
    setTimer: (ms, fire) => setTimeout(fire, ms),
    // clearTimeout(undefined) throws on Espruino, and clearTimeout() clears every timer.
    clearTimer: (handle) => {
      if (handle !== undefined) clearTimeout(handle);
    },
    now: () => Date.now(),
    epochSeconds: () => Date.now() / 1000,
    random: randomUnit,
    crypto: { sha256: (data) => new Uint8Array(crypto.SHA256(data)) },
    // An ESP32 has ~2,500 JsVars (~35 KB): one inbound packet of at most 8 KB (a twin document or a
    // C2D message a device can use), a short offline queue, two publishes in flight.
    limits: { maxPacketBytes: 8192, maxQueuedMessages: 16, maxQueuedBytes: 8192, maxInflight: 2 },
  };
}
