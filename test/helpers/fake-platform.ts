// A Platform with virtual time and in-memory sockets, so engines and flows are tested without
// the network or real waiting. The test plays the server: it accepts or refuses a socket, reads
// what the client wrote (parsed by mqtt-packet) and sends packets back.
import type { LiteError } from "../../core/errors";
import type { Platform, PlatformLimits, PlatformSocket, SocketHandlers, SocketTarget } from "../../core/platform";
import { generateWithMqttPacket, parseWithMqttPacket } from "./mqtt";
import { seededRandom } from "./random";

export class FakeSocket implements PlatformSocket {
  readonly target: SocketTarget;
  readonly written: Uint8Array[] = [];
  closedByClient = false;
  /** When set, close() only marks the socket; `closed` waits for finishClose(), as on a real link. */
  deferClose = false;
  /** When set, write() gives false: the platform holds more unsent than it wants (see drain()). */
  congested = false;
  private readonly handlers: SocketHandlers;
  private ended = false;
  private read = 0;

  constructor(target: SocketTarget, handlers: SocketHandlers) {
    this.target = target;
    this.handlers = handlers;
  }

  write(bytes: Uint8Array): boolean {
    if (this.ended) throw new Error("write after close");
    this.written.push(bytes.slice());
    return !this.congested;
  }

  /** The platform reports that it takes more again (after `congested` was set, then cleared). */
  drain(): void {
    this.congested = false;
    if (this.handlers.drained) this.handlers.drained(this);
  }

  close(): void {
    if (this.ended || this.closedByClient) return;
    this.closedByClient = true;
    if (!this.deferClose) this.end(undefined);
  }

  /** With deferClose: the platform reports the close the client asked for. */
  finishClose(): void {
    this.end(undefined);
  }

  accept(): void {
    this.handlers.connected(this);
  }

  /** Everything the client wrote since the last call, as mqtt-packet packets. */
  received(): any[] {
    const fresh = this.written.slice(this.read);
    this.read = this.written.length;
    return fresh.flatMap((bytes) => parseWithMqttPacket(bytes));
  }

  send(packet: any): void {
    this.handlers.data(generateWithMqttPacket(packet), this);
  }

  sendBytes(bytes: Uint8Array): void {
    this.handlers.data(bytes, this);
  }

  /** The server side ends the connection (with an error, as a failed socket would). */
  drop(error?: LiteError): void {
    this.end(error);
  }

  get isClosed(): boolean {
    return this.ended;
  }

  private end(error: LiteError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.closed(error, this);
  }
}

interface FakeTimer {
  id: number;
  at: number;
  fire: () => void;
}

export class FakePlatform implements Platform {
  time = 0;
  epochBase = 1_767_225_600; // 2026-01-01
  readonly sockets: FakeSocket[] = [];
  limits: PlatformLimits | undefined;
  /** When set, a longer delay fires after 1 ms, as Node's setTimeout does past 2^31 - 1 ms. */
  maxTimerMs: number | undefined;
  private timers: FakeTimer[] = [];
  private nextTimerId = 1;
  readonly random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  connect(target: SocketTarget, handlers: SocketHandlers): FakeSocket {
    const socket = new FakeSocket(target, handlers);
    this.sockets.push(socket);
    return socket;
  }

  get lastSocket(): FakeSocket {
    return this.sockets[this.sockets.length - 1];
  }

  setTimer(ms: number, fire: () => void): unknown {
    const delay = this.maxTimerMs !== undefined && ms > this.maxTimerMs ? 1 : Math.max(0, ms);
    const timer = { id: this.nextTimerId++, at: this.time + delay, fire };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  now(): number {
    return this.time;
  }

  epochSeconds(): number {
    return this.epochBase + Math.floor(this.time / 1000);
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Fires every pending timer now, time standing still: what the Espruino interpreter does when
   * the board's clock is first set (its timers count time left, and the step is taken off them),
   * while the platform's now() absorbs the step. */
  fireAllEarly(): void {
    const due = this.timers;
    this.timers = [];
    for (const timer of due) timer.fire();
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const timer of this.timers) if (timer.at <= end && (!next || timer.at < next.at)) next = timer;
      if (!next) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.time = Math.max(this.time, next.at);
      next.fire();
    }
    this.time = end;
  }

  /** Lets pending promise callbacks run (flows built on promises settle between steps). */
  async settle(): Promise<void> {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  }
}
