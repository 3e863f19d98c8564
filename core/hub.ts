// The IoT Hub device client (PROTOCOL.md 3): telemetry, cloud-to-device, twin, direct methods and
// will, on one MqttSession that lives across connections. It stays connected for months:
// reconnect with full-jitter backoff on any drop, re-subscribe, re-send unacknowledged QoS 1
// telemetry (DUP), resync the twin, renew the SAS token before it expires, and, when it came
// from DPS, provision again after repeated refusals of its credentials (see hub-dps.ts).
import { SessionDriver } from "./driver";
import { Emitter, type Listener } from "./emitter";
import { liteError, type LiteError } from "./errors";
import {
  c2dFilter,
  methodResponseTopic,
  readC2dTopic,
  readDesiredTopic,
  readMethodTopic,
  readTwinResponseTopic,
  telemetryTopic,
  twinGetTopic,
  twinPatchTopic,
  DESIRED_FILTER,
  METHODS_FILTER,
  TWIN_RESPONSE_FILTER,
  type SystemProperties,
} from "./hub-topics";
import { hubPassword, resolveHub, type HubOptions, type ResolvedHub } from "./hub-options";
import { toJson } from "./json";
import type { Params } from "./params";
import type { Platform } from "./platform";
import type { PublishPacket, Subscription } from "./mqtt-packets";
import { backoffDelay } from "./retry";
import { MqttSession, type SessionEvent } from "./session";
import { TwinRequests } from "./twin-requests";
import { utf8Decode, utf8Length } from "./utf8";

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
  /** JSON-able value, a string (sent as is) or bytes. */
  payload?: unknown;
}

export type MethodHandler = (request: MethodRequest) => MethodResponse | Promise<MethodResponse>;

export interface Twin {
  desired: { [key: string]: any };
  reported: { [key: string]: any };
}

/** Resolves a new hub identity when the credentials are refused again and again (set by hub-dps). */
export type Reprovision = () => Promise<HubOptions>;

// Client states.
const IDLE = 0; // connect() not called yet, or it gave up before the first connection
const CONNECTING = 1; // a socket, CONNACK or SUBACK is awaited
const READY = 2; // subscribed: everything flows
const WAITING = 3; // disconnected, a reconnect is scheduled
const CLOSED = 4; // close() was called: nothing more happens

const TELEMETRY_MAX_BYTES = 262144;
// CONNACK codes that say the credentials were refused (PROTOCOL.md 4: provision again after these).
const AUTH_REFUSALS = ["CONNECT_REFUSED_IDENTIFIER", "CONNECT_REFUSED_BAD_CREDENTIALS", "CONNECT_REFUSED_NOT_AUTHORIZED"];

function payloadBytes(payload: unknown): Uint8Array | string {
  if (payload instanceof Uint8Array || typeof payload === "string") return payload;
  return toJson(payload);
}

export class HubClient {
  private readonly platform: Platform;
  private readonly events: Emitter;
  private options: HubOptions;
  private hub: ResolvedHub;
  private session: MqttSession;
  private driver: SessionDriver;
  private readonly twin: TwinRequests;
  private state = IDLE;
  private everConnected = false;
  private subscribeId = 0;
  private attempt = 0;
  private authFailures = 0;
  private reconnectTimer: unknown;
  private renewTimer: unknown;
  /** Why the client itself is closing the current connection (SAS renewal, a refused SUBSCRIBE). */
  private closeReason: LiteError | undefined;
  private lastDesiredVersion = -1;
  private telemetry: { [id: number]: { resolve: () => void; reject: (error: LiteError) => void } } = {};
  private methods: { [name: string]: MethodHandler } = {};
  private connectWaiters: { resolve: () => void; reject: (error: LiteError) => void }[] = [];
  private closeWaiters: (() => void)[] = [];
  /** Set by hub-dps: called after `reprovisionAfter` consecutive refusals of the credentials. */
  reprovision: Reprovision | undefined;
  reprovisionAfter = 3;

  constructor(platform: Platform, options: HubOptions) {
    this.platform = platform;
    this.events = new Emitter((error) => this.emit("error", liteError("HANDLER_FAILED", "an event listener threw: " + String((error as Error).message || error))));
    this.options = options;
    this.hub = resolveHub(options);
    this.session = this.newSession();
    this.driver = this.newDriver();
    this.twin = new TwinRequests(platform, (topic, payload) => this.publishRequest(topic, payload), options.requestTimeoutMs || 30000);
  }

  /**
   * Events: "connected"; "disconnected" (error: why); "error" (error); "message" (C2dMessage);
   * "desired" (desired properties, $version, complete: true when the whole desired document after
   * a (re)connection, false for a pushed patch); "reprovisioning".
   */
  on(event: string, listener: Listener): this {
    this.events.on(event, listener);
    return this;
  }

  off(event: string, listener: Listener): this {
    this.events.off(event, listener);
    return this;
  }

  private emit(event: string, a?: unknown, b?: unknown, c?: unknown): void {
    this.events.emit(event, a, b, c);
  }

  get connected(): boolean {
    return this.state === READY;
  }

  get deviceId(): string {
    return this.hub.identity.deviceId;
  }

  get hostName(): string {
    return this.hub.identity.hostName;
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Connects and subscribes. Resolves once ready; rejects if the first connection fails for a
   * reason retrying cannot fix (refused credentials, an untrusted certificate). After the first
   * connection the client reconnects by itself until close().
   */
  connect(): Promise<void> {
    if (this.state === CLOSED) return Promise.reject(liteError("CLIENT_CLOSED", "the client was closed"));
    if (this.state === READY) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.connectWaiters.push({ resolve, reject });
      if (this.state === IDLE) this.open();
    });
  }

  /** Ends the connection (DISCONNECT) and settles everything pending with CLIENT_CLOSED. */
  close(): Promise<void> {
    if (this.state === CLOSED) return Promise.resolve();
    const wasOpen = this.driver.socketOpen;
    this.state = CLOSED;
    this.clearTimers();
    const error = liteError("CLIENT_CLOSED", "the client was closed");
    this.twin.failAll(error);
    this.settleConnect(error);
    return new Promise<void>((resolve) => {
      if (wasOpen) this.closeWaiters.push(resolve);
      this.driver.close(error);
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
      const settings = options || {};
      const body = payloadBytes(payload);
      let system: SystemProperties = settings;
      if (!(payload instanceof Uint8Array) && typeof payload !== "string" && !settings.contentType) {
        // A JSON-able value is sent as JSON: say so, as IoT Hub routing needs (a copy: the caller's
        // options stay untouched).
        system = {
          messageId: settings.messageId,
          correlationId: settings.correlationId,
          contentType: "application/json",
          contentEncoding: settings.contentEncoding || "utf-8",
          creationTime: settings.creationTime,
          component: settings.component,
        };
      }
      const topic = telemetryTopic(this.hub.identity, settings.properties, system);
      const size = (typeof body === "string" ? utf8Length(body) : body.length) + utf8Length(topic);
      if (size > TELEMETRY_MAX_BYTES) {
        throw liteError("MESSAGE_TOO_LARGE", "telemetry of " + size + " bytes exceeds IoT Hub's 262144");
      }
      const qos = settings.qos === undefined ? 1 : settings.qos;
      if (qos !== 0 && qos !== 1) throw liteError("MQTT_BAD_QOS", "telemetry QoS must be 0 or 1");
      if (this.state === CLOSED) throw liteError("CLIENT_CLOSED", "the client was closed");
      const id = this.session.publish(topic, body, qos);
      const settled = new Promise<void>((resolve, reject) => {
        this.telemetry[id] = { resolve, reject };
      });
      this.driver.pump();
      return settled;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // ---- twin -----------------------------------------------------------------------------------

  getTwin(): Promise<Twin> {
    return this.twin.request(twinGetTopic, "").then((response) => {
      const twin = response.body as Twin;
      if (!twin || typeof twin.desired !== "object" || typeof twin.reported !== "object") {
        throw liteError("TWIN_BAD_RESPONSE", "the twin document has no desired/reported sections");
      }
      return twin;
    });
  }

  /** Patches reported properties (null deletes a member); resolves with the new reported $version. */
  updateReported(patch: { [key: string]: unknown }): Promise<number> {
    if (typeof patch !== "object" || patch === null) return Promise.reject(liteError("ARGUMENT_INVALID", "the reported patch must be an object"));
    return this.twin.request(twinPatchTopic, toJson(patch)).then((response) => response.version as number);
  }

  // ---- methods --------------------------------------------------------------------------------

  /** Handles direct method `name` ("*" for any method without its own handler). */
  onMethod(name: string, handler: MethodHandler): this {
    this.methods[name] = handler;
    return this;
  }

  // ---- connection internals ---------------------------------------------------------------------

  private newSession(): MqttSession {
    const options = this.options;
    const will = options.will;
    return new MqttSession({
      clientId: this.hub.clientId,
      username: this.hub.username,
      clean: !!options.clean,
      keepAliveSeconds: options.keepAliveSeconds === undefined ? 240 : options.keepAliveSeconds,
      ackTimeoutMs: options.requestTimeoutMs,
      maxQueuedMessages: options.maxQueuedMessages,
      maxQueuedBytes: options.maxQueuedBytes,
      maxInflight: options.maxInflight,
      maxPacketBytes: options.maxPacketBytes,
      will: will ? { topic: telemetryTopic(this.hub.identity, will.properties, will), payload: will.payload, qos: will.qos || 0 } : undefined,
    });
  }

  private newDriver(): SessionDriver {
    const driver: SessionDriver = new SessionDriver(this.platform, this.session, (event) => {
      if (driver === this.driver) this.handleEvent(event);
    }, { connectTimeoutMs: this.options.requestTimeoutMs });
    return driver;
  }

  private open(): void {
    this.state = CONNECTING;
    let password: string | undefined;
    try {
      password = hubPassword(this.hub, this.platform.epochSeconds(), this.ttlSeconds(), this.platform.crypto);
    } catch (error) {
      // CLOCK_NOT_SET and the like: nothing to send yet, so this attempt fails like a refused one.
      return this.connectionEnded(error as LiteError);
    }
    this.driver.open(this.hub.target, password);
  }

  private ttlSeconds(): number {
    return this.options.sasTtlSeconds || 3600;
  }

  private handleEvent(event: SessionEvent): void {
    switch (event.type) {
      case "connected": {
        const subscriptions: Subscription[] = [
          { topic: TWIN_RESPONSE_FILTER, qos: 0 },
          { topic: DESIRED_FILTER, qos: 0 },
          { topic: METHODS_FILTER, qos: 0 },
        ];
        // Modules receive no cloud-to-device messages.
        if (this.hub.identity.moduleId === undefined) subscriptions.unshift({ topic: c2dFilter(this.hub.identity), qos: 1 });
        this.subscribeId = this.session.subscribe(subscriptions);
        return this.driver.pump();
      }
      case "subscribed":
        if (event.id === this.subscribeId) this.ready();
        return;
      case "subscribeFailed":
        if (event.id !== this.subscribeId) return;
        return this.closeConnection(event.error);
      case "message":
        return this.route(event.packet);
      case "published":
      case "publishFailed": {
        const pending = this.telemetry[event.id];
        if (!pending) return;
        delete this.telemetry[event.id];
        if (event.type === "published") pending.resolve();
        else pending.reject(event.error);
        return;
      }
      case "closed":
        return this.connectionEnded(event.error);
    }
  }

  private ready(): void {
    this.state = READY;
    this.attempt = 0;
    this.authFailures = 0;
    this.everConnected = true;
    this.emit("connected");
    this.settleConnect(undefined);
    this.twin.flush();
    if (this.hub.key) {
      // Renew at 85% of the token's life: a fresh CONNECT before the hub would drop us.
      this.renewTimer = this.platform.setTimer(this.ttlSeconds() * 850, () => {
        this.renewTimer = undefined;
        this.closeConnection(liteError("SAS_RENEWAL", "reconnecting with a fresh SAS token", { retryable: true }));
      });
    }
    this.resyncDesired();
  }

  /** Desired changes are only pushed while connected (PROTOCOL.md 3): fetch the twin to catch up. */
  private resyncDesired(): void {
    if (this.events.listenerCount("desired") === 0) return;
    this.getTwin().then((twin) => this.deliverDesired(twin.desired, true), (error) => this.emit("error", error));
  }

  private deliverDesired(desired: { [key: string]: any }, complete: boolean): void {
    const version = desired["$version"];
    if (typeof version === "number" && version <= this.lastDesiredVersion) return;
    if (typeof version === "number") this.lastDesiredVersion = version;
    this.emit("desired", desired, version, complete);
  }

  /** Ends the current connection on the client's own initiative, for `reason`. */
  private closeConnection(reason: LiteError): void {
    this.closeReason = reason;
    this.driver.close();
  }

  private connectionEnded(ended: LiteError | undefined): void {
    const error = ended || this.closeReason;
    this.closeReason = undefined;
    this.clearTimers();
    this.twin.connectionLost();
    if (this.state === CLOSED) {
      const waiters = this.closeWaiters;
      this.closeWaiters = [];
      for (let i = 0; i < waiters.length; i++) waiters[i]();
      return;
    }
    const wasReady = this.state === READY;
    this.state = WAITING;
    if (wasReady || error) this.emit("disconnected", error || liteError("CONNECTION_LOST", "the connection closed", { retryable: true }));
    if (error && error.code === "SAS_RENEWAL") return this.open();
    const refused = !!error && AUTH_REFUSALS.indexOf(error.code) >= 0;
    this.authFailures = refused ? this.authFailures + 1 : 0;
    if (!this.everConnected && error && !error.retryable && !(refused && this.reprovision)) {
      // Before any success, a failure retrying cannot fix is the caller's to hear about.
      this.state = IDLE;
      return this.settleConnect(error);
    }
    // PROTOCOL.md 4: provision again on repeated refusals of the credentials, or after many
    // failed attempts of any kind (the assigned hub may be gone).
    if (this.reprovision && ((refused && this.authFailures >= this.reprovisionAfter) || this.attempt >= 10)) return this.provisionAgain();
    const delay = backoffDelay(this.attempt++, this.platform.random(), this.options.reconnectMinMs || 1000, this.options.reconnectMaxMs || 60000);
    this.reconnectTimer = this.platform.setTimer(delay, () => {
      this.reconnectTimer = undefined;
      if (this.state === WAITING) this.open();
    });
  }

  private provisionAgain(): void {
    const reprovision = this.reprovision as Reprovision;
    this.authFailures = 0;
    this.attempt = 0;
    this.emit("reprovisioning");
    reprovision().then(
      (options) => {
        if (this.state !== WAITING) return;
        this.retarget(options);
        this.open();
      },
      (error) => {
        if (this.state !== WAITING) return;
        this.emit("error", error);
        this.connectionEnded(undefined);
      },
    );
  }

  /** Points the client at a new hub identity (after provisioning again). */
  private retarget(options: HubOptions): void {
    this.options = options;
    this.hub = resolveHub(options);
    this.session = this.newSession();
    this.driver = this.newDriver();
    this.lastDesiredVersion = -1;
    // Telemetry queued for the old identity's session cannot move (its topic names the old
    // device): fail it, retryable, so no promise waits forever and nothing vanishes silently.
    const pending = this.telemetry;
    this.telemetry = {};
    const error = liteError("REPROVISIONED", "the device was provisioned again before this message was acknowledged", { retryable: true });
    for (const id in pending) pending[id].reject(error);
  }

  private clearTimers(): void {
    if (this.reconnectTimer !== undefined) this.platform.clearTimer(this.reconnectTimer);
    if (this.renewTimer !== undefined) this.platform.clearTimer(this.renewTimer);
    this.reconnectTimer = this.renewTimer = undefined;
  }

  private settleConnect(error: LiteError | undefined): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (let i = 0; i < waiters.length; i++) {
      if (error) waiters[i].reject(error);
      else waiters[i].resolve();
    }
  }

  /** Sends a twin request now if subscribed; false means it waits for the next connection. */
  private publishRequest(topic: string, payload: string | Uint8Array): boolean {
    if (this.state !== READY) return false;
    this.session.publish(topic, payload, 0);
    this.driver.pump();
    return true;
  }

  // ---- what arrives -----------------------------------------------------------------------------

  private route(packet: PublishPacket): void {
    const topic = packet.topic;
    const payload = packet.payload as Uint8Array;
    try {
      const twin = readTwinResponseTopic(topic);
      if (twin) return void this.twin.handleResponse(twin.status, twin.params, payload);
      const desiredVersion = readDesiredTopic(topic);
      if (desiredVersion !== undefined) {
        const patch = payload.length ? JSON.parse(utf8Decode(payload, 0, payload.length)) : {};
        if (typeof patch["$version"] !== "number") patch["$version"] = desiredVersion;
        return this.deliverDesired(patch, false);
      }
      const method = readMethodTopic(topic);
      if (method) return this.invokeMethod(method.name, method.rid, payload);
      const c2d = readC2dTopic(this.hub.identity, topic);
      if (c2d) return this.emit("message", { payload, properties: c2d.properties, systemProperties: c2d.systemProperties });
      this.emit("error", liteError("UNEXPECTED_TOPIC", "a message on an unexpected topic: " + topic));
    } catch (error) {
      this.emit("error", liteError((error as LiteError).code || "HUB_BAD_MESSAGE", "unreadable message on " + topic + ": " + (error as Error).message));
    }
  }

  private invokeMethod(name: string, rid: string, payload: Uint8Array): void {
    const handler = this.methods[name] || this.methods["*"];
    const respond = (response: MethodResponse) => {
      const status = response && typeof response.status === "number" && response.status % 1 === 0 ? response.status : 500;
      this.publishRequest(methodResponseTopic(status, rid), payloadBytes(response ? response.payload : undefined));
    };
    const fail = (error: unknown) => respond({ status: 500, payload: { message: "method " + name + " failed: " + String((error as Error).message || error) } });
    if (!handler) return respond({ status: 501, payload: { message: "no handler for method " + name } });
    try {
      const result = handler({ name, payload });
      if (result && typeof (result as Promise<MethodResponse>).then === "function") (result as Promise<MethodResponse>).then(respond, fail);
      else respond(result as MethodResponse);
    } catch (error) {
      fail(error);
    }
  }
}
