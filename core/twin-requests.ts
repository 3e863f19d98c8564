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
  answer_: Answer;
  /** Absent when the answer goes to the sender. */
  resolve_?: (value: TwinResponse | number | undefined) => void;
  reject_?: (error: LiteError) => void;
}

/** What a request settles with. */
export const enum Answer {
  /** Its promise, with the response. */
  Response,
  /** Its promise, with the response's $version only (a reported PATCH). */
  Version,
  /** No promise: sender.answered_ gets the outcome. For the hub's own twin GET after each
   * connection: on a device that GET is in flight right when the firmware starts its own work, at
   * the memory peak, and a promise chain held ~70 variables there (measured on 2v29). */
  Sender,
}

const enum Retry {
  Max = 3,
}

/** Where requests go out: the hub client. An object rather than a callback, since on Espruino a
 * closure keeps its whole enclosing scope (the client's first options, with its key) alive. */
export interface TwinSender {
  /** @internal Publishes on the current connection; false when there is none (the request waits). */
  publishRequest_(topic: string, payload: string): boolean;
  /** @internal The outcome of a request made with Answer.Sender. */
  answered_(error: LiteError | undefined, response?: TwinResponse): void;
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

  /** Sends a request and settles as `answer` says. Only one Answer.Sender request is pending at a
   * time: after a drop it goes again on the next connection by itself, and a second one would
   * deliver the same document twice. (Methods end in "_": the class is internal, and on the
   * interpreter a longer name costs a variable more.) */
  request_(topic: (rid: string) => string, payload: string, answer: Answer.Response): Promise<TwinResponse>;
  request_(topic: (rid: string) => string, payload: string, answer: Answer.Version): Promise<number | undefined>;
  request_(topic: (rid: string) => string, payload: string, answer: Answer.Sender): void;
  request_(topic: (rid: string) => string, payload: string, answer: Answer): Promise<TwinResponse | number | undefined> | void {
    const start = (resolve?: (value: TwinResponse | number | undefined) => void, reject?: (error: LiteError) => void) => {
      const request: TwinRequest = { rid_: "", topic_: topic, payload_: payload, sent_: false, retries_: 0, deadline_: undefined, retryTimer_: undefined, answer_: answer, resolve_: resolve, reject_: reject };
      request.deadline_ = this.platform_.setTimer(this.timeoutMs_, () => {
        request.deadline_ = undefined;
        this.settle_(request, liteError("TWIN_TIMEOUT", "no twin answer", { retryable: true }));
      });
      this.requests_.push(request);
      this.trySend_(request);
    };
    if (answer !== Answer.Sender) return new Promise<TwinResponse | number | undefined>(start);
    for (let i = 0; i < this.requests_.length; i++) if (this.requests_[i].answer_ === Answer.Sender) return;
    start();
  }

  /** Sends every request still waiting for a connection (call once subscriptions are in place). */
  flush_(): void {
    const waiting = this.requests_.slice();
    for (let i = 0; i < waiting.length; i++) if (!waiting[i].sent_ && waiting[i].retryTimer_ === undefined) this.trySend_(waiting[i]);
  }

  /** The connection dropped: answers to what was sent on it will never come, so send again later. */
  connectionLost_(): void {
    for (let i = 0; i < this.requests_.length; i++) this.requests_[i].sent_ = false;
  }

  /** Settles the request this response answers (a response to no pending request is ignored). */
  handleResponse_(status: number, params: Params, payload: Uint8Array, dropped: LiteError | undefined): void {
    let request: TwinRequest | undefined;
    for (let i = 0; i < this.requests_.length; i++) if (this.requests_[i].sent_ && this.requests_[i].rid_ === params["$rid"]) request = this.requests_[i];
    if (!request) return;
    // Too large to take (its payload let go by): why, at once, not a TWIN_TIMEOUT after asking again.
    if (dropped) return this.settle_(request, dropped);
    const response: TwinResponse = { status };
    if (params["$version"] !== undefined) response.version = parseInt(params["$version"], 10);
    if (payload.length) {
      try {
        response.body = parseJson(payload);
      } catch (error) {
        // An error status keeps its meaning (a 503 is retried) whatever text came with it.
        if (status < 300) return this.settle_(request, liteError("TWIN_BAD_RESPONSE", "twin not JSON (status " + status + ")"));
      }
    }
    if (status >= 200 && status < 300) return this.settle_(request, undefined, response);
    const retryable = status === 429 || status >= 500;
    let message = "twin status " + status;
    // Only text: an object's own toString would run here, or throw with no one to catch it.
    if (response.body && typeof response.body.message === "string") message += ": " + response.body.message;
    // (Conditions, not a table: a module-level object is variables held for good on a device.)
    const code = status === 400 ? "TWIN_BAD_REQUEST" : status === 429 ? "TWIN_THROTTLED" : status >= 500 ? "TWIN_SERVICE_ERROR" : "TWIN_UNEXPECTED_STATUS";
    const error = liteError(code, message, { status, retryable });
    if (!retryable || request.retries_ >= Retry.Max) return this.settle_(request, error);
    request.sent_ = false;
    // Bound, not a closure: on Espruino a closure holds the whole scope it is made in, and made
    // here it held this response, its payload and its error until it fired (measured on 2v29: a
    // throttled twin GET and a 503 reported patch waiting together, 130 variables).
    request.retryTimer_ = this.platform_.setTimer(backoffDelay(request.retries_++, this.platform_.random(), 1000, 10000), this.trySend_.bind(this, request));
  }

  failAll_(error: LiteError): void {
    while (this.requests_.length) this.settle_(this.requests_[0], error);
  }

  /** Sends `request` now: from its retry timer, or with no retry pending (start, and flush_ only
   * sends those), so the timer it forgets here has fired or never was. */
  private trySend_(request: TwinRequest): void {
    request.retryTimer_ = undefined;
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
    if (request.answer_ === Answer.Sender) this.sender_.answered_(error, response);
    else if (error) (request.reject_ as (error: LiteError) => void)(error);
    else (request.resolve_ as (value: TwinResponse | number | undefined) => void)(request.answer_ === Answer.Version ? (response as TwinResponse).version : response);
  }
}
