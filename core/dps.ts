// Device provisioning through DPS over MQTT (PROTOCOL.md 2): connect, subscribe to responses,
// register, wait retry-after and poll while DPS says 202, until 200. Transient failures (429,
// 5xx, a dropped or silent connection) are retried with retry-after or backoff, within a bound
// and an overall deadline; 401/403/404 and refusals of the credentials are not. Every way out
// clears its timers, sends DISCONNECT and settles the promise exactly once.
import { checkDpsIdentity, dpsSasToken, dpsUsername } from "./dps-credentials";
import { decodeKey, deviceKeyFor, sasExpiry } from "./sas";
import { SessionDriver } from "./driver";
import { dpsPollTopic, dpsRegisterTopic, dpsStatusError, parseDpsResponse, DpsTopic, type DpsResponse } from "./dps-topics";
import { liteError, type LiteError } from "./errors";
import { checkClientOptions, checkNonEmpty } from "./identity";
import { toJson } from "./json";
import type { Platform, SocketTarget } from "./platform";
import { backoffDelay } from "./retry";
import { MqttSession, type SessionEvent } from "./session";

export interface DpsOptions {
  idScope: string;
  registrationId: string;
  /** Individual enrollment: the device's symmetric key (base64). */
  symmetricKey?: string;
  /** Group enrollment: the group key; the device key is derived from it and the registration id. */
  groupKey?: string;
  /** X.509 attestation: the device certificate chain and private key_ (PEM), presented in TLS. */
  cert?: string;
  key?: string;
  /** A SAS token made elsewhere (e.g. signed in a secure element). */
  sasToken?: string;
  /** JSON-able data for custom allocation policies; DPS may return data in the result's payload. */
  payload?: unknown;
  /** DPS api-version. Default 2019-03-31. */
  apiVersion?: string;
  /** Default global.azure-devices-provisioning.net. */
  host?: string;
  /** Default 8883. */
  port?: number;
  /** Trust anchors (PEM) replacing the platform's defaults. */
  ca?: string | string[];
  /** Lifetime of the SAS token. Default 3600 s. */
  sasTtlSeconds?: number;
  /** The whole registration must finish within this. Default 120,000 ms. */
  timeoutMs?: number;
  /** Wait for each response (and for CONNACK, SUBACK, PUBACK). Default 30,000 ms. */
  requestTimeoutMs?: number;
  /** Transient failures retried, at most. Default 6. */
  maxRetries?: number;
  /** Wait between polls when DPS gives no retry-after. Default 3 s. */
  defaultRetryAfterSeconds?: number;
  /** Called at each step (for timelines and logs; never with secrets). */
  onStep?: (step: DpsStep) => void;
}

export interface DpsStep {
  /** connect | connected | subscribed | register | assigning | poll | retry | assigned */
  step: string;
  /** Milliseconds since register() was called. */
  atMs: number;
  host?: string;
  operationId?: string;
  retryAfterSeconds?: number;
  delayMs?: number;
  reason?: string;
  assignedHub?: string;
  deviceId?: string;
}

export interface DpsResult {
  registrationId: string;
  assignedHub: string;
  deviceId: string;
  status: string;
  substatus?: string;
  operationId?: string;
  createdDateTimeUtc?: string;
  lastUpdatedDateTimeUtc?: string;
  etag?: string;
  /** Data returned by a custom allocation policy. */
  payload?: unknown;
}

const enum Dps {
  // An enum member, written where it is used: a module-level string would be held for as long as
  // the module is loaded (a few variables on the interpreter).
  GlobalHost = "global.azure-devices-provisioning.net",
}

export const DPS_GLOBAL_HOST: string = Dps.GlobalHost;

function checkOptions(options: DpsOptions): void {
  checkClientOptions(options);
  checkDpsIdentity(options);
  let ways = 0;
  if (options.symmetricKey) {
    decodeKey(options.symmetricKey, "symmetricKey");
    ways++;
  }
  if (options.groupKey) {
    decodeKey(options.groupKey, "groupKey");
    ways++;
  }
  if (options.sasToken) ways++;
  if (options.cert || options.key) {
    checkNonEmpty(options.cert, "cert");
    checkNonEmpty(options.key, "key");
    ways++;
  }
  if (ways !== 1) throw liteError("ARGUMENT_INVALID", "give exactly one of symmetricKey, groupKey, sasToken, or cert and key");
}

/** Provisions one device. Create, then register(); cancel() ends it at any point. */
export class DpsClient {
  private readonly platform_: Platform;
  private readonly options_: DpsOptions;
  private driver_: SessionDriver | undefined;
  /** The connection dropped last, which may still be closing when the registration ends. */
  private dropped_: SessionDriver | undefined;
  private settle_: ((error: LiteError | undefined, result?: DpsResult) => void) | undefined;
  private startedAt_ = 0;
  private retries_ = 0;
  /** Why the last attempt failed, for the overall deadline's message. */
  private lastFailure_: string | undefined;
  private rid_ = 0;
  private operationId_: string | undefined;
  /** No request before this time (the last retry-after: a 202's, a 429's or a 5xx's), even when
   * a dropped connection is replaced sooner. */
  private notBefore_ = 0;
  private deadlineTimer_: unknown;
  private waitTimer_: unknown;
  private responseTimer_: unknown;
  /** The registration request, as JSON text. */
  private readonly request_: string;

  constructor(platform: Platform, options: DpsOptions) {
    // Keys and the payload are checked now, so a bad one is an immediate error and not a failure
    // deep inside a socket's data handler.
    checkOptions(options);
    this.platform_ = platform;
    this.options_ = options;
    const request: { registrationId: string; payload?: unknown } = { registrationId: options.registrationId };
    if (options.payload !== undefined) request.payload = options.payload;
    try {
      this.request_ = toJson(request);
    } catch (error) {
      // A cycle or a BigInt; the engine's message may quote the data, so it is not passed on.
      throw liteError("ARGUMENT_INVALID", "payload cannot be written as JSON");
    }
  }

  register(): Promise<DpsResult> {
    if (this.settle_) return Promise.reject(liteError("BUSY", "register() is already running"));
    return new Promise<DpsResult>((resolve, reject) => {
      this.settle_ = (error, result) => (error ? reject(error) : resolve(result as DpsResult));
      this.startedAt_ = this.platform_.now();
      this.retries_ = 0;
      this.lastFailure_ = undefined;
      this.operationId_ = undefined;
      this.notBefore_ = 0;
      const timeoutMs = this.options_.timeoutMs || 120000;
      const deadline = (): void => {
        // Espruino fires pending timers early when the board's clock is first set (SNTP): the
        // platform's now() does not jump, so the rest is waited out.
        const left = this.startedAt_ + timeoutMs - this.platform_.now();
        if (left > 0) {
          this.deadlineTimer_ = this.platform_.setTimer(left, deadline);
          return;
        }
        this.deadlineTimer_ = undefined;
        // Named with the last failure (a refused connection, throttling ...): that is what to fix.
        // With what is left of a retry-after DPS asked for: whoever tries again waits it out too
        // (a hub client provisioning again does).
        const waitMs = this.notBefore_ - this.platform_.now();
        this.finish_(liteError("DPS_TIMEOUT", "provisioning did not finish in time" + (this.lastFailure_ ? " (last: " + this.lastFailure_ + ")" : ""), { retryable: true, retryAfterSeconds: waitMs > 0 ? Math.ceil(waitMs / 1000) : undefined }));
      };
      this.deadlineTimer_ = this.platform_.setTimer(timeoutMs, deadline);
      this.connect_();
    });
  }

  /** Ends a running registration: its promise rejects with CANCELLED. */
  cancel(): void {
    this.finish_(liteError("CANCELLED", "provisioning was cancelled"));
  }

  /** Tells the observer; false when it cancelled the registration meanwhile (then the caller
   * must stop: nothing may run for a registration that has settled). */
  private step_(step: DpsStep): boolean {
    step.atMs = this.platform_.now() - this.startedAt_;
    const onStep = this.options_.onStep;
    // A failing observer must not break provisioning: it runs inside socket and timer callbacks.
    try {
      if (onStep) onStep(step);
    } catch (error) {
      // ignored
    }
    return this.settle_ !== undefined;
  }

  private connect_(): void {
    const options = this.options_;
    const platform = this.platform_;
    let password: string | undefined;
    try {
      password = options.sasToken;
      const key = deviceKeyFor(options, platform.crypto);
      if (key) password = dpsSasToken(options, key, sasExpiry(platform.epochSeconds(), options.sasTtlSeconds || 3600), platform.crypto);
    } catch (error) {
      return this.finish_(error as LiteError);
    }
    const requestTimeoutMs = options.requestTimeoutMs || 30000;
    const session = new MqttSession({
      clientId: options.registrationId,
      username: dpsUsername(options, options.apiVersion),
      clean: true,
      keepAliveSeconds: 60,
      ackTimeoutMs: requestTimeoutMs,
      maxPacketBytes: platform.limits && platform.limits.maxPacketBytes,
    });
    // Bound, not a closure: on Espruino a closure holds the whole scope it is made in (here, this
    // method's: the options, the SAS token), and a bound method holds none of it.
    const driver = new SessionDriver(platform, session, this.handleEvent_.bind(this, session), { connectTimeoutMs: requestTimeoutMs });
    this.driver_ = driver;
    const target: SocketTarget = { host: options.host || Dps.GlobalHost, port: options.port || 8883 };
    if (options.ca || options.cert) target.tls = { ca: options.ca, cert: options.cert, key: options.key };
    if (this.step_({ step: "connect", host: target.host, atMs: 0 })) driver.open(target, password);
  }

  private handleEvent_(session: MqttSession, event: SessionEvent): void {
    // Events of a driver ended since (a retry makes a new one) are not this registration's.
    const driver = this.driver_;
    if (!driver || driver.session !== session) return;
    switch (event.type) {
      case "connected":
        // The connection may have ended in the same chunk as its CONNACK ("closed" follows).
        if (!driver.session.connected) return;
        if (!this.step_({ step: "connected", atMs: 0 })) return;
        driver.session.subscribe([{ topic: DpsTopic.Responses, qos: 1 }], this.platform_.now());
        return driver.pump();
      case "subscribed":
        if (this.step_({ step: "subscribed", atMs: 0 })) this.sendRequest_();
        return;
      case "message": {
        let response: DpsResponse | undefined;
        try {
          response = parseDpsResponse(event.packet.topic, event.packet.payload as Uint8Array);
        } catch (error) {
          return this.finish_(error as LiteError);
        }
        // Responses to an earlier request (before a retry) are stale: only the latest counts.
        if (response && response.rid === String(this.rid_)) this.handleResponse_(response);
        return;
      }
      case "dropped": // a response over maxPacketBytes: the same again on a retry
        return this.finish_(event.error);
      // (No "publishFailed": a QoS 1 request's overdue PUBACK arrives as "closed", and DPS never
      // gives up a session's queue with a failure; it replaces the whole session.)
      case "subscribeFailed":
        return this.retryLater_(event.error, undefined);
      case "closed":
        return this.retryLater_(event.error || liteError("CONNECTION_LOST", "DPS closed the connection", { retryable: true }), undefined);
    }
  }

  /** Registers, or polls once an operation id is known (also after a reconnect). */
  private sendRequest_(): void {
    const driver = this.driver_ as SessionDriver;
    const rid = String(++this.rid_);
    const options = this.options_;
    if (this.operationId_) {
      if (!this.step_({ step: "poll", operationId: this.operationId_, atMs: 0 })) return;
      driver.session.publish(dpsPollTopic(rid, this.operationId_), "", 1, this.platform_.now());
    } else {
      if (!this.step_({ step: "register", atMs: 0 })) return;
      driver.session.publish(dpsRegisterTopic(rid), this.request_, 1, this.platform_.now());
    }
    driver.pump();
    this.responseTimer_ = this.clearTimer_(this.responseTimer_);
    this.responseTimer_ = this.platform_.setTimer(options.requestTimeoutMs || 30000, () => {
      this.responseTimer_ = undefined;
      this.retryLater_(liteError("DPS_TIMEOUT", "DPS did not answer in time", { retryable: true }), undefined);
    });
  }

  private handleResponse_(response: DpsResponse): void {
    this.responseTimer_ = this.clearTimer_(this.responseTimer_);
    const body = response.body;
    const state = body.registrationState || {};
    const status = response.status;
    if (status === 200 && body.status === "assigned") {
      if (!state.assignedHub || !state.deviceId) return this.finish_(liteError("DPS_BAD_RESPONSE", "assigned without a hub or device id"));
      if (this.platform_.unverifiedTls) {
        // IoT Hub names (see Platform.unverifiedTls): 3-50 letters, digits or hyphens, in the
        // public, China or US Government cloud; nothing else before the suffix, since the name is
        // dialled as given (a NUL in it ends the name the interpreter's C code resolves).
        // (Espruino's regular expressions have no {n,m} and no alternation.)
        const cloud = state.assignedHub.split(".azure-devices.");
        const name = cloud[0];
        if (cloud.length !== 2 || "net cn us".split(" ").indexOf(cloud[1]) < 0 || !/^[a-zA-Z0-9-]+$/.test(name) || name.length < 3 || name.length > 50) {
          return this.finish_(liteError("DPS_BAD_RESPONSE", "assigned " + JSON.stringify(state.assignedHub) + ", not an IoT hub name", { retryable: true }));
        }
      }
      this.step_({ step: "assigned", assignedHub: state.assignedHub, deviceId: state.deviceId, atMs: 0 });
      return this.finish_(undefined, {
        registrationId: state.registrationId || this.options_.registrationId,
        assignedHub: state.assignedHub,
        deviceId: state.deviceId,
        status: body.status,
        substatus: state.substatus,
        operationId: body.operationId,
        createdDateTimeUtc: state.createdDateTimeUtc,
        lastUpdatedDateTimeUtc: state.lastUpdatedDateTimeUtc,
        etag: state.etag,
        payload: state.payload,
      });
    }
    if (status === 200 && (body.status === "failed" || body.status === "disabled")) {
      const disabled = body.status === "disabled";
      let message = disabled ? "the enrollment is disabled" : "DPS could not assign the device";
      if (state.errorMessage) message += ": " + state.errorMessage;
      return this.finish_(liteError(disabled ? "DPS_DISABLED" : "DPS_FAILED", message, { status, errorCode: state.errorCode }));
    }
    if (status === 200 || status === 202) {
      // Still assigning: poll after retry-after (PROTOCOL.md 2, step 4).
      if (!body.operationId) return this.finish_(liteError("DPS_BAD_RESPONSE", "a " + status + " response without operationId"));
      this.operationId_ = body.operationId;
      this.retries_ = 0;
      const seconds = response.retryAfterSeconds !== undefined ? response.retryAfterSeconds : this.options_.defaultRetryAfterSeconds || 3;
      if (!this.step_({ step: "assigning", operationId: body.operationId, retryAfterSeconds: seconds, atMs: 0 })) return;
      this.notBefore_ = this.platform_.now() + seconds * 1000;
      return this.wait_(seconds * 1000);
    }
    const error = dpsStatusError(response);
    if (error.retryable) this.retryLater_(error, response.retryAfterSeconds);
    else this.finish_(error);
  }

  /** A transient failure: wait (retry-after, or backoff with jitter), then try again. */
  private retryLater_(error: LiteError | undefined, retryAfterSeconds: number | undefined): void {
    if (!this.settle_) return;
    this.responseTimer_ = this.clearTimer_(this.responseTimer_);
    const failure = error as LiteError;
    this.lastFailure_ = failure.code;
    if (!failure.retryable || this.retries_ >= (this.options_.maxRetries === undefined ? 6 : this.options_.maxRetries)) {
      return this.finish_(failure);
    }
    // After a retry-after, never sooner (PROTOCOL.md 2), but not on the dot either: a gateway
    // provisioning a fleet gets the same retry-after for every device, and each round came back
    // in one burst that DPS throttled again (1,000 devices, DPS at 50 requests/s: 435 failed on
    // their retry count while DPS sat idle between the bursts). The backoff's jitter spreads them.
    const askedMs = retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : 0;
    const delayMs = askedMs + backoffDelay(this.retries_, this.platform_.random(), 1000, 30000);
    this.retries_++;
    if (askedMs) this.notBefore_ = this.platform_.now() + askedMs;
    if (!this.step_({ step: "retry", reason: failure.code, delayMs, atMs: 0 })) return;
    // A throttled or failed answer keeps the connection; a lost or silent one is replaced.
    if (failure.status === undefined || !(failure.status >= 400)) this.dropConnection_();
    this.wait_(delayMs);
  }

  private wait_(delayMs: number): void {
    this.waitTimer_ = this.clearTimer_(this.waitTimer_);
    // A connection lost while DPS asked to wait is replaced sooner (backoff): DPS still waits.
    this.waitTimer_ = this.platform_.setTimer(Math.max(delayMs, this.notBefore_ - this.platform_.now()), () => {
      this.waitTimer_ = undefined;
      if (this.driver_ && this.driver_.session.connected) this.sendRequest_();
      else this.connect_();
    });
  }

  private dropConnection_(): void {
    const driver = this.driver_;
    this.driver_ = undefined;
    if (driver) {
      this.dropped_ = driver;
      driver.close();
    }
  }

  /** Clears a timer if it is set; returns undefined to store in its place. */
  private clearTimer_(handle: unknown): undefined {
    if (handle !== undefined) this.platform_.clearTimer(handle);
    return undefined;
  }

  private finish_(error: LiteError | undefined, result?: DpsResult): void {
    const settle = this.settle_;
    if (!settle) return;
    this.settle_ = undefined;
    this.deadlineTimer_ = this.clearTimer_(this.deadlineTimer_);
    this.waitTimer_ = this.clearTimer_(this.waitTimer_);
    this.responseTimer_ = this.clearTimer_(this.responseTimer_);
    const driver = this.driver_ || this.dropped_;
    this.dropConnection_();
    this.dropped_ = undefined;
    // Settle once the socket is really closed, so nothing of this registration (socket, TLS
    // buffers, session) is still alive when the caller moves on to the hub: on a device the two
    // would not fit in memory together.
    // Bounded: a platform that never reports the close must not leave register() pending.
    if (driver) driver.whenClosed(() => settle(error, result), 3000);
    else settle(error, result);
  }

}
