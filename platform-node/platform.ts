// The Node platform: sockets over node:tls (SNI = the host name, TLS 1.2 at least, certificates
// verified against Node's roots, which include DigiCert Global Root G2 and Microsoft RSA Root CA
// 2017, or against `ca`), timers, clocks, and crypto from node:crypto.
import { createHmac, createHash } from "node:crypto";
import { isIP } from "node:net";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { liteError, type LiteError } from "../core/errors";
import type { Platform, PlatformSocket, SocketHandlers, SocketTarget } from "../core/platform";
import { installNodeNativePaths } from "./native-paths";
import { secureContexts, type SecureContexts } from "./secure-contexts";

export interface NodePlatformOptions {
  /**
   * Maps the host and port the library wants to the address actually dialled; SNI and the
   * certificate check still use the host name. For simulators and tests; identity by default.
   */
  resolve?: (host: string, port: number) => { host: string; port: number };
  /** Trust anchors (PEM) for every connection that does not bring its own. */
  ca?: string | string[];
}

// Node's certificate failures (tls.TLSSocket authorizationError codes) all mean one thing here.
const CERTIFICATE_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|DEPTH_ZERO/;

function socketError(error: NodeJS.ErrnoException, host: string): LiteError {
  const reason = String(error.code || "");
  let code = "SOCKET_ERROR";
  if (CERTIFICATE_ERRORS.test(reason)) code = "TLS_CERTIFICATE_INVALID";
  else if (reason === "ECONNREFUSED") code = "CONNECTION_REFUSED";
  else if (reason === "ENOTFOUND" || reason === "EAI_AGAIN") code = "HOST_NOT_FOUND";
  else if (reason.indexOf("ERR_SSL") === 0 || reason.indexOf("ERR_TLS") === 0) code = "TLS_FAILED";
  // A certificate that does not verify will not verify on retry; the rest may be passing.
  return liteError(code, host + ": " + error.message, { retryable: code !== "TLS_CERTIFICATE_INVALID" });
}

class NodeSocket implements PlatformSocket {
  private socket_: TLSSocket | undefined;

  constructor(target: SocketTarget, handlers: SocketHandlers, options: NodePlatformOptions, contexts: SecureContexts) {
    let dial: { host: string; port: number };
    try {
      dial = options.resolve ? options.resolve(target.host, target.port) : { host: target.host, port: target.port };
    } catch (error) {
      // The contract says failures come later, as closed(error); a hook that cannot place a host
      // will not place it on retry either.
      const failure = liteError("HOST_NOT_FOUND", target.host + ": resolve failed: " + String((error && (error as Error).message) || error));
      setTimeout(() => handlers.closed(failure, this), 0);
      return;
    }
    let socket: TLSSocket;
    try {
      const connectOptions: ConnectionOptions = {
        host: dial.host,
        port: dial.port,
        rejectUnauthorized: true,
        // Trust anchors, client certificate and TLS 1.2 at least (see secure-contexts.ts).
        secureContext: contexts.forTarget(target.tls),
        // SNI, and the name the certificate must carry, is the host the library asked for, not the
        // dialled address. Node refuses an IP address as servername.
        servername: isIP(target.host) ? undefined : target.host,
      };
      socket = tlsConnect(connectOptions);
    } catch (error) {
      // Bad PEM or options throw synchronously; the platform contract says failures come later.
      const failure = liteError("TLS_CONFIG_INVALID", target.host + ": " + (error as Error).message);
      setTimeout(() => handlers.closed(failure, this), 0);
      return;
    }
    this.socket_ = socket;
    let failure: LiteError | undefined;
    let closed = false;
    socket.setNoDelay(true);
    socket.once("secureConnect", () => handlers.connected(this));
    socket.on("data", (chunk: Buffer) => {
      if (!closed) handlers.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length), this);
    });
    socket.on("drain", () => {
      if (!closed && handlers.drained) handlers.drained(this);
    });
    socket.on("error", (error) => {
      failure = failure || socketError(error, target.host);
    });
    socket.once("close", () => {
      closed = true;
      handlers.closed(failure, this);
    });
  }

  write(bytes: Uint8Array): boolean {
    // False once the stream holds its high-water mark (16 KB) unsent: the session then keeps
    // publishes in its bounded queue until "drain".
    return !this.socket_ || this.socket_.destroyed || this.socket_.write(bytes);
  }

  close(): void {
    const socket = this.socket_;
    if (!socket || socket.destroyed) return;
    // end() lets queued bytes (DISCONNECT) go out first; destroy if the peer never closes.
    socket.end();
    setTimeout(() => socket.destroy(), 2000).unref();
  }
}

// setTimeout fires at once (with a warning) past 2^31 - 1 ms; longer delays are waited in legs.
const MAX_TIMER_MS = 2147483647;

interface LongTimer {
  timeout: NodeJS.Timeout;
}

function setLongTimer(ms: number, fire: () => void): LongTimer {
  const timer = {} as LongTimer;
  const leg = (left: number) => {
    timer.timeout = left > MAX_TIMER_MS ? setTimeout(() => leg(left - MAX_TIMER_MS), MAX_TIMER_MS) : setTimeout(fire, left);
  };
  leg(ms);
  return timer;
}

export function nodePlatform(options?: NodePlatformOptions): Platform {
  installNodeNativePaths();
  const settings = options || {};
  const contexts = secureContexts(settings.ca);
  return {
    connect: (target, handlers) => new NodeSocket(target, handlers, settings, contexts),
    setTimer: (ms, fire) => (ms > MAX_TIMER_MS ? setLongTimer(ms, fire) : setTimeout(fire, ms)),
    clearTimer: (handle) => clearTimeout(handle && (handle as LongTimer).timeout ? (handle as LongTimer).timeout : (handle as NodeJS.Timeout)),
    now: () => performance.now(),
    epochSeconds: () => Date.now() / 1000,
    random: () => Math.random(),
    crypto: {
      hmacSha256: (key, data) => new Uint8Array(createHmac("sha256", key).update(data).digest()),
      sha256: (data) => new Uint8Array(createHash("sha256").update(data).digest()),
    },
  };
}
