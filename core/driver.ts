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
  private readonly platform: Platform;
  private readonly listener: (event: SessionEvent) => void;
  private readonly connectTimeoutMs: number;
  private socket: PlatformSocket | undefined;
  /** True once the current socket is open and the session has written CONNECT on it. */
  private opened = false;
  private timer: unknown;
  private timerDeadline = -1;
  private openTimer: unknown;
  private pumping = false;
  private pumpAgain = false;

  constructor(platform: Platform, session: MqttSession, listener: (event: SessionEvent) => void, options?: DriverOptions) {
    this.platform = platform;
    this.session = session;
    this.listener = listener;
    this.connectTimeoutMs = (options && options.connectTimeoutMs) || 30000;
  }

  get socketOpen(): boolean {
    return this.socket !== undefined;
  }

  /** Opens a socket to `target`; CONNECT (with `password`) goes out once it is open. */
  open(target: SocketTarget, password?: string): void {
    if (this.socket) throw liteError("ALREADY_CONNECTED", "a connection is already open");
    const platform = this.platform;
    let socket: PlatformSocket | undefined;
    const current = () => socket !== undefined && socket === this.socket;
    this.openTimer = platform.setTimer(this.connectTimeoutMs, () => {
      this.openTimer = undefined;
      if (current() && !this.opened) this.socketGone(liteError("CONNECT_TIMEOUT", "no connection to " + target.host + " in time", { retryable: true }));
    });
    this.opened = false;
    socket = this.socket = platform.connect(target, {
      connected: () => {
        if (!current()) return;
        this.clearOpenTimer();
        this.opened = true;
        this.session.connectionOpened(platform.now(), password);
        this.pump();
      },
      data: (bytes) => {
        if (!current()) return;
        this.session.receive(bytes, platform.now());
        this.pump();
      },
      closed: (error) => {
        if (current()) this.socketGone(error);
      },
    });
  }

  /** Ends the connection cleanly (DISCONNECT); `failure` also fails every queued publish. */
  close(failure?: LiteError): void {
    const unopened = !this.opened ? this.socket : undefined;
    if (unopened) {
      this.socket = undefined;
      this.clearOpenTimer();
      unopened.close();
      this.listener({ type: "closed" });
    }
    this.session.disconnect(failure);
    this.pump();
  }

  /** Runs after a command was given to the session directly (publish, subscribe, ...). */
  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        // Events first: an inbound QoS 1 message reaches the application before its PUBACK.
        for (let event = this.session.pollEvent(); event; event = this.session.pollEvent()) {
          if (event.type === "closed") this.hangUp();
          this.listener(event);
        }
        this.flush();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
    this.armTimer();
  }

  private flush(): void {
    for (let bytes = this.session.pollTransmit(); bytes; bytes = this.session.pollTransmit()) {
      if (this.socket) this.socket.write(bytes);
    }
  }

  /** The session ended the connection: write what it still has (DISCONNECT), close the socket. */
  private hangUp(): void {
    const socket = this.socket;
    if (!socket) return;
    this.flush();
    this.socket = undefined;
    this.clearOpenTimer();
    socket.close();
  }

  /** The socket closed on its own (or never opened): tell the session, or say so directly. */
  private socketGone(error: LiteError | undefined): void {
    const socket = this.socket;
    const wasOpened = this.opened;
    this.socket = undefined;
    this.opened = false;
    this.clearOpenTimer();
    if (socket) socket.close();
    if (wasOpened) this.session.connectionClosed(this.platform.now(), error);
    else this.listener({ type: "closed", error: error || liteError("CONNECTION_LOST", "the connection closed before it opened", { retryable: true }) });
    this.pump();
  }

  private clearOpenTimer(): void {
    if (this.openTimer !== undefined) this.platform.clearTimer(this.openTimer);
    this.openTimer = undefined;
  }

  private armTimer(): void {
    const deadline = this.session.nextDeadline();
    const next = deadline === undefined ? -1 : deadline;
    if (next === this.timerDeadline) return;
    if (this.timer !== undefined) this.platform.clearTimer(this.timer);
    this.timer = undefined;
    this.timerDeadline = next;
    if (next < 0) return;
    this.timer = this.platform.setTimer(Math.max(0, next - this.platform.now()), () => {
      this.timer = undefined;
      this.timerDeadline = -1;
      this.session.handleTimeout(this.platform.now());
      this.pump();
    });
  }
}
