// Binds an MqttSession to a platform socket and a single timer. After every input (bytes, socket
// open/close, the timer, a command) it delivers the session's events, writes what the session
// wants written, and re-arms its one timer to the session's next deadline. All IO goes through
// the Platform, so this lives in core and is tested against a fake platform with virtual time.
import { liteError, type LiteError } from "./errors";
import type { Platform, PlatformSocket, SocketTarget } from "./platform";
import type { MqttSession, SessionEvent } from "./session";

export interface DriverOptions {
  /** How long the socket (TCP + TLS) may take to open. Default 30,000 ms. */
  connectTimeoutMs?: number;
}

export class SessionDriver {
  readonly session: MqttSession;
  private readonly platform_: Platform;
  private readonly listener_: (event: SessionEvent) => void;
  private readonly connectTimeoutMs_: number;
  private socket_: PlatformSocket | undefined;
  /** True once the current socket is open and the session has written CONNECT on it. */
  private opened_ = false;
  private timer_: unknown;
  private timerDeadline_ = -1;
  private openTimer_: unknown;
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
    const platform = this.platform_;
    let socket: PlatformSocket | undefined;
    const current = () => socket !== undefined && socket === this.socket_;
    this.openTimer_ = platform.setTimer(this.connectTimeoutMs_, () => {
      this.openTimer_ = undefined;
      if (current() && !this.opened_) this.socketGone_(liteError("CONNECT_TIMEOUT", "no connection to " + target.host, { retryable: true }), true);
    });
    this.opened_ = false;
    socket = this.socket_ = platform.connect(target, {
      connected: () => {
        if (!current()) return;
        this.clearOpenTimer_();
        this.opened_ = true;
        this.session.connectionOpened(platform.now(), password);
        // The token is in CONNECT now; nothing keeps it for the socket's lifetime.
        password = undefined;
        this.pump();
      },
      data: (bytes) => {
        if (!current()) return;
        this.session.receive(bytes, platform.now());
        this.pump();
      },
      closed: (error) => {
        if (current()) this.socketGone_(error, false);
        else if (socket === this.closingSocket_) this.closed_();
      },
    });
  }

  /** Ends the connection cleanly (DISCONNECT); `failure` also fails every queued publish. */
  close(failure?: LiteError): void {
    const unopened = !this.opened_ ? this.socket_ : undefined;
    if (unopened) {
      this.socket_ = undefined;
      this.closingSocket_ = unopened;
      this.clearOpenTimer_();
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
      if (this.socket_) this.socket_.write(bytes);
    }
  }

  /** The session ended the connection: write what it still has (DISCONNECT), close the socket. */
  private hangUp_(): void {
    const socket = this.socket_;
    if (!socket) return;
    this.flush_();
    this.socket_ = undefined;
    this.closingSocket_ = socket;
    this.clearOpenTimer_();
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
    this.clearOpenTimer_();
    if (socket && closeIt) this.closingSocket_ = socket;
    if (socket) socket.close();
    if (wasOpened) this.session.connectionClosed(this.platform_.now(), error);
    else this.listener_({ type: "closed", error: error || liteError("CONNECTION_LOST", "closed before it opened", { retryable: true }) });
    this.pump();
    if (!this.socket_ && !this.closingSocket_) this.closed_();
  }

  private clearOpenTimer_(): void {
    if (this.openTimer_ !== undefined) this.platform_.clearTimer(this.openTimer_);
    this.openTimer_ = undefined;
  }

  private armTimer_(): void {
    const deadline = this.session.nextDeadline();
    const next = deadline === undefined ? -1 : deadline;
    if (next === this.timerDeadline_) return;
    if (this.timer_ !== undefined) this.platform_.clearTimer(this.timer_);
    this.timer_ = undefined;
    this.timerDeadline_ = next;
    if (next < 0) return;
    this.timer_ = this.platform_.setTimer(Math.max(0, next - this.platform_.now()), () => {
      this.timer_ = undefined;
      this.timerDeadline_ = -1;
      this.session.handleTimeout(this.platform_.now());
      this.pump();
    });
  }
}
