// Twin requests (GET, PATCH reported) correlated with their responses by `$rid` (PROTOCOL.md 3).
// A request waits for a connection, goes again on the next connection if the link dropped
// before its answer (each send has a fresh $rid, so a late answer can never be mistaken), is
// retried after 429/5xx with backoff, and fails with a typed error at its deadline.
import { liteError, type LiteError } from "./errors";
import type { Params } from "./params";
import type { Platform } from "./platform";
import { backoffDelay } from "./retry";
import { parseJson } from "./json";

export interface TwinResponse {
  status: number;
  /** `$version` from the topic (the new reported version after a PATCH). */
  version?: number;
  /** The parsed JSON body, when there is one. */
  body?: any;
}

// Internal record: members end in "_" so the Espruino build gives them short names (on the
// interpreter a property name over four characters costs a variable more, per pending request).
interface TwinRequest {
  rid_: string;
  topic_: (rid: string) => string;
  payload_: string;
  sent_: boolean;
  retries_: number;
  deadline_: unknown;
  retryTimer_: unknown;
  /** Settle with the response's $version, not the response. */
  versionOnly_: boolean;
  resolve_: (value: TwinResponse | number | undefined) => void;
  reject_: (error: LiteError) => void;
}

const enum Retry {
  Max = 3,
}
const STATUS_CODES: { [status: number]: string } = { 400: "TWIN_BAD_REQUEST", 429: "TWIN_THROTTLED" };

/** Where requests go out: the hub client. An object rather than a callback, since on Espruino a
 * closure keeps its whole enclosing scope (the client's first options, with its key) alive. */
export interface TwinSender {
  /** @internal Publishes on the current connection; false when there is none (the request waits). */
  publishRequest_(topic: string, payload: string): boolean;
}

export class TwinRequests {
  private readonly platform_: Platform;
  private readonly sender_: TwinSender;
  private readonly timeoutMs_: number;
  private requests_: TwinRequest[] = [];
  private lastRid_ = 0;

  constructor(platform: Platform, sender: TwinSender, timeoutMs: number) {
    this.platform_ = platform;
    this.sender_ = sender;
    this.timeoutMs_ = timeoutMs;
  }

  /** Sends a request and settles with its response, or with only the response's $version when
   * `versionOnly` (a reported PATCH): that saves chaining a second promise, and on a device the
   * memory peak is reached while a PATCH is in flight (measured on 2v29: one promise and its
   * closure were the difference between completing with 2,500 variables and not). */
  request(topic: (rid: string) => string, payload: string): Promise<TwinResponse>;
  request(topic: (rid: string) => string, payload: string, versionOnly: true): Promise<number | undefined>;
  request(topic: (rid: string) => string, payload: string, versionOnly?: boolean): Promise<TwinResponse | number | undefined> {
    return new Promise<TwinResponse | number | undefined>((resolve, reject) => {
      const request: TwinRequest = { rid_: "", topic_: topic, payload_: payload, sent_: false, retries_: 0, deadline_: undefined, retryTimer_: undefined, versionOnly_: !!versionOnly, resolve_: resolve, reject_: reject };
      request.deadline_ = this.platform_.setTimer(this.timeoutMs_, () => {
        request.deadline_ = undefined;
        this.settle_(request, liteError("TWIN_TIMEOUT", "no twin response in time", { retryable: true }));
      });
      this.requests_.push(request);
      this.trySend_(request);
    });
  }

  /** Sends every request still waiting for a connection (call once subscriptions are in place). */
  flush(): void {
    const waiting = this.requests_.slice();
    for (let i = 0; i < waiting.length; i++) if (!waiting[i].sent_ && waiting[i].retryTimer_ === undefined) this.trySend_(waiting[i]);
  }

  /** The connection dropped: answers to what was sent on it will never come, so send again later. */
  connectionLost(): void {
    for (let i = 0; i < this.requests_.length; i++) this.requests_[i].sent_ = false;
  }

  /** Settles the request this response answers (a response to no pending request is ignored). */
  handleResponse(status: number, params: Params, payload: Uint8Array): void {
    let request: TwinRequest | undefined;
    for (let i = 0; i < this.requests_.length; i++) if (this.requests_[i].sent_ && this.requests_[i].rid_ === params["$rid"]) request = this.requests_[i];
    if (!request) return;
    const response: TwinResponse = { status };
    if (params["$version"] !== undefined) response.version = parseInt(params["$version"], 10);
    if (payload.length) {
      try {
        response.body = parseJson(payload);
      } catch (error) {
        return this.settle_(request, liteError("TWIN_BAD_RESPONSE", "twin response body is not JSON (status " + status + ")"));
      }
    }
    if (status >= 200 && status < 300) return this.settle_(request, undefined, response);
    const retryable = status === 429 || status >= 500;
    let message = "the twin request failed with status " + status;
    if (response.body && response.body.message) message += ": " + response.body.message;
    const error = liteError(STATUS_CODES[status] || (status >= 500 ? "TWIN_SERVICE_ERROR" : "TWIN_UNEXPECTED_STATUS"), message, { status, retryable });
    if (!retryable || request.retries_ >= Retry.Max) return this.settle_(request, error);
    request.sent_ = false;
    request.retryTimer_ = this.platform_.setTimer(backoffDelay(request.retries_++, this.platform_.random(), 1000, 10000), () => {
      request.retryTimer_ = undefined;
      this.trySend_(request);
    });
  }

  failAll(error: LiteError): void {
    while (this.requests_.length) this.settle_(this.requests_[0], error);
  }

  private trySend_(request: TwinRequest): void {
    request.rid_ = String(++this.lastRid_);
    try {
      request.sent_ = this.sender_.publishRequest_(request.topic_(request.rid_), request.payload_);
    } catch (error) {
      this.settle_(request, error as LiteError);
    }
  }

  private settle_(request: TwinRequest, error: LiteError | undefined, response?: TwinResponse): void {
    const index = this.requests_.indexOf(request);
    if (index < 0) return;
    this.requests_.splice(index, 1);
    if (request.deadline_ !== undefined) this.platform_.clearTimer(request.deadline_);
    if (request.retryTimer_ !== undefined) this.platform_.clearTimer(request.retryTimer_);
    if (error) request.reject_(error);
    else request.resolve_(request.versionOnly_ ? (response as TwinResponse).version : response);
  }
}
