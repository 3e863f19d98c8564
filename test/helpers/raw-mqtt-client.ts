// A deliberately dumb MQTT client for tests that drive the simulator (or any server) packet by
// packet over real TLS: node:tls plus mqtt-packet, no session logic, no retries. It sends exactly
// what a test builds and hands back every packet in arrival order.
import mqtt, { type Packet } from "mqtt-packet";
import { connect, type TLSSocket } from "node:tls";

export interface RawClientOptions {
  port: number;
  /** Address to dial; default 127.0.0.1. */
  host?: string;
  /** SNI and the name the server certificate must match; leave out to send no SNI (dialling an IP). */
  servername?: string;
  /** PEM of the CA to trust. */
  ca: string;
  /** Client certificate and key (PEM), for X.509 attestation. */
  cert?: string;
  key?: string;
}

interface Waiter {
  resolve: (packet: Packet) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const DEFAULT_WAIT_MS = 2000;

export class RawMqttClient {
  /** Resolves when the server has closed the connection (or it failed). */
  readonly closed: Promise<void>;
  private readonly socket: TLSSocket;
  private readonly parser = mqtt.parser({ protocolVersion: 4 });
  private readonly received: Packet[] = [];
  private readonly waiters: Waiter[] = [];
  private isClosed = false;

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    this.parser.on("packet", (packet: Packet) => {
      const waiter = this.waiters.shift();
      if (!waiter) return void this.received.push(packet);
      clearTimeout(waiter.timer);
      waiter.resolve(packet);
    });
    this.parser.on("error", (error: Error) => this.socket.destroy(error));
    socket.on("data", (chunk: Buffer) => this.parser.parse(chunk));
    this.closed = new Promise((resolve) => {
      socket.on("close", () => {
        this.isClosed = true;
        for (const waiter of this.waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error("connection closed while waiting for a packet"));
        }
        resolve();
      });
    });
  }

  /** Opens TLS; rejects with the TLS error (e.g. an untrusted server certificate). */
  static open(options: RawClientOptions): Promise<RawMqttClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: options.host ?? "127.0.0.1",
        port: options.port,
        servername: options.servername,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        minVersion: "TLSv1.2",
      });
      socket.setNoDelay(true); // small packets: Nagle plus delayed ACKs would add ~40 ms per exchange
      const client = new RawMqttClient(socket);
      const fail = (error: Error) => reject(error);
      socket.once("error", fail);
      socket.once("secureConnect", () => {
        socket.off("error", fail);
        socket.on("error", () => undefined); // a reset later shows up as `closed`
        resolve(client);
      });
    });
  }

  send(packet: Packet): void {
    this.socket.write(mqtt.generate(packet, { protocolVersion: 4 }));
  }

  /** Writes bytes as they are, for packets mqtt-packet would refuse to generate. */
  sendBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next packet from the server; rejects on timeout or when the connection closes first. */
  next(timeoutMs = DEFAULT_WAIT_MS): Promise<Packet> {
    const queued = this.received.shift();
    if (queued) return Promise.resolve(queued);
    if (this.isClosed) return Promise.reject(new Error("connection is closed"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no packet within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = { resolve, reject, timer };
      this.waiters.push(waiter);
    });
  }

  /** The next packet, which must be of this type. */
  async expect<C extends Packet["cmd"]>(cmd: C, timeoutMs = DEFAULT_WAIT_MS): Promise<Extract<Packet, { cmd: C }>> {
    const packet = await this.next(timeoutMs);
    if (packet.cmd !== cmd) throw new Error(`expected ${cmd}, got ${packet.cmd}`);
    return packet as Extract<Packet, { cmd: C }>;
  }

  /** True when nothing arrives and the connection stays open for `ms`. */
  async staysQuiet(ms: number): Promise<boolean> {
    try {
      await this.next(ms);
      return false;
    } catch {
      return !this.isClosed;
    }
  }

  /** Resolves true if the server closes the connection within `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Closes from the client side (TLS close_notify, then FIN). */
  end(): Promise<void> {
    this.socket.end();
    return this.closed;
  }
}
