// Binds an MqttSession to a platform socket and a single timer. After every input (bytes, socket
// open/close, the timer, a command) it delivers the session's events, writes what the session
// wants written, and re-arms its one timer to the session's next deadline. All IO goes through
// the Platform, so this lives in core and is tested against a fake platform with virtual time.
import { liteError, textOf, type LiteError } from "./errors";
import type { Platform, PlatformSocket, SocketHandlers, SocketTarget } from "./platform";
import type { MqttSession, SessionEvent } from "./session";

export interface DriverOptions {
  /** How long the socket (TCP + TLS) may take to open. Default 30,000 ms. */
  connectTimeoutMs?: number;
}

/**
 * The driver is itself the socket handlers object: the platform passes each call the socket it is
 * about, so nothing is made per connection (on Espruino each closure costs ~10 variables for as
 * long as its socket lives, measured), and a socket being closed is told apart from the current one.
 */
export class SessionDriver implements SocketHandlers {
  readonly session: MqttSession;
  private readonly platform_: Platform;
  private readonly listener_: (event: SessionEvent) => void;
  private readonly connectTimeoutMs_: number;
  private socket_: PlatformSocket | undefined;
  private host_ = "";
  /** The SAS token for the CONNECT of the socket being opened, forgotten once sent. */
  private password_: string | undefined;
  /** True once the current socket is open and the session has written CONNECT on it. */
  private opened_ = false;
  /** When an unopened socket times out (monotonic ms), or -1. One timer serves it and the session. */
  private openDeadline_ = -1;
  private timer_: unknown;
  private timerDeadline_ = -1;
  private pumping_ = false;
  private pumpAgain_ = false;
  /** A socket this driver closed, until the platform says it is closed, and who waits for that. */
  private closingSocket_: PlatformSocket | undefined;
  private whenClosed_: (() => void)[] = [];
  private closeWaitTimer_: unknown;

  constructor(platform: Platform, session: MqttSession, listener: (event: SessionEvent) => void, options?: DriverOptions) {
    this.platform_ = platform;
    this.session = session;
    this.listener_ = listener;
    this.connectTimeoutMs_ = (options && options.connectTimeoutMs) || 30000;
  }

  /** True while a socket is connecting or open (not once it is only closing). */
  get socketOpen(): boolean {
    return this.socket_ !== undefined;
  }

  /** Opens a socket to `target`; CONNECT (with `password`) goes out once it is open. */
  open(target: SocketTarget, password?: string): void {
    if (this.socket_) throw liteError("ALREADY_CONNECTED", "already open");
    this.opened_ = false;
    this.host_ = target.host;
    this.password_ = password;
    this.openDeadline_ = this.platform_.now() + this.connectTimeoutMs_;
    try {
      this.socket_ = this.platform_.connect(target, this);
    } catch (error) {
      // A platform breaking its contract (failures come later, as closed): nothing is opening,
      // so no deadline may stay armed for it, and the caller hears of it as a failed open.
      this.openDeadline_ = -1;
      this.listener_({ type: "closed", error: error && (error as LiteError).code ? (error as LiteError) : liteError("CONNECTION_REFUSED", target.host + ": " + textOf(error), { retryable: true }) });
      return this.pump();
    }
    this.armTimer_();
  }

  /** Platform callback: `socket` is open. */
  connected(socket: PlatformSocket): void {
    if (socket !== this.socket_) return;
    this.openDeadline_ = -1;
    this.opened_ = true;
    const password = this.password_;
    // The token is in CONNECT now; nothing keeps it for the socket's lifetime.
    this.password_ = undefined;
    this.session.connectionOpened(this.platform_.now(), password);
    this.pump();
  }

  /** Platform callback: bytes from `socket`. */
  data(bytes: Uint8Array, socket: PlatformSocket): void {
    if (socket !== this.socket_) return;
    this.session.receive(bytes, this.platform_.now());
    this.pump();
  }

  /** Platform callback: `socket` is closed, on its own (with `error`) or because we closed it. */
  closed(error: LiteError | undefined, socket: PlatformSocket): void {
    if (socket === this.socket_) this.socketGone_(error, false);
    else if (socket === this.closingSocket_) this.closed_();
  }

  /** Platform callback: `socket`, which refused more (write gave false), takes more again. */
  drained(socket: PlatformSocket): void {
    if (socket !== this.socket_) return;
    this.session.drained(this.platform_.now());
    this.pump();
  }

  /** Ends the connection cleanly (DISCONNECT); `failure` also fails every queued publish. */
  close(failure?: LiteError): void {
    const unopened = !this.opened_ ? this.socket_ : undefined;
    if (unopened) {
      this.socket_ = undefined;
      this.closingSocket_ = unopened;
      this.openDeadline_ = -1;
      this.password_ = undefined;
      unopened.close();
      this.listener_({ type: "closed" });
    }
    this.session.disconnect(failure);
    this.pump();
  }

  /**
   * Calls `done` once no socket of this driver is open or closing (at once if none is), or after
   * `maxWaitMs` if the platform never reports the close: waiting must not become hanging.
   */
  whenClosed(done: () => void, maxWaitMs: number): void {
    if (!this.socket_ && !this.closingSocket_) return done();
    this.whenClosed_.push(done);
    if (this.closeWaitTimer_ === undefined) {
      this.closeWaitTimer_ = this.platform_.setTimer(maxWaitMs, () => {
        this.closeWaitTimer_ = undefined;
        this.closed_();
      });
    }
  }

  /** Runs after a command was given to the session directly (publish, subscribe, ...). */
  pump(): void {
    if (this.pumping_) {
      this.pumpAgain_ = true;
      return;
    }
    this.pumping_ = true;
    try {
      do {
        this.pumpAgain_ = false;
        // Events first: an inbound QoS 1 message reaches the application before its PUBACK.
        for (let event = this.session.pollEvent(); event; event = this.session.pollEvent()) {
          if (event.type === "closed") this.hangUp_();
          this.listener_(event);
        }
        this.flush_();
      } while (this.pumpAgain_);
    } finally {
      this.pumping_ = false;
      // Even if a listener threw, the session keeps its clock: the next deadline stays armed.
      this.armTimer_();
    }
  }

  private flush_(): void {
    for (let bytes = this.session.pollTransmit(); bytes; bytes = this.session.pollTransmit()) {
      // Control packets and the rest of this batch still go (the batch is bounded by the queue's
      // bounds); publishes wait until the socket is drained.
      if (this.socket_ && this.socket_.write(bytes) === false) this.session.writable_ = false;
    }
  }

  /** The session ended the connection: write what it still has (DISCONNECT), close the socket. */
  private hangUp_(): void {
    const socket = this.socket_;
    if (!socket) return;
    this.flush_();
    this.socket_ = undefined;
    this.closingSocket_ = socket;
    socket.close();
  }

  private closed_(): void {
    this.closingSocket_ = undefined;
    if (this.closeWaitTimer_ !== undefined) this.platform_.clearTimer(this.closeWaitTimer_);
    this.closeWaitTimer_ = undefined;
    const waiting = this.whenClosed_;
    this.whenClosed_ = [];
    for (let i = 0; i < waiting.length; i++) waiting[i]();
  }

  /**
   * The socket closed on its own, or never opened and `closeIt` (it timed out): tell the session,
   * or say so directly. A socket closed here is closing until the platform says it is closed.
   */
  private socketGone_(error: LiteError | undefined, closeIt: boolean): void {
    const socket = this.socket_;
    const wasOpened = this.opened_;
    this.socket_ = undefined;
    this.opened_ = false;
    this.openDeadline_ = -1;
    this.password_ = undefined;
    if (socket && closeIt) this.closingSocket_ = socket;
    if (socket) socket.close();
    if (wasOpened) this.session.connectionClosed(this.platform_.now(), error);
    else this.listener_({ type: "closed", error: error || liteError("CONNECTION_LOST", "closed before it opened", { retryable: true }) });
    this.pump();
    if (!this.socket_ && !this.closingSocket_) this.closed_();
  }

  private armTimer_(): void {
    const deadline = this.session.nextDeadline();
    let next = deadline === undefined ? -1 : deadline;
    if (this.openDeadline_ >= 0 && (next < 0 || this.openDeadline_ < next)) next = this.openDeadline_;
    if (next === this.timerDeadline_) return;
    if (this.timer_ !== undefined) this.platform_.clearTimer(this.timer_);
    this.timer_ = undefined;
    this.timerDeadline_ = next;
    if (next < 0) return;
    this.timer_ = this.platform_.setTimer(Math.max(0, next - this.platform_.now()), () => {
      this.timer_ = undefined;
      this.timerDeadline_ = -1;
      const now = this.platform_.now();
      if (this.openDeadline_ >= 0 && now >= this.openDeadline_ && this.socket_ && !this.opened_) {
        this.socketGone_(liteError("CONNECT_TIMEOUT", "no connection to " + this.host_, { retryable: true }), true);
      }
      this.session.handleTimeout(now);
      this.pump();
    });
  }
}
