// Twin requests (GET, PATCH reported) correlated with their responses by `$rid` (PROTOCOL.md 3).
// A request waits for a connection, goes again on the next connection if the link dropped
// before its answer (each send has a fresh $rid, so a late answer can never be mistaken), is
// retried after 429/5xx with backoff, and fails with a typed error at its deadline.
import { liteError, type LiteError } from "./errors";
import type { Params } from "./params";
import type { Platform } from "./platform";
import { backoffDelay } from "./retry";
import { utf8Decode } from "./utf8";

export interface TwinResponse {
  status: number;
  /** `$version` from the topic (the new reported version after a PATCH). */
  version?: number;
  /** The parsed JSON body, when there is one. */
  body?: any;
}

interface TwinRequest {
  rid: string;
  topic: (rid: string) => string;
  payload: string;
  sent: boolean;
  retries: number;
  deadline: unknown;
  retryTimer: unknown;
  resolve: (response: TwinResponse) => void;
  reject: (error: LiteError) => void;
}

const enum Retry {
  Max = 3,
}
const STATUS_CODES: { [status: number]: string } = { 400: "TWIN_BAD_REQUEST", 429: "TWIN_THROTTLED" };

export class TwinRequests {
  private readonly platform_: Platform;
  /** Publishes on the current connection; false when there is none (the request waits). */
  private readonly send_: (topic: string, payload: string) => boolean;
  private readonly timeoutMs_: number;
  private requests_: TwinRequest[] = [];
  private lastRid_ = 0;

  constructor(platform: Platform, send: (topic: string, payload: string) => boolean, timeoutMs: number) {
    this.platform_ = platform;
    this.send_ = send;
    this.timeoutMs_ = timeoutMs;
  }

  request(topic: (rid: string) => string, payload: string): Promise<TwinResponse> {
    return new Promise<TwinResponse>((resolve, reject) => {
      const request: TwinRequest = { rid: "", topic, payload, sent: false, retries: 0, deadline: undefined, retryTimer: undefined, resolve, reject };
      request.deadline = this.platform_.setTimer(this.timeoutMs_, () => {
        request.deadline = undefined;
        this.settle_(request, liteError("TWIN_TIMEOUT", "no twin response in time", { retryable: true }));
      });
      this.requests_.push(request);
      this.trySend_(request);
    });
  }

  /** Sends every request still waiting for a connection (call once subscriptions are in place). */
  flush(): void {
    const waiting = this.requests_.slice();
    for (let i = 0; i < waiting.length; i++) if (!waiting[i].sent && waiting[i].retryTimer === undefined) this.trySend_(waiting[i]);
  }

  /** The connection dropped: answers to what was sent on it will never come, so send again later. */
  connectionLost(): void {
    for (let i = 0; i < this.requests_.length; i++) this.requests_[i].sent = false;
  }

  /** Settles the request this response answers (a response to no pending request is ignored). */
  handleResponse(status: number, params: Params, payload: Uint8Array): void {
    let request: TwinRequest | undefined;
    for (let i = 0; i < this.requests_.length; i++) if (this.requests_[i].sent && this.requests_[i].rid === params["$rid"]) request = this.requests_[i];
    if (!request) return;
    const response: TwinResponse = { status };
    if (params["$version"] !== undefined) response.version = parseInt(params["$version"], 10);
    if (payload.length) {
      try {
        response.body = JSON.parse(utf8Decode(payload, 0, payload.length));
      } catch (error) {
        return this.settle_(request, liteError("TWIN_BAD_RESPONSE", "twin response body is not JSON (status " + status + ")"));
      }
    }
    if (status >= 200 && status < 300) return this.settle_(request, undefined, response);
    const retryable = status === 429 || status >= 500;
    let message = "the twin request failed with status " + status;
    if (response.body && response.body.message) message += ": " + response.body.message;
    const error = liteError(STATUS_CODES[status] || (status >= 500 ? "TWIN_SERVICE_ERROR" : "TWIN_UNEXPECTED_STATUS"), message, { status, retryable });
    if (!retryable || request.retries >= Retry.Max) return this.settle_(request, error);
    request.sent = false;
    request.retryTimer = this.platform_.setTimer(backoffDelay(request.retries++, this.platform_.random(), 1000, 10000), () => {
      request.retryTimer = undefined;
      this.trySend_(request);
    });
  }

  failAll(error: LiteError): void {
    while (this.requests_.length) this.settle_(this.requests_[0], error);
  }

  private trySend_(request: TwinRequest): void {
    request.rid = String(++this.lastRid_);
    try {
      request.sent = this.send_(request.topic(request.rid), request.payload);
    } catch (error) {
      this.settle_(request, error as LiteError);
    }
  }

  private settle_(request: TwinRequest, error: LiteError | undefined, response?: TwinResponse): void {
    const index = this.requests_.indexOf(request);
    if (index < 0) return;
    this.requests_.splice(index, 1);
    if (request.deadline !== undefined) this.platform_.clearTimer(request.deadline);
    if (request.retryTimer !== undefined) this.platform_.clearTimer(request.retryTimer);
    if (error) request.reject(error);
    else request.resolve(response as TwinResponse);
  }
}
