// The MQTT 3.1.1 client session as a state machine that performs no IO and reads no clock:
// bytes, socket open/close and time go in; bytes to write, events and the next deadline come out
// (see core/driver.ts for the loop that binds it to a socket). One MqttSession lives across
// connections, as MQTT sessions do (4.1): unacknowledged QoS 1 publishes are re-sent with DUP on
// the next connection, and the bounded offline queue keeps publishes made while disconnected.
// Blame decides the channel: misuse of a command throws at once; anything the peer, the link or
// time did arrives as an event. receive() and handleTimeout() never throw.
import { liteError, type LiteError } from "./errors";
import { MqttDecoder } from "./mqtt-decode";
import { encodeConnect, encodeDisconnect, encodePingreq, encodePuback, encodePublish, encodeSubscribe, encodeUnsubscribe } from "./mqtt-encode";
import { SUBACK_FAILURE, type MqttPacket, type PublishPacket, type QoS, type Subscription, type WillMessage } from "./mqtt-packets";

export interface SessionOptions {
  clientId: string;
  username?: string;
  /** CleanSession flag (3.1.2.4). Default true. */
  clean?: boolean;
  /** Keep-alive in seconds; 0 turns it off. Default 60. */
  keepAliveSeconds?: number;
  will?: WillMessage;
  /** How long to wait for CONNACK, SUBACK, UNSUBACK, PUBACK and PINGRESP. Default 30,000 ms. */
  ackTimeoutMs?: number;
  /** Largest inbound packet accepted. Default: a 256 KB Azure message plus headers. */
  maxPacketBytes?: number;
  /** QoS 1 publishes sent but not yet acknowledged, at most. Default 16. */
  maxInflight?: number;
  /** Publishes waiting (offline, over the inflight window, or unacknowledged), at most. Default 100. */
  maxQueuedMessages?: number;
  /** Bytes of those publishes, at most. Default 1 MiB. */
  maxQueuedBytes?: number;
}

export type SessionEvent =
  | { type: "connected"; sessionPresent: boolean }
  | { type: "message"; packet: PublishPacket }
  | { type: "published"; id: number }
  | { type: "publishFailed"; id: number; error: LiteError }
  | { type: "subscribed"; id: number; granted: number[] }
  /** A SUBSCRIBE (or UNSUBSCRIBE) was refused (SUBACK 0x80), timed out, or lost with the link. */
  | { type: "subscribeFailed"; id: number; error: LiteError }
  | { type: "unsubscribed"; id: number }
  /** The connection is over (error absent: a clean DISCONNECT); the driver closes the socket. */
  | { type: "closed"; error?: LiteError };

interface QueuedPublish {
  /** Packet id for QoS 1; for QoS 0 a local id (negative) so every publish can be settled by id. */
  id: number;
  qos: QoS;
  bytes: Uint8Array;
  /** PUBACK deadline while sent on the current connection; -1 while waiting to be sent. */
  deadline: number;
}

interface PendingAck {
  id: number;
  deadline: number;
  subscribe: boolean;
  topics: string[];
}

// Connection states.
const IDLE = 0; // no connection: waiting for connectionOpened
const CONNECTING = 1; // CONNECT written, waiting for CONNACK
const CONNECTED = 2; // CONNACK accepted: publishes flow

// CONNACK return codes 1-5 (3.2.2.3), each with its own stable code.
const REFUSALS = ["", "CONNECT_REFUSED_PROTOCOL", "CONNECT_REFUSED_IDENTIFIER", "CONNECT_REFUSED_UNAVAILABLE", "CONNECT_REFUSED_BAD_CREDENTIALS", "CONNECT_REFUSED_NOT_AUTHORIZED"];

function connectionLost(): LiteError {
  return liteError("CONNECTION_LOST", "the connection closed", { retryable: true });
}

function timeoutError(what: string): LiteError {
  return liteError(what + "_TIMEOUT", "no " + what + " in time", { retryable: true });
}

export class MqttSession {
  private readonly options: SessionOptions;
  private readonly keepAliveMs: number;
  private readonly ackTimeoutMs: number;
  private decoder: MqttDecoder | undefined;
  private state = IDLE;
  private outbox: Uint8Array[] = [];
  private events: SessionEvent[] = [];
  /** Publishes in order: sent-and-unacknowledged first, then waiting. */
  private queue: QueuedPublish[] = [];
  private queuedBytes = 0;
  private acks: PendingAck[] = [];
  private idsInUse: { [id: number]: boolean } = {};
  private lastPacketId = 0;
  private lastLocalId = 0;
  private connackDeadline = -1;
  private lastSentAt = 0;
  private lastReceivedAt = 0;
  private pingDeadline = -1;
  private now = 0;

  constructor(options: SessionOptions) {
    this.options = options;
    const keepAlive = options.keepAliveSeconds === undefined ? 60 : options.keepAliveSeconds;
    this.keepAliveMs = keepAlive * 1000;
    this.ackTimeoutMs = options.ackTimeoutMs || 30000;
    // Validate every CONNECT field now, so bad options throw here rather than on the first connection.
    encodeConnect(this.connectPacket(undefined));
  }

  get connected(): boolean {
    return this.state === CONNECTED;
  }

  /** Number of publishes queued or awaiting PUBACK. */
  get queuedMessages(): number {
    return this.queue.length;
  }

  private connectPacket(password: string | undefined) {
    const options = this.options;
    return {
      cmd: "connect" as const,
      clientId: options.clientId,
      username: options.username,
      password,
      clean: options.clean !== false,
      keepalive: this.keepAliveMs / 1000,
      will: options.will,
    };
  }

  // ---- inputs -------------------------------------------------------------------------------

  /** The socket is open: writes CONNECT (with this connection's password, e.g. a fresh SAS). */
  connectionOpened(now: number, password?: string): void {
    this.now = now;
    if (this.state !== IDLE) this.connectionClosed(now);
    // Each connection gets its own decoder: a packet half-read on the old one is void.
    this.decoder = new MqttDecoder((packet) => this.handlePacket(packet), { maxPacketBytes: this.options.maxPacketBytes });
    this.state = CONNECTING;
    this.connackDeadline = now + this.ackTimeoutMs;
    this.lastReceivedAt = now;
    try {
      this.send(encodeConnect(this.connectPacket(password)));
    } catch (error) {
      // Only the password is new here (the rest was checked at construction): a bad one ends
      // this connection as an event, since inputs never throw.
      this.close(error as LiteError);
    }
  }

  receive(bytes: Uint8Array, now: number): void {
    this.now = now;
    if (this.state === IDLE) return;
    this.lastReceivedAt = now;
    const error = (this.decoder as MqttDecoder).push(bytes);
    if (error) this.close(error);
  }

  /** The socket closed (EOF, error, or after the driver closed it); `error` says why, if known. */
  connectionClosed(now: number, error?: LiteError): void {
    this.now = now;
    if (this.state !== IDLE) this.close(error || connectionLost());
  }

  /** Acts on every deadline that has passed; calling it early does nothing. */
  handleTimeout(now: number): void {
    this.now = now;
    if (this.state === IDLE) return;
    if (this.state === CONNECTING) {
      if (now >= this.connackDeadline) this.close(timeoutError("CONNACK"));
      return;
    }
    if (this.pingDeadline >= 0 && now >= this.pingDeadline) {
      this.close(timeoutError("PINGRESP"));
      return;
    }
    if (this.pingDeadline < 0 && this.keepAliveMs > 0 && now >= this.nextPingAt()) {
      this.send(encodePingreq());
      this.pingDeadline = now + this.ackTimeoutMs;
    }
    for (let i = 0; i < this.queue.length; i++) {
      const entry = this.queue[i];
      if (entry.deadline >= 0 && now >= entry.deadline) {
        this.removeAt(i--);
        this.events.push({ type: "publishFailed", id: entry.id, error: timeoutError("PUBACK") });
      }
    }
    for (let i = 0; i < this.acks.length; i++) {
      const ack = this.acks[i];
      if (now >= ack.deadline) {
        this.acks.splice(i--, 1);
        delete this.idsInUse[ack.id];
        const error = timeoutError(ack.subscribe ? "SUBACK" : "UNSUBACK");
        this.events.push({ type: "subscribeFailed", id: ack.id, error });
      }
    }
    this.flushQueue();
  }

  // ---- commands (throw on misuse) -----------------------------------------------------------

  /**
   * Queues a PUBLISH; returns the id its `published` / `publishFailed` event will carry (the
   * packet id for QoS 1). Sent at once when connected and the inflight window has room,
   * otherwise kept in the bounded queue. Throws QUEUE_FULL when the queue is at its bounds.
   */
  publish(topic: string, payload: Uint8Array | string, qos: QoS, retain?: boolean): number {
    const options = this.options;
    if (this.queue.length >= (options.maxQueuedMessages || 100)) {
      throw liteError("QUEUE_FULL", "the publish queue holds its maximum of " + this.queue.length + " messages");
    }
    const id = qos > 0 ? this.nextPacketId() : --this.lastLocalId;
    const bytes = encodePublish({ cmd: "publish", topic, payload, qos, dup: false, retain: !!retain, messageId: qos > 0 ? id : undefined });
    const maxBytes = options.maxQueuedBytes || 1048576;
    if (this.queuedBytes + bytes.length > maxBytes) {
      throw liteError("QUEUE_FULL", "the publish queue would exceed its " + maxBytes + "-byte limit");
    }
    if (qos > 0) this.idsInUse[id] = true;
    this.queue.push({ id, qos, bytes, deadline: -1 });
    this.queuedBytes += bytes.length;
    this.flushQueue();
    return id;
  }

  /** Sends SUBSCRIBE when connected (throws NOT_CONNECTED otherwise); returns its packet id. */
  subscribe(subscriptions: Subscription[]): number {
    const topics: string[] = [];
    for (let i = 0; i < subscriptions.length; i++) topics.push(subscriptions[i].topic);
    return this.request(true, topics, (id) => encodeSubscribe({ cmd: "subscribe", messageId: id, subscriptions }));
  }

  unsubscribe(topics: string[]): number {
    return this.request(false, topics, (id) => encodeUnsubscribe({ cmd: "unsubscribe", messageId: id, unsubscriptions: topics }));
  }

  private request(subscribe: boolean, topics: string[], encode: (id: number) => Uint8Array): number {
    if (this.state !== CONNECTED) throw liteError("NOT_CONNECTED", "not connected");
    const id = this.nextPacketId();
    const bytes = encode(id);
    this.idsInUse[id] = true;
    this.acks.push({ id, deadline: this.now + this.ackTimeoutMs, subscribe, topics });
    this.send(bytes);
    return id;
  }

  /**
   * Ends the current connection: DISCONNECT if connected, then a `closed` event. Queued publishes
   * stay for the next connection unless `failure` is given, which fails every one of them.
   */
  disconnect(failure?: LiteError): void {
    if (this.state === CONNECTED) this.send(encodeDisconnect());
    if (this.state !== IDLE) this.close(undefined);
    if (failure) {
      while (this.queue.length) {
        const entry = this.queue[0];
        this.removeAt(0);
        this.events.push({ type: "publishFailed", id: entry.id, error: failure });
      }
    }
  }

  // ---- outputs ------------------------------------------------------------------------------

  pollTransmit(): Uint8Array | undefined {
    return this.outbox.shift();
  }

  pollEvent(): SessionEvent | undefined {
    return this.events.shift();
  }

  /** When handleTimeout is next due, or undefined when nothing is waiting on time. */
  nextDeadline(): number | undefined {
    if (this.state === IDLE) return undefined;
    if (this.state === CONNECTING) return this.connackDeadline;
    let next = this.pingDeadline >= 0 ? this.pingDeadline : this.keepAliveMs > 0 ? this.nextPingAt() : -1;
    for (let i = 0; i < this.queue.length; i++) {
      const deadline = this.queue[i].deadline;
      if (deadline >= 0 && (next < 0 || deadline < next)) next = deadline;
    }
    for (let i = 0; i < this.acks.length; i++) if (next < 0 || this.acks[i].deadline < next) next = this.acks[i].deadline;
    return next < 0 ? undefined : next;
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Keep-alive (3.1.2.10): a PINGREQ when nothing was sent, or nothing heard, for a whole
   * keep-alive period; silence from the server is how a dead link shows itself. */
  private nextPingAt(): number {
    return Math.min(this.lastSentAt, this.lastReceivedAt) + this.keepAliveMs;
  }

  private send(bytes: Uint8Array): void {
    this.outbox.push(bytes);
    this.lastSentAt = this.now;
  }

  private nextPacketId(): number {
    // 2.3.1: ids 1-65535, wrapping, skipping those still in use.
    for (let tries = 0; tries < 65535; tries++) {
      this.lastPacketId = (this.lastPacketId % 65535) + 1;
      if (!this.idsInUse[this.lastPacketId]) return this.lastPacketId;
    }
    throw liteError("QUEUE_FULL", "all 65,535 packet ids are in use");
  }

  private removeAt(index: number): void {
    const entry = this.queue[index];
    this.queue.splice(index, 1);
    this.queuedBytes -= entry.bytes.length;
    if (entry.qos > 0) delete this.idsInUse[entry.id];
  }

  /** Sends waiting publishes while connected and the inflight window has room. */
  private flushQueue(): void {
    if (this.state !== CONNECTED) return;
    let inflight = 0;
    const maxInflight = this.options.maxInflight || 16;
    for (let i = 0; i < this.queue.length; i++) {
      const entry = this.queue[i];
      if (entry.deadline >= 0) {
        inflight++;
        continue;
      }
      if (entry.qos > 0 && inflight >= maxInflight) break;
      this.send(entry.bytes);
      if (entry.qos === 0) {
        this.removeAt(i--);
        this.events.push({ type: "published", id: entry.id });
      } else {
        entry.deadline = this.now + this.ackTimeoutMs;
        inflight++;
      }
    }
  }

  /** Ends the current connection with `error` (undefined: a clean close) and resets its state. */
  private close(error: LiteError | undefined): void {
    this.state = IDLE;
    this.pingDeadline = -1;
    // 4.4: publishes sent but not acknowledged go again on the next connection, flagged DUP.
    for (let i = 0; i < this.queue.length; i++) {
      const entry = this.queue[i];
      if (entry.deadline >= 0) {
        entry.deadline = -1;
        entry.bytes[0] |= 0x08;
      }
    }
    const lost = error || connectionLost();
    while (this.acks.length) {
      const ack = this.acks.shift() as PendingAck;
      delete this.idsInUse[ack.id];
      this.events.push({ type: "subscribeFailed", id: ack.id, error: lost });
    }
    this.events.push({ type: "closed", error });
  }

  private protocolError(message: string): void {
    this.close(liteError("MQTT_PROTOCOL_ERROR", message));
  }

  private handlePacket(packet: MqttPacket): void {
    if (this.state === IDLE) return; // a packet after the connection was failed in the same chunk
    this.pingDeadline = -1; // any packet proves the link alive
    if (this.state === CONNECTING) {
      if (packet.cmd !== "connack") return this.protocolError("expected CONNACK, got " + packet.cmd);
      if (packet.returnCode !== 0) {
        const code = packet.returnCode;
        return this.close(liteError(REFUSALS[code], "the server refused the connection (CONNACK " + code + ")", { status: code, retryable: code === 3 }));
      }
      this.state = CONNECTED;
      this.events.push({ type: "connected", sessionPresent: packet.sessionPresent });
      this.flushQueue();
      return;
    }
    switch (packet.cmd) {
      case "publish":
        // 3.8.4: we subscribe with QoS 0 or 1 only, so a QoS 2 delivery breaks the protocol.
        if (packet.qos === 2) return this.protocolError("received a QoS 2 PUBLISH");
        this.events.push({ type: "message", packet });
        if (packet.qos === 1) this.send(encodePuback(packet.messageId as number));
        return;
      case "puback":
        for (let i = 0; i < this.queue.length; i++) {
          const entry = this.queue[i];
          if (entry.id === packet.messageId && entry.deadline >= 0) {
            this.removeAt(i);
            this.events.push({ type: "published", id: entry.id });
            this.flushQueue();
            return;
          }
        }
        return; // a late PUBACK for a publish that already timed out: nothing to settle
      case "suback":
      case "unsuback":
        return this.settleAck(packet.messageId, packet.cmd === "suback" ? packet.granted : undefined);
      case "pingresp":
        return;
    }
    this.protocolError("unexpected " + packet.cmd);
  }

  private settleAck(id: number, granted: number[] | undefined): void {
    for (let i = 0; i < this.acks.length; i++) {
      const ack = this.acks[i];
      if (ack.id !== id) continue;
      this.acks.splice(i, 1);
      delete this.idsInUse[id];
      if (!granted) {
        if (ack.subscribe) return this.protocolError("UNSUBACK for SUBSCRIBE " + id);
        this.events.push({ type: "unsubscribed", id });
        return;
      }
      let error: LiteError | undefined;
      if (!ack.subscribe || granted.length !== ack.topics.length) {
        error = liteError("MQTT_PROTOCOL_ERROR", "SUBACK does not match request " + id);
      } else if (granted.indexOf(SUBACK_FAILURE) >= 0) {
        error = liteError("SUBSCRIBE_REFUSED", "the server refused the subscription to " + ack.topics[granted.indexOf(SUBACK_FAILURE)]);
      }
      if (!error) return void this.events.push({ type: "subscribed", id, granted });
      this.events.push({ type: "subscribeFailed", id, error });
      if (error.code === "MQTT_PROTOCOL_ERROR") this.close(error);
      return;
    }
  }
}
