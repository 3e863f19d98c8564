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
  private readonly options_: SessionOptions;
  private readonly keepAliveMs_: number;
  private readonly ackTimeoutMs_: number;
  private decoder_: MqttDecoder | undefined;
  private state_ = IDLE;
  private outbox_: Uint8Array[] = [];
  private events_: SessionEvent[] = [];
  /** Publishes in order: sent-and-unacknowledged first, then waiting. */
  private queue_: QueuedPublish[] = [];
  private queuedBytes_ = 0;
  private acks_: PendingAck[] = [];
  private idsInUse_: { [id: number]: boolean } = {};
  private lastPacketId_ = 0;
  private lastLocalId_ = 0;
  private connackDeadline_ = -1;
  private lastSentAt_ = 0;
  private lastReceivedAt_ = 0;
  private pingDeadline_ = -1;
  private now_ = 0;

  constructor(options: SessionOptions) {
    this.options_ = options;
    const keepAlive = options.keepAliveSeconds === undefined ? 60 : options.keepAliveSeconds;
    this.keepAliveMs_ = keepAlive * 1000;
    this.ackTimeoutMs_ = options.ackTimeoutMs || 30000;
    // Validate every CONNECT field now, so bad options throw here rather than on the first connection.
    encodeConnect(this.connectPacket_(undefined));
  }

  get connected(): boolean {
    return this.state_ === CONNECTED;
  }

  /** Number of publishes queued or awaiting PUBACK. */
  get queuedMessages(): number {
    return this.queue_.length;
  }

  private connectPacket_(password: string | undefined) {
    const options = this.options_;
    return {
      cmd: "connect" as const,
      clientId: options.clientId,
      username: options.username,
      password,
      clean: options.clean !== false,
      keepalive: this.keepAliveMs_ / 1000,
      will: options.will,
    };
  }

  // ---- inputs -------------------------------------------------------------------------------

  /** The socket is open: writes CONNECT (with this connection's password, e.g. a fresh SAS). */
  connectionOpened(now: number, password?: string): void {
    this.now_ = now;
    if (this.state_ !== IDLE) this.connectionClosed(now);
    // Each connection gets its own decoder: a packet half-read on the old one is void.
    this.decoder_ = new MqttDecoder((packet) => this.handlePacket_(packet), { maxPacketBytes: this.options_.maxPacketBytes });
    this.state_ = CONNECTING;
    this.connackDeadline_ = now + this.ackTimeoutMs_;
    this.lastReceivedAt_ = now;
    try {
      this.send_(encodeConnect(this.connectPacket_(password)));
    } catch (error) {
      // Only the password is new here (the rest was checked at construction): a bad one ends
      // this connection as an event, since inputs never throw.
      this.close_(error as LiteError);
    }
  }

  receive(bytes: Uint8Array, now: number): void {
    this.now_ = now;
    if (this.state_ === IDLE) return;
    this.lastReceivedAt_ = now;
    const error = (this.decoder_ as MqttDecoder).push(bytes);
    if (error) this.close_(error);
  }

  /** The socket closed (EOF, error, or after the driver closed it); `error` says why, if known. */
  connectionClosed(now: number, error?: LiteError): void {
    this.now_ = now;
    if (this.state_ !== IDLE) this.close_(error || connectionLost());
  }

  /** Acts on every deadline that has passed; calling it early does nothing. */
  handleTimeout(now: number): void {
    this.now_ = now;
    if (this.state_ === IDLE) return;
    if (this.state_ === CONNECTING) {
      if (now >= this.connackDeadline_) this.close_(timeoutError("CONNACK"));
      return;
    }
    if (this.pingDeadline_ >= 0 && now >= this.pingDeadline_) {
      this.close_(timeoutError("PINGRESP"));
      return;
    }
    if (this.pingDeadline_ < 0 && this.keepAliveMs_ > 0 && now >= this.nextPingAt_()) {
      this.send_(encodePingreq());
      this.pingDeadline_ = now + this.ackTimeoutMs_;
    }
    for (let i = 0; i < this.queue_.length; i++) {
      const entry = this.queue_[i];
      if (entry.deadline >= 0 && now >= entry.deadline) {
        this.removeAt_(i--);
        this.events_.push({ type: "publishFailed", id: entry.id, error: timeoutError("PUBACK") });
      }
    }
    for (let i = 0; i < this.acks_.length; i++) {
      const ack = this.acks_[i];
      if (now >= ack.deadline) {
        this.acks_.splice(i--, 1);
        delete this.idsInUse_[ack.id];
        const error = timeoutError(ack.subscribe ? "SUBACK" : "UNSUBACK");
        this.events_.push({ type: "subscribeFailed", id: ack.id, error });
      }
    }
    this.flushQueue_();
  }

  // ---- commands (throw on misuse) -----------------------------------------------------------

  /**
   * Queues a PUBLISH; returns the id its `published` / `publishFailed` event will carry (the
   * packet id for QoS 1). Sent at once when connected and the inflight window has room,
   * otherwise kept in the bounded queue. Throws QUEUE_FULL when the queue is at its bounds.
   */
  publish(topic: string, payload: Uint8Array | string, qos: QoS, retain?: boolean): number {
    const options = this.options_;
    if (this.queue_.length >= (options.maxQueuedMessages || 100)) {
      throw liteError("QUEUE_FULL", "the publish queue holds its maximum of " + this.queue_.length + " messages");
    }
    const id = qos > 0 ? this.nextPacketId_() : --this.lastLocalId_;
    const bytes = encodePublish({ cmd: "publish", topic, payload, qos, dup: false, retain: !!retain, messageId: qos > 0 ? id : undefined });
    const maxBytes = options.maxQueuedBytes || 1048576;
    if (this.queuedBytes_ + bytes.length > maxBytes) {
      throw liteError("QUEUE_FULL", "the publish queue would exceed its " + maxBytes + "-byte limit");
    }
    if (qos > 0) this.idsInUse_[id] = true;
    this.queue_.push({ id, qos, bytes, deadline: -1 });
    this.queuedBytes_ += bytes.length;
    this.flushQueue_();
    return id;
  }

  /** Sends SUBSCRIBE when connected (throws NOT_CONNECTED otherwise); returns its packet id. */
  subscribe(subscriptions: Subscription[]): number {
    const topics: string[] = [];
    for (let i = 0; i < subscriptions.length; i++) topics.push(subscriptions[i].topic);
    return this.request_(true, topics, (id) => encodeSubscribe({ cmd: "subscribe", messageId: id, subscriptions }));
  }

  unsubscribe(topics: string[]): number {
    return this.request_(false, topics, (id) => encodeUnsubscribe({ cmd: "unsubscribe", messageId: id, unsubscriptions: topics }));
  }

  private request_(subscribe: boolean, topics: string[], encode: (id: number) => Uint8Array): number {
    if (this.state_ !== CONNECTED) throw liteError("NOT_CONNECTED", "not connected");
    const id = this.nextPacketId_();
    const bytes = encode(id);
    this.idsInUse_[id] = true;
    this.acks_.push({ id, deadline: this.now_ + this.ackTimeoutMs_, subscribe, topics });
    this.send_(bytes);
    return id;
  }

  /**
   * Ends the current connection: DISCONNECT if connected, then a `closed` event. Queued publishes
   * stay for the next connection unless `failure` is given, which fails every one of them.
   */
  disconnect(failure?: LiteError): void {
    if (this.state_ === CONNECTED) this.send_(encodeDisconnect());
    if (this.state_ !== IDLE) this.close_(undefined);
    if (failure) {
      while (this.queue_.length) {
        const entry = this.queue_[0];
        this.removeAt_(0);
        this.events_.push({ type: "publishFailed", id: entry.id, error: failure });
      }
    }
  }

  // ---- outputs ------------------------------------------------------------------------------

  pollTransmit(): Uint8Array | undefined {
    return this.outbox_.shift();
  }

  pollEvent(): SessionEvent | undefined {
    return this.events_.shift();
  }

  /** When handleTimeout is next due, or undefined when nothing is waiting on time. */
  nextDeadline(): number | undefined {
    if (this.state_ === IDLE) return undefined;
    if (this.state_ === CONNECTING) return this.connackDeadline_;
    let next = this.pingDeadline_ >= 0 ? this.pingDeadline_ : this.keepAliveMs_ > 0 ? this.nextPingAt_() : -1;
    for (let i = 0; i < this.queue_.length; i++) {
      const deadline = this.queue_[i].deadline;
      if (deadline >= 0 && (next < 0 || deadline < next)) next = deadline;
    }
    for (let i = 0; i < this.acks_.length; i++) if (next < 0 || this.acks_[i].deadline < next) next = this.acks_[i].deadline;
    return next < 0 ? undefined : next;
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Keep-alive (3.1.2.10): a PINGREQ when nothing was sent, or nothing heard, for a whole
   * keep-alive period; silence from the server is how a dead link shows itself. */
  private nextPingAt_(): number {
    return Math.min(this.lastSentAt_, this.lastReceivedAt_) + this.keepAliveMs_;
  }

  private send_(bytes: Uint8Array): void {
    this.outbox_.push(bytes);
    this.lastSentAt_ = this.now_;
  }

  private nextPacketId_(): number {
    // 2.3.1: ids 1-65535, wrapping, skipping those still in use.
    for (let tries = 0; tries < 65535; tries++) {
      this.lastPacketId_ = (this.lastPacketId_ % 65535) + 1;
      if (!this.idsInUse_[this.lastPacketId_]) return this.lastPacketId_;
    }
    throw liteError("QUEUE_FULL", "all 65,535 packet ids are in use");
  }

  private removeAt_(index: number): void {
    const entry = this.queue_[index];
    this.queue_.splice(index, 1);
    this.queuedBytes_ -= entry.bytes.length;
    if (entry.qos > 0) delete this.idsInUse_[entry.id];
  }

  /** Sends waiting publishes while connected and the inflight window has room. */
  private flushQueue_(): void {
    if (this.state_ !== CONNECTED) return;
    let inflight = 0;
    const maxInflight = this.options_.maxInflight || 16;
    for (let i = 0; i < this.queue_.length; i++) {
      const entry = this.queue_[i];
      if (entry.deadline >= 0) {
        inflight++;
        continue;
      }
      if (entry.qos > 0 && inflight >= maxInflight) break;
      this.send_(entry.bytes);
      if (entry.qos === 0) {
        this.removeAt_(i--);
        this.events_.push({ type: "published", id: entry.id });
      } else {
        entry.deadline = this.now_ + this.ackTimeoutMs_;
        inflight++;
      }
    }
  }

  /** Ends the current connection with `error` (undefined: a clean close) and resets its state. */
  private close_(error: LiteError | undefined): void {
    this.state_ = IDLE;
    this.pingDeadline_ = -1;
    // 4.4: publishes sent but not acknowledged go again on the next connection, flagged DUP.
    for (let i = 0; i < this.queue_.length; i++) {
      const entry = this.queue_[i];
      if (entry.deadline >= 0) {
        entry.deadline = -1;
        entry.bytes[0] |= 0x08;
      }
    }
    const lost = error || connectionLost();
    while (this.acks_.length) {
      const ack = this.acks_.shift() as PendingAck;
      delete this.idsInUse_[ack.id];
      this.events_.push({ type: "subscribeFailed", id: ack.id, error: lost });
    }
    this.events_.push({ type: "closed", error });
  }

  private protocolError_(message: string): void {
    this.close_(liteError("MQTT_PROTOCOL_ERROR", message));
  }

  private handlePacket_(packet: MqttPacket): void {
    if (this.state_ === IDLE) return; // a packet after the connection was failed in the same chunk
    this.pingDeadline_ = -1; // any packet proves the link alive
    if (this.state_ === CONNECTING) {
      if (packet.cmd !== "connack") return this.protocolError_("expected CONNACK, got " + packet.cmd);
      if (packet.returnCode !== 0) {
        const code = packet.returnCode;
        return this.close_(liteError(REFUSALS[code], "the server refused the connection (CONNACK " + code + ")", { status: code, retryable: code === 3 }));
      }
      this.state_ = CONNECTED;
      this.events_.push({ type: "connected", sessionPresent: packet.sessionPresent });
      this.flushQueue_();
      return;
    }
    switch (packet.cmd) {
      case "publish":
        // 3.8.4: we subscribe with QoS 0 or 1 only, so a QoS 2 delivery breaks the protocol.
        if (packet.qos === 2) return this.protocolError_("received a QoS 2 PUBLISH");
        this.events_.push({ type: "message", packet });
        if (packet.qos === 1) this.send_(encodePuback(packet.messageId as number));
        return;
      case "puback":
        for (let i = 0; i < this.queue_.length; i++) {
          const entry = this.queue_[i];
          if (entry.id === packet.messageId && entry.deadline >= 0) {
            this.removeAt_(i);
            this.events_.push({ type: "published", id: entry.id });
            this.flushQueue_();
            return;
          }
        }
        return; // a late PUBACK for a publish that already timed out: nothing to settle
      case "suback":
      case "unsuback":
        return this.settleAck_(packet.messageId, packet.cmd === "suback" ? packet.granted : undefined);
      case "pingresp":
        return;
    }
    this.protocolError_("unexpected " + packet.cmd);
  }

  private settleAck_(id: number, granted: number[] | undefined): void {
    for (let i = 0; i < this.acks_.length; i++) {
      const ack = this.acks_[i];
      if (ack.id !== id) continue;
      this.acks_.splice(i, 1);
      delete this.idsInUse_[id];
      if (!granted) {
        if (ack.subscribe) return this.protocolError_("UNSUBACK for SUBSCRIBE " + id);
        this.events_.push({ type: "unsubscribed", id });
        return;
      }
      let error: LiteError | undefined;
      if (!ack.subscribe || granted.length !== ack.topics.length) {
        error = liteError("MQTT_PROTOCOL_ERROR", "SUBACK does not match request " + id);
      } else if (granted.indexOf(SUBACK_FAILURE) >= 0) {
        error = liteError("SUBSCRIBE_REFUSED", "the server refused the subscription to " + ack.topics[granted.indexOf(SUBACK_FAILURE)]);
      }
      if (!error) return void this.events_.push({ type: "subscribed", id, granted });
      this.events_.push({ type: "subscribeFailed", id, error });
      if (error.code === "MQTT_PROTOCOL_ERROR") this.close_(error);
      return;
    }
  }
}
