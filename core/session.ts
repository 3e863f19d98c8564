// The MQTT 3.1.1 client session as a state machine that performs no IO and reads no clock:
// bytes, socket open/close and time go in; bytes to write, events and the next deadline come out
// (see core/driver.ts for the loop that binds it to a socket). One MqttSession lives across
// connections, as MQTT sessions do (4.1): unacknowledged QoS 1 publishes are re-sent with DUP on
// the next connection, and the bounded offline queue keeps publishes made while disconnected.
// Blame decides the channel: misuse of a command throws at once; anything the peer, the link or
// time did arrives as an event. receive() and handleTimeout() never throw. Every input and every
// command that starts a wait takes the time: a deadline counted from the last input instead (minutes
// ago on a quiet link) would already be over when the packet leaves.
// Written for size as well as clarity: every method here is a JsVar on an Espruino device.
import { liteError, type LiteError } from "./errors";
import { checkClientOptions } from "./identity";
import { MqttDecoder } from "./mqtt-decode";
import { encodeConnect, encodeDisconnect, encodePingreq, encodePuback, encodePublish, encodeSubscribe } from "./mqtt-encode";
import { DEFAULT_MAX_PACKET_BYTES, SUBACK_FAILURE, type ConnectPacket, type MqttPacket, type PublishPacket, type QoS, type Subscription, type WillMessage } from "./mqtt-packets";

export interface SessionOptions {
  clientId: string;
  username?: string;
  /** CleanSession flag (3.1.2.4). Default true. */
  clean?: boolean;
  /** Keep-alive in seconds; 0 turns it off. Default 60. */
  keepAliveSeconds?: number;
  will?: WillMessage;
  /** How long to wait for CONNACK, SUBACK, PUBACK and PINGRESP. Default 30,000 ms. */
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
  /** A PUBLISH over maxPacketBytes: acknowledged (QoS 1) and dropped unread; `error` says so. */
  | { type: "dropped"; packet: PublishPacket; error: LiteError }
  | { type: "published"; id: number }
  /** Only when disconnect(failure) gives up the queue: an unacknowledged QoS 1 publish otherwise
   * stays until its PUBACK, across connections. */
  | { type: "publishFailed"; id: number; error: LiteError }
  | { type: "subscribed"; id: number; granted: number[] }
  /** A SUBSCRIBE was refused (SUBACK 0x80), timed out, or was lost with the link. */
  | { type: "subscribeFailed"; id: number; error: LiteError }
  /** The connection is over (error absent: a clean DISCONNECT); the driver closes the socket. */
  | { type: "closed"; error?: LiteError };

interface Pending {
  /** Packet id; for a QoS 0 publish a local negative id, so every publish settles by id. */
  id_: number;
  /** PUBLISH bytes, kept for a re-send; undefined for a SUBSCRIBE. */
  bytes_?: Uint8Array;
  qos_: number;
  /** Answer deadline while sent on the current connection; -1 while waiting to be sent. */
  deadline_: number;
  /** SUBSCRIBE only: its filters, to name a refused one and check the SUBACK's length. */
  subscriptions_?: Subscription[];
}

// const enums compile to their values: no variable on an Espruino device (a plain top-level
// const in a file with imports stays a variable in esbuild's output, ~3 JsVars each).
const enum State {
  Idle, // no connection: waiting for connectionOpened
  Connecting, // CONNECT written, waiting for CONNACK
  Connected, // CONNACK accepted: publishes flow
}

// CONNACK return codes 1-5 (3.2.2.3), each with its own stable code.

function timeout(what: string): LiteError {
  return liteError(what + "_TIMEOUT", "no " + what + " in time", { retryable: true });
}

/** The earliest of `next` (-1: none) and the deadlines in `list`. */
function earliestDeadline(list: Pending[], next: number): number {
  for (let i = 0; i < list.length; i++) {
    const deadline = list[i].deadline_;
    if (deadline >= 0 && (next < 0 || deadline < next)) next = deadline;
  }
  return next;
}

function holdsId(list: Pending[], id: number): boolean {
  for (let i = 0; i < list.length; i++) if (list[i].id_ === id) return true;
  return false;
}

/** A decoder for one connection. Its callback is bound, not a closure: on Espruino a closure
 * keeps the whole scope it was made in (made in connectionOpened, that would hold the connection's
 * password, the SAS token), and a bound method is fewer variables than any scope. */
function decoderFor(session: MqttSession, maxPacketBytes: number | undefined): MqttDecoder {
  return new MqttDecoder(session.handlePacket_.bind(session), { maxPacketBytes });
}

export class MqttSession {
  /** @internal Read at each CONNECT: a hub client moved to another hub for the same device
   * changes the username here and keeps its queue. */
  readonly options_: SessionOptions;
  private readonly keepAliveMs_: number;
  private readonly ackTimeoutMs_: number;
  private decoder_: MqttDecoder | undefined;
  private state_ = State.Idle;
  private outbox_: Uint8Array[] = [];
  private events_: SessionEvent[] = [];
  /** Publishes in order (sent-and-unacknowledged first, then waiting), and SUBSCRIBEs awaiting SUBACK. */
  private queue_: Pending[] = [];
  private acks_: Pending[] = [];
  private queuedBytes_ = 0;
  private lastPacketId_ = 0;
  private lastLocalId_ = 0;
  /** CONNACK deadline while connecting, PINGRESP deadline once a PINGREQ is out, else -1. */
  private answerDeadline_ = -1;
  private lastSentAt_ = 0;
  private lastReceivedAt_ = 0;
  /**
   * @internal Set false by the driver while the socket holds more unsent bytes than it wants
   * (drained() sets it back).
   * Publishes then wait in the bounded queue, where QUEUE_FULL stops a producer faster than the
   * link, instead of piling up unbounded in the platform's buffer; a QoS 1 publish's PUBACK
   * deadline starts only once it is handed over. (A field, not a method: on a device each method
   * is variables held for good.)
   */
  writable_ = true;
  private now_ = 0;

  constructor(options: SessionOptions) {
    checkClientOptions(options);
    this.options_ = options;
    this.keepAliveMs_ = (options.keepAliveSeconds === undefined ? 60 : options.keepAliveSeconds) * 1000;
    this.ackTimeoutMs_ = options.ackTimeoutMs || 30000;
    // Validate every CONNECT field now, so bad options throw here rather than on the first connection.
    encodeConnect(this.connectPacket_(undefined));
  }

  get connected(): boolean {
    return this.state_ === State.Connected;
  }

  /** Number of publishes queued or awaiting PUBACK. */
  get queuedMessages(): number {
    return this.queue_.length;
  }

  // ---- inputs -------------------------------------------------------------------------------

  /** The socket is open: writes CONNECT (with this connection's password, e.g. a fresh SAS). */
  connectionOpened(now: number, password?: string): void {
    this.now_ = now;
    if (this.state_ !== State.Idle) this.connectionClosed(now);
    // Each connection gets its own decoder: a packet half-read on the old one is void.
    this.decoder_ = decoderFor(this, this.options_.maxPacketBytes);
    this.writable_ = true;
    this.state_ = State.Connecting;
    this.answerDeadline_ = now + this.ackTimeoutMs_;
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
    if (this.state_ === State.Idle) return;
    this.lastReceivedAt_ = now;
    const decoder = this.decoder_ as MqttDecoder;
    const error = decoder.push(bytes);
    if (error) return this.close_(error);
    // A packet still arriving holds back whatever the server sent after it (a PINGRESP, a
    // PUBACK, a SUBACK): on a slow link a large one takes minutes. While its bytes flow, the link
    // is alive and those answers may be behind it, so their deadlines wait too.
    // (Written out here, not as helpers: on the interpreter each function costs variables for
    // as long as the module is loaded.)
    if (decoder.gathering_ !== undefined || decoder.headLength_ > 0 || decoder.skip_ > 0) {
      const until = now + this.ackTimeoutMs_;
      if (this.answerDeadline_ >= 0 && this.answerDeadline_ < until) this.answerDeadline_ = until;
      const lists: Pending[][] = [this.queue_, this.acks_];
      for (let l = 0; l < 2; l++) {
        for (let i = 0; i < lists[l].length; i++) if (lists[l][i].deadline_ >= 0 && lists[l][i].deadline_ < until) lists[l][i].deadline_ = until;
      }
    }
  }

  /** The socket, which refused more, has handed over every byte it held: publishes go again, and
   * each one awaiting its PUBACK gets the whole ack timeout from now. Handed to the socket in one
   * batch, the last ones may have left only now (on a slow link, a minute after the first): timed
   * from the hand-over, their PUBACKs were overdue before they could come, and every reconnect
   * sent the batch again. */
  drained(now: number): void {
    this.writable_ = true;
    for (let i = 0; i < this.queue_.length; i++) if (this.queue_[i].deadline_ >= 0) this.queue_[i].deadline_ = now + this.ackTimeoutMs_;
    this.handleTimeout(now);
  }

  /** The socket closed (EOF, error, or after the driver closed it); `error` says why, if known. */
  connectionClosed(now: number, error?: LiteError): void {
    this.now_ = now;
    if (this.state_ !== State.Idle) this.close_(error || liteError("CONNECTION_LOST", "the connection closed", { retryable: true }));
  }

  /** Acts on every deadline that has passed, and sends what may go now; calling it early does nothing else. */
  handleTimeout(now: number): void {
    this.now_ = now;
    if (this.state_ === State.Idle) return;
    if (this.answerDeadline_ >= 0 && now >= this.answerDeadline_) {
      return this.close_(timeout(this.state_ === State.Connecting ? "CONNACK" : "PINGRESP"));
    }
    if (this.state_ === State.Connecting) return;
    // Keep-alive (3.1.2.10): a PINGREQ when nothing was sent, or nothing heard, for a whole
    // keep-alive period; silence from the server is how a dead link shows itself. While one
    // waits for its PINGRESP (held back behind a large packet still arriving, see receive), the
    // next goes once nothing was sent for a period: the server counts only what it receives, and
    // drops a client silent for 1.5 periods (MQTT-3.1.2-23, -24).
    if (this.keepAliveMs_ > 0 && now >= (this.answerDeadline_ < 0 ? Math.min(this.lastSentAt_, this.lastReceivedAt_) : this.lastSentAt_) + this.keepAliveMs_) {
      this.send_(encodePingreq());
      if (this.answerDeadline_ < 0) this.answerDeadline_ = now + this.ackTimeoutMs_;
    }
    // A PUBACK overdue on a connection that otherwise seems alive: the link is taken for dead,
    // as for a PINGRESP. The publish is kept and goes again, flagged DUP, on the next connection
    // (4.4); failed here instead, a message the hub did receive would be lost to a link that
    // keep-alive notices only minutes later, and an application retrying would send it twice.
    // Not while the socket holds bytes unsent: a publish handed over in the same batch may not
    // have left yet (drained starts the wait over once it has). Keep-alive still finds a dead link.
    for (let i = 0; this.writable_ && i < this.queue_.length; i++) {
      if (this.queue_[i].deadline_ >= 0 && now >= this.queue_[i].deadline_) return this.close_(timeout("PUBACK"));
    }
    for (let i = 0; i < this.acks_.length; i++) {
      const ack = this.acks_[i];
      if (now >= ack.deadline_) {
        this.acks_.splice(i--, 1);
        this.events_.push({ type: "subscribeFailed", id: ack.id_, error: timeout("SUBACK") });
      }
    }
    this.flush_();
  }

  // ---- commands (throw on misuse) -----------------------------------------------------------

  /**
   * Queues a PUBLISH; returns the id its `published` / `publishFailed` event will carry (the
   * packet id for QoS 1). Sent at once when connected and the inflight window has room,
   * otherwise kept in the bounded queue. Throws QUEUE_FULL when the queue is at its bounds.
   */
  publish(topic: string, payload: Uint8Array | string, qos: QoS, now: number): number {
    const options = this.options_;
    this.now_ = now;
    if (this.queue_.length >= (options.maxQueuedMessages || 100)) throw liteError("QUEUE_FULL", "queue full: " + this.queue_.length + " messages");
    const id = qos > 0 ? this.nextPacketId_() : --this.lastLocalId_;
    const bytes = encodePublish({ cmd: "publish", topic, payload, qos, dup: false, retain: false, messageId: qos > 0 ? id : undefined });
    const maxBytes = options.maxQueuedBytes || 1048576;
    if (this.queuedBytes_ + bytes.length > maxBytes) throw liteError("QUEUE_FULL", "queue full: " + maxBytes + " bytes");
    this.queue_.push({ id_: id, qos_: qos, bytes_: bytes, deadline_: -1 });
    this.queuedBytes_ += bytes.length;
    this.flush_();
    return id;
  }

  /**
   * Writes a QoS 0 PUBLISH now if connected, outside the publish queue: for requests and responses
   * (twin, methods) that belong to this connection alone. They never wait behind telemetry, never
   * count against its bounds, and are never carried to a later connection, where their `$rid`
   * would be stale. Returns false when not connected.
   */
  sendNow(topic: string, payload: Uint8Array | string): boolean {
    // (No time taken: nothing here waits for an answer, and keep-alive counts from the earlier of
    // the last packet sent and received, which the last input's time never moves. On a device this
    // call comes at the connection's memory peak, where one more argument ran it out of memory.)
    if (this.state_ !== State.Connected) return false;
    this.send_(encodePublish({ cmd: "publish", topic, payload, qos: 0, dup: false, retain: false }));
    return true;
  }

  /** Sends SUBSCRIBE when connected (throws NOT_CONNECTED otherwise); returns its packet id. The
   * array is kept until the SUBACK: do not change it meanwhile. */
  subscribe(subscriptions: Subscription[], now: number): number {
    if (this.state_ !== State.Connected) throw liteError("NOT_CONNECTED", "not connected");
    this.now_ = now;
    const id = this.nextPacketId_();
    this.send_(encodeSubscribe({ cmd: "subscribe", messageId: id, subscriptions }));
    // Kept as given, not copied: a device subscribes at its connection's memory peak.
    this.acks_.push({ id_: id, qos_: 1, deadline_: this.now_ + this.ackTimeoutMs_, subscriptions_: subscriptions });
    return id;
  }

  /**
   * Ends the current connection: DISCONNECT if connected, then a `closed` event. Queued publishes
   * stay for the next connection unless `failure` is given, which fails every one of them.
   */
  disconnect(failure?: LiteError): void {
    if (this.state_ === State.Connected) this.send_(encodeDisconnect());
    if (this.state_ !== State.Idle) this.close_(undefined);
    while (failure && this.queue_.length) {
      this.events_.push({ type: "publishFailed", id: this.queue_[0].id_, error: failure });
      this.removeAt_(0);
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
    if (this.state_ === State.Idle) return undefined;
    let next = this.answerDeadline_;
    if (this.state_ === State.Connecting) return next;
    if (this.keepAliveMs_ > 0) next = next < 0 ? Math.min(this.lastSentAt_, this.lastReceivedAt_) + this.keepAliveMs_ : Math.min(next, this.lastSentAt_ + this.keepAliveMs_);
    next = earliestDeadline(this.acks_, this.writable_ ? earliestDeadline(this.queue_, next) : next);
    return next < 0 ? undefined : next;
  }

  // ---- internals ----------------------------------------------------------------------------

  private connectPacket_(password: string | undefined): ConnectPacket {
    const options = this.options_;
    return {
      cmd: "connect",
      clientId: options.clientId,
      username: options.username,
      password,
      clean: options.clean !== false,
      keepalive: this.keepAliveMs_ / 1000,
      will: options.will,
    };
  }

  private send_(bytes: Uint8Array): void {
    this.outbox_.push(bytes);
    this.lastSentAt_ = this.now_;
  }

  /** 2.3.1: ids 1-65535, wrapping, skipping those still awaiting an acknowledgement. */
  private nextPacketId_(): number {
    for (let tries = 0; tries < 65535; tries++) {
      const id = (this.lastPacketId_ = (this.lastPacketId_ % 65535) + 1);
      if (!holdsId(this.queue_, id) && !holdsId(this.acks_, id)) return id;
    }
    throw liteError("QUEUE_FULL", "no free packet id");
  }

  private removeAt_(index: number): void {
    this.queuedBytes_ -= (this.queue_[index].bytes_ as Uint8Array).length;
    this.queue_.splice(index, 1);
  }

  /** Sends waiting publishes while connected, the socket takes them and the inflight window has room. */
  private flush_(): void {
    if (this.state_ !== State.Connected || !this.writable_) return;
    let inflight = 0;
    const maxInflight = this.options_.maxInflight || 16;
    for (let i = 0; i < this.queue_.length; i++) {
      const entry = this.queue_[i];
      if (entry.deadline_ < 0) {
        if (entry.qos_ > 0 && inflight >= maxInflight) break;
        this.send_(entry.bytes_ as Uint8Array);
        if (entry.qos_ === 0) {
          this.removeAt_(i--);
          this.events_.push({ type: "published", id: entry.id_ });
          continue;
        }
        entry.deadline_ = this.now_ + this.ackTimeoutMs_;
      }
      inflight++;
    }
  }

  /** Ends the current connection with `error` (undefined: a clean close) and resets its state. */
  private close_(error: LiteError | undefined): void {
    this.state_ = State.Idle;
    this.answerDeadline_ = -1;
    // 4.4: publishes sent but not acknowledged go again on the next connection, flagged DUP.
    for (let i = 0; i < this.queue_.length; i++) {
      const entry = this.queue_[i];
      if (entry.deadline_ >= 0) {
        entry.deadline_ = -1;
        // A copy: the socket may still hold the first transmission, unsent, which must not
        // change under it (MQTT-3.3.1-1: DUP only on a re-delivery).
        const bytes = entry.bytes_ as Uint8Array;
        if (!(bytes[0] & 0x08)) {
          entry.bytes_ = new Uint8Array(bytes);
          entry.bytes_[0] |= 0x08;
        }
      }
    }
    // A packet half-gathered on this connection (up to maxPacketBytes) is void: let it go now.
    this.decoder_ = undefined;
    while (this.acks_.length) {
      const ack = this.acks_.shift() as Pending;
      this.events_.push({ type: "subscribeFailed", id: ack.id_, error: error || liteError("CONNECTION_LOST", "the connection closed", { retryable: true }) });
    }
    this.events_.push({ type: "closed", error });
  }

  /** @internal The decoder's callback (see decoderFor). */
  handlePacket_(packet: MqttPacket): void {
    if (this.state_ === State.Idle) return; // a packet after the connection was failed in the same chunk
    this.answerDeadline_ = -1; // any packet proves the link alive (and CONNACK ends its wait)
    const events = this.events_;
    let problem: string | undefined;
    if (this.state_ === State.Connecting) {
      if (packet.cmd !== "connack") problem = "expected CONNACK, got " + packet.cmd;
      else if (packet.returnCode) {
        const code = packet.returnCode;
        // A table as a string: split only when a connection is refused (an array would be a
        // variable per element on a device, for good).
        const reason = "PROTOCOL IDENTIFIER UNAVAILABLE BAD_CREDENTIALS NOT_AUTHORIZED".split(" ")[code - 1];
        return this.close_(liteError("CONNECT_REFUSED_" + reason, "CONNACK " + code, { status: code, retryable: code === 3 }));
      } else {
        this.state_ = State.Connected;
        events.push({ type: "connected", sessionPresent: packet.sessionPresent });
        return this.flush_();
      }
    } else if (packet.cmd === "publish") {
      // 3.8.4: we subscribe with QoS 0 or 1 only, so a QoS 2 delivery breaks the protocol.
      if (packet.qos === 2) problem = "QoS 2 PUBLISH";
      else {
        // One over maxPacketBytes is acknowledged too: unacknowledged, the server would send it
        // again on every connection (and a device never get past it).
        const size = packet.dropped;
        events.push(size ? { type: "dropped", packet, error: liteError("MQTT_TOO_LARGE", "message of " + size + " bytes on " + packet.topic + " dropped: over the maximum of " + (this.options_.maxPacketBytes || DEFAULT_MAX_PACKET_BYTES)) } : { type: "message", packet });
        if (packet.qos) this.send_(encodePuback(packet.messageId as number));
      }
    } else if (packet.cmd === "puback") {
      for (let i = 0; i < this.queue_.length; i++) {
        const entry = this.queue_[i];
        if (entry.id_ === packet.messageId && entry.deadline_ >= 0) {
          this.removeAt_(i);
          events.push({ type: "published", id: entry.id_ });
          return this.flush_();
        }
      }
      // A PUBACK for no publish in flight (one from an earlier connection): nothing to settle.
    } else if (packet.cmd === "suback") {
      for (let i = 0; i < this.acks_.length; i++) {
        const ack = this.acks_[i];
        if (ack.id_ !== packet.messageId) continue;
        this.acks_.splice(i, 1);
        const subscriptions = ack.subscriptions_ as Subscription[];
        const granted = packet.granted;
        const refused = granted.indexOf(SUBACK_FAILURE);
        if (granted.length !== subscriptions.length) problem = "SUBACK mismatch";
        else if (refused >= 0) {
          events.push({ type: "subscribeFailed", id: ack.id_, error: liteError("SUBSCRIBE_REFUSED", "refused: " + subscriptions[refused].topic) });
        } else events.push({ type: "subscribed", id: ack.id_, granted });
        if (problem) events.push({ type: "subscribeFailed", id: ack.id_, error: liteError("MQTT_PROTOCOL_ERROR", problem) });
        break;
      }
    } else if (packet.cmd !== "pingresp") problem = "unexpected " + packet.cmd;
    if (problem) this.close_(liteError("MQTT_PROTOCOL_ERROR", problem));
  }
}
