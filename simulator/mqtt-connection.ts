// One client's MQTT 3.1.1 connection on the server side: framing with mqtt-packet, the rules every
// MQTT server applies whatever service it plays (CONNECT first and once, PINGREQ, DISCONNECT,
// keep-alive), recording, and the ways a connection ends. What the packets mean belongs to the
// service (DPS or a hub), which attaches a ServiceSession.
import mqtt, { type IConnectPacket, type Packet } from "mqtt-packet";
import type { TLSSocket } from "node:tls";
import { withoutSecrets, type ConnectionEvent, type ConnectionRecord } from "./record";

export interface ServiceSession {
  /** The first packet, always; answer with a CONNACK (or stay silent, or close). */
  onConnect(packet: IConnectPacket): void;
  /** Every later packet except PINGREQ and DISCONNECT, which the connection answers itself. */
  onPacket(packet: Packet): void;
  /**
   * Once, when the connection ends for any reason, with record.closedBy and closeReason already set
   * (closeReason "disconnect" = the client sent DISCONNECT). May run inside a call to drop() or close().
   */
  onClose?(): void;
}

/** CONNACK return codes, MQTT 3.1.1 §3.2.2.3. */
export const ConnackCode = {
  ACCEPTED: 0,
  UNACCEPTABLE_PROTOCOL_VERSION: 1,
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

const PHASE_AWAITING_CONNECT = 0; // TLS is up, waiting for CONNECT
const PHASE_CONNECTING = 1; // CONNECT given to the service, CONNACK not sent yet
const PHASE_CONNECTED = 2; // CONNACK 0 sent
const PHASE_CLOSED = 3; // closing or closed: nothing more is read or written

/** How long a connection may stay open without sending CONNECT, unless the simulator is told
 * otherwise. Azure does not publish its figure; brokers commonly wait 10-30 s. Without any limit a
 * client that opens TLS and then hangs would hold its connection (and a test) forever. */
export const DEFAULT_CONNECT_WAIT_MS = 30_000;

/** Azure's load balancer ends idle TCP after 29.45 minutes, so its hubs wait at most 1767 s, whatever the keep-alive. */
const MAX_SERVER_KEEP_ALIVE_MS = 1767 * 1000;

export class MqttServerConnection {
  readonly record: ConnectionRecord;
  private readonly socket: TLSSocket;
  private readonly clock: () => number;
  private readonly parser = mqtt.parser({ protocolVersion: 4 });
  private session: ServiceSession | undefined;
  private phase = PHASE_AWAITING_CONNECT;
  private muted = false;
  private keepAliveSeconds = 0;
  private keepAliveTimer: ReturnType<typeof setTimeout> | undefined;
  private lastMessageId = 0;

  constructor(socket: TLSSocket, record: ConnectionRecord, clock: () => number, connectWaitMs = DEFAULT_CONNECT_WAIT_MS) {
    this.socket = socket;
    this.record = record;
    this.clock = clock;
    // The keep-alive timer's slot watches for CONNECT until it comes (receive() stops it).
    this.keepAliveTimer = setTimeout(() => this.drop("no-connect-in-time"), connectWaitMs);
    this.parser.on("packet", (packet: Packet) => this.receive(packet));
    this.parser.on("error", (error: Error) => {
      this.note("protocol-error", error.message);
      this.drop("malformed-packet");
    });
    socket.on("data", (chunk: Buffer) => {
      if (this.phase !== PHASE_CLOSED) this.parser.parse(chunk);
    });
    socket.on("end", () => this.closedByClient("end-of-stream"));
    // A reset from the client is just another way for it to leave; never let it become uncaught.
    socket.on("error", (error: Error) => this.closedByClient("socket-error: " + error.message));
    socket.on("close", () => this.settleClose());
  }

  attach(session: ServiceSession): void {
    this.session = session;
  }

  /** Sends a packet unless the connection is muted or closed. A CONNACK 0 opens the session and starts keep-alive. */
  send(packet: Packet): void {
    if (this.phase === PHASE_CLOSED || this.muted) return;
    this.record.packets.push({ atMs: this.clock(), direction: "out", packet });
    this.socket.write(mqtt.generate(packet, { protocolVersion: 4 }));
    if (packet.cmd === "connack" && packet.returnCode === ConnackCode.ACCEPTED) {
      this.phase = PHASE_CONNECTED;
      this.restartKeepAliveWatch();
    }
  }

  /** Packet ids for QoS 1 publishes the server originates: 1..65535, wrapping (MQTT-2.3.1-1 forbids 0). */
  nextMessageId(): number {
    this.lastMessageId = (this.lastMessageId % 65535) + 1;
    return this.lastMessageId;
  }

  /** From now on the server answers nothing (not even PINGREQ) but keeps reading and recording: a hung service. */
  mute(): void {
    this.muted = true;
    this.stopKeepAliveWatch();
  }

  note(kind: ConnectionEvent["kind"], detail: string): void {
    this.record.events.push({ atMs: this.clock(), kind, detail });
  }

  /** Server-side close once everything written has been flushed (TLS close_notify, then FIN). */
  close(reason: string): void {
    if (!this.beginServerClose(reason)) return;
    this.socket.end(() => this.socket.destroy());
  }

  /** Server-side close at once, discarding anything unsent: a crashed server or a broken link. */
  drop(reason: string): void {
    if (!this.beginServerClose(reason)) return;
    this.socket.destroy();
  }

  private beginServerClose(reason: string): boolean {
    if (this.phase === PHASE_CLOSED) return false;
    this.phase = PHASE_CLOSED;
    this.stopKeepAliveWatch();
    this.record.closedBy = "server";
    this.record.closeReason = reason;
    this.session?.onClose?.();
    return true;
  }

  private closedByClient(reason: string): void {
    if (this.phase === PHASE_CLOSED) return;
    this.phase = PHASE_CLOSED;
    this.stopKeepAliveWatch();
    this.record.closedBy = "client";
    this.record.closeReason = reason;
    this.socket.destroy();
    this.session?.onClose?.();
  }

  private settleClose(): void {
    this.closedByClient("socket-closed");
    if (this.record.closedAtMs === undefined) this.record.closedAtMs = this.clock();
  }

  private receive(packet: Packet): void {
    if (this.phase === PHASE_CLOSED) return;
    this.record.packets.push({ atMs: this.clock(), direction: "in", packet: withoutSecrets(packet) });
    if (this.muted) return;
    this.restartKeepAliveWatch();
    if (this.phase === PHASE_AWAITING_CONNECT) {
      // MQTT-3.1.0-1: the first packet from a client must be CONNECT.
      if (packet.cmd !== "connect" || !this.session) return this.drop("first-packet-not-connect");
      this.phase = PHASE_CONNECTING;
      this.keepAliveSeconds = packet.keepalive ?? 0;
      return this.session.onConnect(packet);
    }
    // MQTT-3.1.0-2: a second CONNECT is a protocol violation.
    if (packet.cmd === "connect") return this.drop("second-connect");
    // Packets pipelined behind a CONNECT the service has not accepted yet are not acted on.
    if (this.phase !== PHASE_CONNECTED) return;
    if (packet.cmd === "pingreq") return this.send({ cmd: "pingresp" });
    if (packet.cmd === "disconnect") return this.closedByClient("disconnect");
    if (packet.cmd === "publish") {
      // MQTT-3.3.2-2: no '#' in a PUBLISH topic (a raw '+' in a property bag is taken and flagged
      // by the hub's session, see hub-connection.ts); MQTT-2.3.1-1: a QoS 1 packet id is not 0.
      // mqtt-packet parses both.
      if (packet.topic.indexOf("#") >= 0) return this.drop("wildcard-in-publish-topic");
      if (packet.qos > 0 && !packet.messageId) return this.drop("packet-id-0");
    }
    this.session?.onPacket(packet);
  }

  /** MQTT-3.1.2-24: the server closes after 1.5 x keep-alive of silence, capped as Azure does;
   * with a keep-alive of 0 too, at the cap (Azure's load balancer ends an idle connection). */
  private restartKeepAliveWatch(): void {
    this.stopKeepAliveWatch();
    if (this.phase !== PHASE_CONNECTED) return;
    const timeoutMs = this.keepAliveSeconds === 0 ? MAX_SERVER_KEEP_ALIVE_MS : Math.min(this.keepAliveSeconds * 1500, MAX_SERVER_KEEP_ALIVE_MS);
    this.keepAliveTimer = setTimeout(() => this.drop("keep-alive-timeout"), timeoutMs);
  }

  private stopKeepAliveWatch(): void {
    if (this.keepAliveTimer !== undefined) clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
  }
}
