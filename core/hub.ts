// The IoT Hub device client (PROTOCOL.md 3): telemetry, cloud-to-device, twin, direct methods and
// will, on one MqttSession that lives across connections. It stays connected for months:
// reconnect with full-jitter backoff on any drop, re-subscribe, re-send unacknowledged QoS 1
// telemetry (DUP), resync the twin, renew the SAS token before it expires, and, when it came
// from DPS, provision again after repeated refusals of its credentials (see hub-dps.ts).
import { SessionDriver } from "./driver";
import { liteError, textOf, type LiteError } from "./errors";
import {
  identityPath,
  readC2dTopic,
  telemetryTopic,
  twinGetTopic,
  twinPatchTopic,
  HubTopic,
  HubTopicLength,
  type SystemProperties,
} from "./hub-topics";
import { hubPassword, resolveHub, type HubOptions, type ResolvedHub } from "./hub-options";
import { parseJson, toJson } from "./json";
import { parseParams, parseStatusTopic, type Params } from "./params";
import type { Platform } from "./platform";
import type { PublishPacket, Subscription } from "./mqtt-packets";
import { backoffDelay } from "./retry";
import { MqttSession, type SessionEvent } from "./session";
import { Answer, TwinRequests, type TwinResponse } from "./twin-requests";
import { urlEncode } from "./url";
import { utf8Length } from "./utf8";

export interface TelemetryOptions extends SystemProperties {
  /** Application properties (string values), sent in the topic's property bag. */
  properties?: Params;
  /** 1 (default): settles on PUBACK; 0: settles when written. */
  qos?: 0 | 1;
}

export interface C2dMessage {
  payload: Uint8Array;
  properties: Params;
  systemProperties: SystemProperties;
}

export interface MethodRequest {
  name: string;
  payload: Uint8Array;
}

export interface MethodResponse {
  status: number;
  /** Sent as JSON, which IoT Hub requires of a method response (a string becomes a JSON string);
   * bytes are sent as they are, for a caller that already holds JSON. */
  payload?: unknown;
}

export type MethodHandler = (request: MethodRequest) => MethodResponse | Promise<MethodResponse>;

export type Listener = (a?: any, b?: any, c?: any) => void;

/** The client's events and what their listeners get. */
export interface HubEvents {
  /** Connected and subscribed (again, after a reconnect). */
  connected: () => void;
  /** The connection ended, with why; the client reconnects by itself unless closed. */
  disconnected: (error: LiteError) => void;
  /** Something went wrong that needs no answer from the caller (a bad message, a listener that
   * threw, a resync that failed). */
  error: (error: LiteError) => void;
  /** A cloud-to-device message. */
  message: (message: C2dMessage) => void;
  /** Desired properties: the whole desired document after each (re)connection (`complete`), or a
   * patch the hub pushed. `version` is its `$version`. */
  desired: (desired: { [key: string]: any }, version: number | undefined, complete: boolean) => void;
  /** Provisioning again through DPS has started (the hub kept refusing the device). */
  reprovisioning: () => void;
}

export interface Twin {
  desired: { [key: string]: any };
  reported: { [key: string]: any };
}

/** A provisioning run the client started: its outcome, and a way to stop it (close() does). */
export interface ReprovisionRun {
  result: Promise<HubOptions>;
  cancel(): void;
}

/** Starts provisioning again when the credentials are refused again and again (set by hub-dps). */
export type Reprovision = () => ReprovisionRun;
// (For the same device, the client keeps its session and the queue in it: only the hub, the
// username and the credential change. Keep-alive, clean session, will and bounds stay those the
// client was made with; hub-dps passes the same ones every time.)

// Client states.
// const enums compile to their values: no variable on an Espruino device (a plain top-level
// const in a file with imports stays a variable in esbuild's output, ~3 JsVars each).
const enum State {
  Idle, // connect() not called yet, or it gave up before the first connection
  Connecting, // a socket, CONNACK or SUBACK is awaited
  Ready, // subscribed: everything flows
  Waiting, // disconnected, a reconnect is scheduled
  // close() was called: nothing more happens, except that messages which arrived in the same
  // chunk as one a listener closed the client on are still delivered (their PUBACKs are already
  // queued: dropped here, a C2D message would be acknowledged and lost).
  Closed,
}

const enum Limit {
  TelemetryBytes = 262144,
  /** A connection that stayed up this long resets the reconnect backoff. */
  StableMs = 60000,
  /** Failed attempts of any kind lead to provisioning again only once they have lasted this long. */
  FailingMs = 600000,
  /** setTimeout's largest delay on Node and in browsers (2^31 - 1 ms, ~24.8 days). */
  MaxTimerMs = 2147483647,
  /** Provisioning again, rounds in a row: 1 minute up to 1 hour apart (a registration is billed
   * and rate-limited, and a fleet must not hammer DPS in lock step). */
  ReprovisionMinMs = 60000,
  ReprovisionMaxMs = 3600000,
  /** A failed desired resync is asked again within 30 s, then within twice that each time, up to an hour (full jitter). */
  ResyncMinMs = 30000,
  ResyncMaxMs = 3600000,
  /** The longest keep-alive the hub honours (PROTOCOL.md: 1.5 x keep-alive, at most 1767 s). */
  KeepAliveSeconds = 1177,
  /** How long a new connection waits for the old socket to report its close. */
  CloseWaitMs = 3000,
}

/** The twin document in a GET response, checked. */
function twinOf(response: TwinResponse): Twin {
  const twin = response.body as Twin;
  if (!twin || typeof twin.desired !== "object" || typeof twin.reported !== "object") {
    throw liteError("TWIN_BAD_RESPONSE", "not a twin");
  }
  return twin;
}

function clientClosed(): LiteError {
  return liteError("CLIENT_CLOSED", "client closed");
}

function payloadBytes(payload: unknown): Uint8Array | string {
  if (payload instanceof Uint8Array || typeof payload === "string") return payload;
  return toJson(payload);
}

/** How a method call is answered, made apart from invokeMethod_: on Espruino a closure keeps its
 * whole enclosing scope, and there that holds the request payload (up to the packet limit) for as
 * long as an asynchronous handler runs. */
function methodReplies(client: HubClient, name: string, rid: string): { done: (response: MethodResponse) => void; failed: (error: unknown) => void } {
  // Neither may throw: an asynchronous handler's answer arrives through then(done, failed), where
  // a throw would be an unhandled rejection (on Node, the end of the process) and no answer at all.
  const reply = {
    done: (response: MethodResponse): void => {
      // A 32-bit integer, or 500: 1e21 would print as "1e+21", and a topic may hold no "+".
      const status = response && (response.status | 0) === response.status ? response.status : 500;
      const payload = response ? response.payload : undefined;
      let body: string | Uint8Array;
      try {
        body = payload instanceof Uint8Array ? payload : toJson(payload);
      } catch (error) {
        return reply.failed(error); // an answer JSON cannot carry (a BigInt, a cycle)
      }
      // Also before the SUBACK: a hub that kept the subscriptions of a CleanSession 0 session
      // may call a method right after CONNACK, and its caller waits for this answer.
      client.publishRequest_("$iothub/methods/res/" + status + "/?$rid=" + rid, body, true);
    },
    failed: (error: unknown): void => reply.done({ status: 500, payload: { message: "method " + name + " failed: " + textOf(error) } }),
  };
  return reply;
}

export class HubClient {
  private readonly platform_: Platform;
  /** Event listeners by event name (Espruino has no node:events). */
  private listeners_: { [event: string]: Listener[] } = {};
  private options_: HubOptions;
  private hub_: ResolvedHub;
  private session_!: MqttSession;
  private driver_!: SessionDriver;
  private readonly twin_: TwinRequests;
  private state_ = State.Idle;
  private everConnected_ = false;
  private subscribeId_ = 0;
  private attempt_ = 0;
  /** When the failed attempts in a row began (monotonic ms). */
  private failingSince_ = 0;
  private authFailures_ = 0;
  /** Provisioning rounds since the last stable connection, and the one running, if any. */
  private reprovisions_ = 0;
  /** No round of provisioning again before this (a throttled round's retry-after), monotonic ms. */
  private reprovisionAt_ = 0;
  private reprovisioning_: ReprovisionRun | undefined;
  /** When the current connection became ready, and when its SAS token was signed (monotonic ms). */
  private readyAt_ = 0;
  private signedAt_ = 0;
  private reconnectTimer_: unknown;
  private renewTimer_: unknown;
  /** Why the client itself is closing the current connection (SAS renewal, a refused SUBSCRIBE). */
  private closeReason_: LiteError | undefined;
  private lastDesiredVersion_ = -1;
  /** A patch was delivered while the resync GET was out: a document older than it is stale. */
  private patchedSinceGet_ = false;
  /** Resync GETs in a row that failed, across connections too (a hub that throttled the last
   * connection's may still): their backoff grows until one succeeds. */
  private resyncFailures_ = 0;
  private telemetry_: { [id: number]: { resolve: () => void; reject: (error: LiteError) => void } } = {};
  private methods_: { [name: string]: MethodHandler } = {};
  private connectWaiters_: { resolve: () => void; reject: (error: LiteError) => void }[] = [];
  private closeWaiters_: (() => void)[] = [];
  /** Set by hub-dps: called after `reprovisionAfter` consecutive refusals of the credentials. */
  reprovision: Reprovision | undefined;
  reprovisionAfter = 3;

  constructor(platform: Platform, options: HubOptions) {
    this.platform_ = platform;
    this.options_ = options;
    this.hub_ = resolveHub(options);
    this.attach_();
    this.twin_ = new TwinRequests(platform, this, options.requestTimeoutMs || 30000);
  }

  /**
   * Events: "connected"; "disconnected" (error: why); "error" (error); "message" (C2dMessage);
   * "desired" (desired properties, $version, complete: true when the whole desired document after
   * a (re)connection, false for a pushed patch); "reprovisioning".
   */
  on<E extends keyof HubEvents>(event: E, listener: HubEvents[E]): this;
  on(event: string, listener: Listener): this {
    (this.listeners_[event] || (this.listeners_[event] = [])).push(listener);
    return this;
  }

  off<E extends keyof HubEvents>(event: E, listener: HubEvents[E]): this;
  off(event: string, listener: Listener): this {
    const list = this.listeners_[event];
    if (list && list.indexOf(listener) >= 0) list.splice(list.indexOf(listener), 1);
    return this;
  }

  /** A listener that throws becomes an "error" event: an application's bug never breaks the
   * client's own state machine. */
  private emit_(event: string, a?: unknown, b?: unknown, c?: unknown): void {
    const list = (this.listeners_[event] || []).slice();
    for (let i = 0; i < list.length; i++) {
      try {
        list[i](a, b, c);
      } catch (error) {
        if (event !== "error") this.emit_("error", liteError("HANDLER_FAILED", event + " listener threw: " + textOf(error)));
      }
    }
  }

  get connected(): boolean {
    return this.state_ === State.Ready;
  }

  get deviceId(): string {
    return this.hub_.identity.deviceId;
  }

  get hostName(): string {
    return this.hub_.identity.hostName;
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Connects and subscribes. Resolves once ready; rejects if the first connection fails for a
   * reason retrying cannot fix (refused credentials, an untrusted certificate). After the first
   * connection the client reconnects by itself until close().
   */
  connect(): Promise<void> {
    if (this.state_ === State.Closed) return Promise.reject(clientClosed());
    if (this.state_ === State.Ready) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.connectWaiters_.push({ resolve, reject });
      if (this.state_ === State.Idle) this.open_();
    });
  }

  /** Ends the connection (DISCONNECT) and settles everything pending with CLIENT_CLOSED. */
  close(): Promise<void> {
    if (this.state_ === State.Closed) return Promise.resolve();
    const wasOpen = this.driver_.socketOpen;
    this.state_ = State.Closed;
    this.clearTimers_();
    if (this.reprovisioning_) this.reprovisioning_.cancel();
    this.reprovisioning_ = undefined;
    const error = clientClosed();
    this.twin_.failAll_(error);
    this.settleConnect_(error);
    return new Promise<void>((resolve) => {
      if (wasOpen) this.closeWaiters_.push(resolve);
      this.driver_.close(error);
      if (!wasOpen) resolve();
    });
  }

  // ---- telemetry ------------------------------------------------------------------------------

  /**
   * Sends a device-to-cloud message: bytes, a string, or a JSON-able value (then content type
   * application/json, encoding utf-8 unless given). Queued while offline. Rejects before anything
   * is sent for more than 256 KB, QoS 2, a bad property or a full queue.
   */
  sendTelemetry(payload: unknown, options?: TelemetryOptions): Promise<void> {
    try {
      // Each message is held until acknowledged (about 50 variables on Espruino with its promise
      // and a caller's then): offline for long, a small board would run out before the queue's
      // count or byte bound is reached, and then have no memory left to reconnect. Connected with
      // nothing waiting, a message leaves at once and is not held for long: it may go.
      if ((this.state_ !== State.Ready || this.session_.queuedMessages) && this.platform_.lowOnMemory && this.platform_.lowOnMemory()) {
        throw liteError("QUEUE_FULL", "memory low: not held");
      }
      const settings = options || {};
      const body = payloadBytes(payload);
      let system: SystemProperties = settings;
      if (!(payload instanceof Uint8Array) && typeof payload !== "string" && !settings.contentType) {
        // A JSON-able value is sent as JSON: say so, as IoT Hub routing needs (a copy: the caller's
        // options stay untouched).
        system = {};
        for (const key in settings) (system as { [key: string]: unknown })[key] = (settings as { [key: string]: unknown })[key];
        system.contentType = "application/json";
        system.contentEncoding = settings.contentEncoding || "utf-8";
      }
      const topic = telemetryTopic(this.hub_.identity, settings.properties, system);
      const size = (typeof body === "string" ? utf8Length(body) : body.length) + utf8Length(topic);
      if (size > Limit.TelemetryBytes) {
        throw liteError("MESSAGE_TOO_LARGE", "telemetry of " + size + " bytes");
      }
      const qos = settings.qos === undefined ? 1 : settings.qos;
      if (qos !== 0 && qos !== 1) throw liteError("MQTT_BAD_QOS", "telemetry QoS " + qos);
      if (this.state_ === State.Closed) throw clientClosed();
      const id = this.session_.publish(topic, body, qos, this.platform_.now());
      const settled = new Promise<void>((resolve, reject) => {
        this.telemetry_[id] = { resolve, reject };
      });
      this.driver_.pump();
      return settled;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // ---- twin -----------------------------------------------------------------------------------

  getTwin(): Promise<Twin> {
    if (this.state_ === State.Closed) return Promise.reject(clientClosed());
    return this.twin_.request_(twinGetTopic, "", Answer.Response).then(twinOf);
  }

  /** Patches reported properties (null deletes a member); resolves with the new reported $version. */
  updateReported(patch: { [key: string]: unknown }): Promise<number> {
    try {
      if (typeof patch !== "object" || patch === null) throw liteError("ARGUMENT_INVALID", "patch not an object");
      if (this.state_ === State.Closed) throw clientClosed();
      // toJson throws for a patch JSON cannot carry (a cycle, a BigInt): a rejection too.
      return this.twin_.request_(twinPatchTopic, toJson(patch), Answer.Version) as Promise<number>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // ---- methods --------------------------------------------------------------------------------

  /** Handles direct method `name` ("*" for any method without its own handler). */
  onMethod(name: string, handler: MethodHandler): this {
    this.methods_[name] = handler;
    return this;
  }

  // ---- connection internals ---------------------------------------------------------------------

  /** A session and its driver for the current identity (at construction, and after provisioning again). */
  private attach_(): void {
    const options = this.options_;
    const will = options.will;
    const limits = this.platform_.limits || {};
    this.session_ = new MqttSession({
      clientId: this.hub_.clientId,
      username: this.hub_.username,
      clean: !!options.clean,
      // The hub drops a client silent for 1.5 x its keep-alive, but never waits over 1767 s: a
      // longer keep-alive would ping after the hub had already given up (PROTOCOL.md).
      keepAliveSeconds: Math.min(options.keepAliveSeconds === undefined ? 240 : options.keepAliveSeconds, Limit.KeepAliveSeconds),
      ackTimeoutMs: options.requestTimeoutMs,
      maxQueuedMessages: options.maxQueuedMessages || limits.maxQueuedMessages,
      maxQueuedBytes: options.maxQueuedBytes || limits.maxQueuedBytes,
      maxInflight: options.maxInflight || limits.maxInflight,
      maxPacketBytes: options.maxPacketBytes || limits.maxPacketBytes,
      will: will ? { topic: telemetryTopic(this.hub_.identity, will.properties, will), payload: will.payload, qos: will.qos || 0 } : undefined,
    });
    // Bound, not a closure: on Espruino a closure holds the whole scope it is made in (here, this
    // method's), and a bound method is 8 variables fewer (measured on 2v29).
    this.driver_ = new SessionDriver(this.platform_, this.session_, this.handleEvent_.bind(this, this.session_), { connectTimeoutMs: options.requestTimeoutMs });
  }

  private open_(): void {
    this.state_ = State.Connecting;
    let password: string | undefined;
    try {
      password = hubPassword(this.hub_, this.platform_.epochSeconds(), this.ttlSeconds_(), this.platform_.crypto);
      this.signedAt_ = this.platform_.now();
    } catch (error) {
      // CLOCK_NOT_SET and the like: nothing to send yet, so this attempt fails like a refused one.
      return this.connectionEnded_(error as LiteError);
    }
    this.driver_.open(this.hub_.target, password);
  }

  private ttlSeconds_(): number {
    return this.options_.sasTtlSeconds || 3600;
  }

  private handleEvent_(session: MqttSession, event: SessionEvent): void {
    // Events of a session replaced since (after provisioning again) are not this client's any more.
    if (session !== this.session_) return;
    switch (event.type) {
      case "connected": {
        // Events are delivered after a whole chunk is decoded: the connection this one announced
        // may already have ended in the same chunk (then its "closed" follows).
        if (!this.session_.connected) return;
        const subscriptions: Subscription[] = [
          { topic: HubTopic.TwinResponses },
          { topic: HubTopic.Desired },
          { topic: HubTopic.Methods },
        ];
        // Modules receive no cloud-to-device messages.
        if (this.hub_.identity.moduleId === undefined) subscriptions.unshift({ topic: identityPath(this.hub_.identity) + "/messages/devicebound/#", qos: 1 });
        this.subscribeId_ = this.session_.subscribe(subscriptions, this.platform_.now());
        return this.driver_.pump();
      }
      case "subscribed":
        // Not once closed: a listener may have closed the client on a message that came in the
        // same chunk as this SUBACK (a C2D message queued while offline, a method call).
        if (event.id === this.subscribeId_ && this.state_ === State.Connecting) this.ready_();
        return;
      case "subscribeFailed":
        if (event.id !== this.subscribeId_) return;
        return this.closeConnection_(event.error);
      case "message":
      case "dropped":
        return this.route_(event.packet, (event as { error?: LiteError }).error);
      case "published":
      case "publishFailed": {
        const pending = this.telemetry_[event.id];
        if (!pending) return;
        delete this.telemetry_[event.id];
        if (event.type === "published") pending.resolve();
        else pending.reject(event.error);
        return;
      }
      case "closed":
        return this.connectionEnded_(event.error);
    }
  }

  private ready_(): void {
    this.state_ = State.Ready;
    this.readyAt_ = this.platform_.now();
    this.authFailures_ = 0;
    this.everConnected_ = true;
    if (this.hub_.key) {
      // Renew between 80% and 90% of the token's life, counted from when it was signed (a slow
      // connect must not outlive it), with jitter so a fleet that came back together does not
      // renew in lock step; never beyond the longest delay a timer takes (a longer one fires at
      // once on Node, which would reconnect in a loop). At least a tenth of the token's life after
      // connecting: on a link slower than the token's life allows, a renewal due at once would
      // reconnect in a loop (past its expiry, the hub ends the connection, and the backoff follows).
      const lifeMs = this.ttlSeconds_() * 1000;
      const renewAt = this.signedAt_ + lifeMs * (0.8 + 0.1 * this.platform_.random());
      this.renewTimer_ = this.platform_.setTimer(Math.min(Limit.MaxTimerMs, Math.max(lifeMs / 10, renewAt - this.readyAt_)), () => {
        this.renewTimer_ = undefined;
        this.closeConnection_(liteError("SAS_RENEWAL", "SAS renewal", { retryable: true }));
      });
    }
    this.twin_.flush_();
    this.resyncDesired_();
    // Application code runs last: a listener may close() the client, and then nothing follows.
    this.settleConnect_(undefined);
    if (this.state_ === State.Ready) this.emit_("connected");
  }

  /** Desired changes are only pushed while connected (PROTOCOL.md 3): fetch the twin to catch up. */
  private resyncDesired_(): void {
    this.patchedSinceGet_ = false;
    if ((this.listeners_["desired"] || []).length) this.twin_.request_(twinGetTopic, "", Answer.Sender);
  }

  /** @internal For TwinRequests: the twin resyncDesired_ asked for, or why it did not come. */
  answered_(error: LiteError | undefined, response?: TwinResponse): void {
    try {
      if (!error) {
        const desired = twinOf(response as TwinResponse).desired;
        this.resyncFailures_ = 0;
        // The hub may answer with a document read before a patch it pushed meanwhile: delivered
        // after that patch, it would set the device back. Ask again (the next one holds the patch).
        if (this.patchedSinceGet_ && desired["$version"] < this.lastDesiredVersion_) return this.resyncDesired_();
        return this.deliverDesired_(desired, true);
      }
    } catch (bad) {
      error = bad as LiteError;
    }
    // (Its own GET, failed by a move to another device: the next connection asks again.)
    if (this.state_ === State.Closed || (error as LiteError).code === "REPROVISIONED") return;
    this.emit_("error", error);
    // Throttled or timed out (a fleet reconnecting at once is when twin GETs get 429s): ask again,
    // later each time, rather than keep stale desired state for the connection's whole life. The
    // reconnect timer is free while connected (one resync at a time); a drop clears it, and the
    // next connection asks anyway.
    if (this.state_ === State.Ready && (error as LiteError).retryable) {
      this.reconnectTimer_ = this.platform_.setTimer(backoffDelay(this.resyncFailures_++, this.platform_.random(), Limit.ResyncMinMs, Limit.ResyncMaxMs), () => {
        this.reconnectTimer_ = undefined;
        if (this.state_ === State.Ready) this.resyncDesired_();
      });
    }
  }

  /** Patches arrive in version order, so one not newer than the last delivered is a duplicate. A
   * complete document is always delivered and resets the count (after an identity was re-created
   * its versions start again). */
  private deliverDesired_(desired: { [key: string]: any }, complete: boolean): void {
    const version = desired["$version"];
    if (!complete && typeof version === "number" && version <= this.lastDesiredVersion_) return;
    if (typeof version === "number") this.lastDesiredVersion_ = version;
    if (!complete) this.patchedSinceGet_ = true;
    this.emit_("desired", desired, version, complete);
  }

  /** Ends the current connection on the client's own initiative, for `reason`. */
  private closeConnection_(reason: LiteError): void {
    this.closeReason_ = reason;
    this.driver_.close();
  }

  private connectionEnded_(ended: LiteError | undefined): void {
    const error = ended || this.closeReason_;
    this.closeReason_ = undefined;
    this.clearTimers_();
    this.twin_.connectionLost_();
    if (this.state_ === State.Closed) {
      const waiters = this.closeWaiters_;
      this.closeWaiters_ = [];
      for (let i = 0; i < waiters.length; i++) waiters[i]();
      return;
    }
    const wasReady = this.state_ === State.Ready;
    // Only a connection that stayed up resets the backoff: one that fails right after subscribing
    // (say, an oversized twin document every time) must slow down, not loop at full speed. Up a
    // minute, or half its token's life (a short-lived token renews before a minute is up).
    const stable = wasReady && this.platform_.now() - this.readyAt_ >= Math.min(Limit.StableMs, this.ttlSeconds_() * 500);
    if (stable) {
      this.attempt_ = 0;
      this.reprovisions_ = 0;
    }
    this.state_ = State.Waiting;
    if (wasReady || error) {
      this.emit_("disconnected", error || liteError("CONNECTION_LOST", "connection lost", { retryable: true }));
      if (this.state_ !== State.Waiting) return; // a listener closed the client
    }
    // A renewal is no failure, whenever it comes: no backoff, and nothing counted towards
    // provisioning again.
    if (error && error.code === "SAS_RENEWAL") {
      // The old socket closes first: two TLS connections at once would not fit a small board.
      return this.driver_.whenClosed(() => {
        if (this.state_ === State.Waiting) this.open_();
      }, Limit.CloseWaitMs);
    }
    // CONNACK 2, 4 and 5 say the credentials were refused (PROTOCOL.md 4: provision again after these).
    const status = error && error.code.indexOf("CONNECT_REFUSED_") === 0 ? error.status : 0;
    const refused = status === 2 || status === 4 || status === 5;
    this.authFailures_ = refused ? this.authFailures_ + 1 : 0;
    // Before any success, a failure retrying cannot fix is the caller's to hear about; so is a
    // given token past its expiry, connected before or not (the caller makes a new client).
    if (error && !error.retryable && (!this.everConnected_ || error.code === "SAS_EXPIRED") && !(refused && this.reprovision)) {
      this.state_ = State.Idle;
      if (this.everConnected_) this.emit_("error", error);
      return this.settleConnect_(error);
    }
    // PROTOCOL.md 4: provision again on repeated refusals of the credentials, or after many
    // failed attempts of any kind (the assigned hub may be gone), for 10 minutes at least: an
    // outage of the device's own network is no reason, and a gateway's thousand clients would
    // otherwise all register with DPS (billed) after any few minutes offline.
    const now = this.platform_.now();
    if (!this.attempt_) this.failingSince_ = now;
    if (this.reprovision && ((refused && this.authFailures_ >= this.reprovisionAfter) || (this.attempt_ >= 10 && now - this.failingSince_ >= Limit.FailingMs))) return this.provisionAgain_();
    const delay = backoffDelay(this.attempt_++, this.platform_.random(), this.options_.reconnectMinMs || 1000, this.options_.reconnectMaxMs || 60000);
    this.reconnectTimer_ = this.platform_.setTimer(delay, () => {
      this.reconnectTimer_ = undefined;
      if (this.state_ === State.Waiting) this.open_();
    });
  }

  /** Provisions again, after a wait that grows with each round in a row (the first is at once). */
  private provisionAgain_(): void {
    this.authFailures_ = 0;
    this.attempt_ = 0;
    const rounds = this.reprovisions_++;
    // Not before a throttled round's retry-after either (PROTOCOL.md 2): a fleet being moved is
    // when DPS throttles.
    const waitMs = Math.max(rounds === 0 ? 0 : backoffDelay(rounds - 1, this.platform_.random(), Limit.ReprovisionMinMs, Limit.ReprovisionMaxMs), this.reprovisionAt_ - this.platform_.now());
    this.reconnectTimer_ = this.platform_.setTimer(waitMs, () => {
      this.reconnectTimer_ = undefined;
      if (this.state_ !== State.Waiting) return;
      this.emit_("reprovisioning");
      if (this.state_ !== State.Waiting) return;
      let run: ReprovisionRun;
      try {
        run = (this.reprovision as Reprovision)();
      } catch (error) {
        // A hook that throws (on Espruino: the DPS module missing from Storage) is a failed round,
        // not an exception out of a timer that would leave the client waiting for nothing.
        run = { result: Promise.reject(error), cancel: () => undefined };
      }
      this.reprovisioning_ = run;
      const failed = (reason: unknown) => {
        if (this.reprovisioning_ !== run) return;
        this.reprovisioning_ = undefined;
        // A hook may fail with anything (even undefined): listeners and connect() get a typed error.
        const error = reason && (reason as LiteError).code ? (reason as LiteError) : liteError("REPROVISION_FAILED", textOf(reason));
        if (!this.everConnected_ && !error.retryable) {
          // Before any success: DPS says no (disabled, failed, unauthorized), which retrying cannot fix.
          this.state_ = State.Idle;
          return this.settleConnect_(error);
        }
        this.reprovisionAt_ = this.platform_.now() + (error.retryAfterSeconds || 0) * 1000;
        this.emit_("error", error);
        if (this.state_ === State.Waiting) this.connectionEnded_(undefined);
      };
      run.result.then((options) => {
        if (this.reprovisioning_ !== run) return;
        try {
          // An assignment this client cannot use (a device id MQTT topics cannot carry, say) is a
          // failed round, not an exception that would leave the client waiting for nothing.
          this.retarget_(options);
        } catch (error) {
          return failed(error);
        }
        this.reprovisioning_ = undefined;
        this.open_();
      }, failed);
    });
  }

  /** Points the client at a new hub identity (after provisioning again). */
  private retarget_(options: HubOptions): void {
    // Checked first (resolveHub throws for an identity it cannot use): nothing is half changed.
    const hub = resolveHub(options);
    const sameDevice = hub.clientId === this.hub_.clientId;
    this.options_ = options;
    this.hub_ = hub;
    this.lastDesiredVersion_ = -1;
    // The same device (DPS often answers with the hub it had, after an outage made the client
    // give up on it): the session and its queued telemetry carry over, the username (which names
    // the hub) is read at the next CONNECT. Topics name the device only.
    if (sameDevice) {
      this.session_.options_.username = hub.username;
      return;
    }
    this.attach_();
    // Telemetry queued for the old identity's session cannot move (its topic names the old
    // device): fail it, retryable, so no promise waits forever and nothing vanishes silently.
    // Twin requests too: their topics name no device, so they would go to the new one's twin.
    const pending = this.telemetry_;
    this.telemetry_ = {};
    const error = liteError("REPROVISIONED", "for the old device", { retryable: true });
    for (const id in pending) pending[id].reject(error);
    this.twin_.failAll_(error);
  }

  private clearTimers_(): void {
    if (this.reconnectTimer_ !== undefined) this.platform_.clearTimer(this.reconnectTimer_);
    if (this.renewTimer_ !== undefined) this.platform_.clearTimer(this.renewTimer_);
    this.reconnectTimer_ = this.renewTimer_ = undefined;
  }

  private settleConnect_(error: LiteError | undefined): void {
    const waiters = this.connectWaiters_;
    this.connectWaiters_ = [];
    for (let i = 0; i < waiters.length; i++) {
      if (error) waiters[i].reject(error);
      else waiters[i].resolve();
    }
  }

  /** @internal For TwinRequests and method replies: sends a twin request or method response on
   * this connection now; false when not ready (subscribed), or with `connected`, not connected. */
  publishRequest_(topic: string, payload: string | Uint8Array, connected?: boolean): boolean {
    if ((!connected && this.state_ !== State.Ready) || !this.session_.sendNow(topic, payload)) return false;
    this.driver_.pump();
    return true;
  }

  // ---- what arrives -----------------------------------------------------------------------------

  /** `dropped`: why the message came without its payload (over maxPacketBytes). */
  private route_(packet: PublishPacket, dropped: LiteError | undefined): void {
    const topic = packet.topic;
    const payload = packet.payload as Uint8Array;
    try {
      // `$iothub/twin/res/{status}/?$rid=..[&$version=..]`: one too large to take fails its request
      // now, with why (asked again, it would only come too large again).
      const twin = parseStatusTopic(topic, HubTopic.TwinResponsePrefix);
      if (twin) return this.twin_.handleResponse_(twin.status, twin.params, payload, dropped);
      // `$iothub/methods/POST/{name}/?$rid={rid}`: one too large to take is answered 413 (its
      // caller would otherwise wait out its timeout, told nothing).
      if (topic.indexOf(HubTopic.MethodPrefix) === 0) {
        const rest = topic.substring(HubTopicLength.MethodPrefix);
        const end = rest.indexOf("/?");
        const rid = end > 0 ? parseParams(rest.substring(end + 2))["$rid"] : undefined;
        if (!rid) throw liteError("MQTT_BAD_TOPIC", "no $rid");
        // Echoed as it came, encoded: decoded, a "%2B" would go back as "+", which no topic may hold.
        return this.invokeMethod_(rest.substring(0, end), urlEncode(rid), payload, dropped);
      }
      if (dropped) return this.emit_("error", dropped);
      // `$iothub/twin/PATCH/properties/desired/?$version={n}` (read here, not by a function in
      // hub-topics.ts: each one is variables held on a device; so are the methods' below).
      if (topic.indexOf(HubTopic.DesiredPrefix) === 0) {
        // (No "?": the whole topic is read as the query, and has no $version.)
        const version = parseInt(parseParams(topic.substring(topic.indexOf("?") + 1))["$version"], 10);
        if (!(version >= 0)) throw liteError("MQTT_BAD_TOPIC", "no $version");
        const patch = payload.length ? parseJson(payload) : {};
        if (typeof patch["$version"] !== "number") patch["$version"] = version;
        return this.deliverDesired_(patch, false);
      }
      const c2d = readC2dTopic(this.hub_.identity, topic);
      if (c2d) return this.emit_("message", { payload, properties: c2d.properties, systemProperties: c2d.systemProperties });
      this.emit_("error", liteError("UNEXPECTED_TOPIC", "unexpected topic " + topic));
    } catch (error) {
      this.emit_("error", liteError((error as LiteError).code || "HUB_BAD_MESSAGE", "bad message on " + topic + ": " + (error as Error).message));
    }
  }

  private invokeMethod_(name: string, rid: string, payload: Uint8Array, dropped: LiteError | undefined): void {
    const handler = !dropped && (this.methods_[name] || this.methods_["*"]);
    const reply = methodReplies(this, name, rid);
    if (dropped) this.emit_("error", dropped);
    if (!handler) return reply.done({ status: dropped ? 413 : 501, payload: { message: dropped ? dropped.message : "no handler for method " + name } });
    try {
      const result = handler({ name, payload });
      if (result && typeof (result as Promise<MethodResponse>).then === "function") (result as Promise<MethodResponse>).then(reply.done, reply.failed);
      else reply.done(result as MethodResponse);
    } catch (error) {
      reply.failed(error);
    }
  }
}
