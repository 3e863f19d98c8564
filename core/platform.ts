// What a platform adapter supplies: a socket, timers, clocks, randomness and, optionally, native
// crypto. Nothing in core knows Node or Espruino; adapters translate and never decide.
import type { CryptoProvider } from "./crypto";
import type { LiteError } from "./errors";

export interface TlsOptions {
  /** Trust anchors (PEM) replacing the platform's default roots. */
  ca?: string | string[];
  /** Client certificate chain and key (PEM) for X.509 authentication. */
  cert?: string;
  key?: string;
}

export interface SocketTarget {
  host: string;
  port: number;
  tls?: TlsOptions;
}

/**
 * Socket callbacks, each given the socket it is about (the object connect() returned): one
 * handlers object can serve every connection, with nothing made per connection. An adapter
 * guarantees: `closed` is called exactly once per socket, after which nothing else is; nothing is
 * called synchronously from inside connect() (failures to connect arrive later as `closed(error)`);
 * `data` chunks are fresh Uint8Arrays the adapter will not touch again.
 */
export interface SocketHandlers {
  connected(socket: PlatformSocket): void;
  data(bytes: Uint8Array, socket: PlatformSocket): void;
  closed(error: LiteError | undefined, socket: PlatformSocket): void;
  /** `socket`, whose write() gave false, takes more again (Node: the stream's `drain`). */
  drained?(socket: PlatformSocket): void;
}

export interface PlatformSocket {
  /** Queues `bytes` for sending. False: the platform now holds more unsent than it wants (Node:
   * over the stream's high-water mark); it calls `drained` once it takes more, and until then
   * the client holds its publishes in its own bounded queue. Anything else: send on. */
  write(bytes: Uint8Array): boolean | void;
  /** Closes the socket; `closed` follows. Safe to call more than once. */
  close(): void;
}

/** Default bounds for sessions on this platform (options given to a client still win). */
export interface PlatformLimits {
  maxPacketBytes?: number;
  maxQueuedMessages?: number;
  maxQueuedBytes?: number;
  maxInflight?: number;
}

export interface Platform {
  connect(target: SocketTarget, handlers: SocketHandlers): PlatformSocket;
  setTimer(ms: number, fire: () => void): unknown;
  /** Takes a handle setTimer returned whose timer has not fired: the core forgets each handle as
   * its timer fires, so a platform may give a fired timer's id to a new one (Espruino does). */
  clearTimer(handle: unknown): void;
  /** Monotonic milliseconds. */
  now(): number;
  /** Wall-clock seconds since 1970 (for SAS expiry). */
  epochSeconds(): number;
  /** A uniform number in [0, 1) (for jitter). */
  random(): number;
  crypto?: CryptoProvider;
  /** True when the platform's TLS checks no server certificate (the Espruino interpreter's). Whoever
   * intercepts provisioning could then answer as DPS and assign a host of their own, which the hub
   * client would send the device's SAS tokens: DpsClient takes only IoT Hub names there. */
  unverifiedTls?: boolean;
  /** A small device sets small bounds here, so no client on it buffers more than it can hold. */
  limits?: PlatformLimits;
  /** True when the device is short of memory: the hub client then refuses to hold another
   * telemetry message (QUEUE_FULL) rather than let the runtime run out (on Espruino that stops the
   * firmware's code mid-event with nothing to catch, and removes the timer that was sending). */
  lowOnMemory?(): boolean;
}
