// A bounded, streaming MQTT 3.1.1 decoder. Push chunks of any size (one byte, many packets, a
// packet over many chunks); packets come out in order through `onPacket`. A packet that lies
// whole inside one chunk is parsed in place and its payload is a view into that chunk, so callers
// must not overwrite a chunk after pushing it (sockets on Node and Espruino hand out fresh ones).
// A packet split across chunks is gathered into one buffer of exactly its size, allocated only
// after its length passed the maximum-size check. A PUBLISH over the maximum is not an error: its
// topic and packet id are kept (if they fit the maximum), the rest of it goes by unbuffered, and it
// comes out with an empty payload and `dropped` set, so the session can acknowledge it (a server
// would otherwise send it again on every connection, and never get past it). The first malformed
// byte fails the decoder for good: push returns the error, then the same error for every later
// push, and never throws.
import { liteError, type LiteError } from "./errors";
import { allocate } from "./native";
import { utf8Decode } from "./utf8";
import {
  DEFAULT_MAX_PACKET_BYTES,
  PacketType,
  SUBACK_FAILURE,
  type AckPacket,
  type MqttPacket,
  type QoS,
} from "./mqtt-packets";

/** Parses a packet type the base decoder does not know (e.g. client-to-server packets). */
export type ExtraPacketParser = (type: number, buf: Uint8Array, start: number, end: number) => MqttPacket;

export interface DecoderOptions {
  /** Largest whole packet accepted, header included. Default DEFAULT_MAX_PACKET_BYTES. */
  maxPacketBytes?: number;
  /** Parser for CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT (see mqtt-decode-server). */
  extraPackets?: ExtraPacketParser;
}

// (Lookup tables are written as code: on a device every element of a table is a variable.)

/** Required low nibble of the fixed header of `type` (2.2.2); -1 = PUBLISH's own flags, -2 = no such type. */
function fixedFlags(type: number): number {
  if (type === 0 || type === 15) return -2;
  if (type === PacketType.Publish) return -1;
  return type === PacketType.Pubrel || type === PacketType.Subscribe || type === PacketType.Unsubscribe ? 2 : 0;
}

/** The acknowledgements that carry only a packet id: PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK. */
function ackName(type: number): string | undefined {
  if (type === PacketType.Puback) return "puback";
  if (type === PacketType.Pubrec) return "pubrec";
  if (type === PacketType.Pubrel) return "pubrel";
  if (type === PacketType.Pubcomp) return "pubcomp";
  return type === PacketType.Unsuback ? "unsuback" : undefined;
}

export function truncated(what: string) {
  return liteError("MQTT_TRUNCATED", "truncated " + what);
}

export function lengthMismatch(what: string) {
  return liteError("MQTT_LENGTH_MISMATCH", "bad length of " + what);
}

export function readUint16(buf: Uint8Array, pos: number, end: number, what: string): number {
  if (pos + 2 > end) throw truncated(what);
  return (buf[pos] << 8) | buf[pos + 1];
}

export function readPacketId(buf: Uint8Array, pos: number, end: number): number {
  const id = readUint16(buf, pos, end, "packet id");
  if (id === 0) throw liteError("MQTT_BAD_PACKET_ID", "packet id 0");
  return id;
}

/** An MQTT UTF-8 string (1.5.3) at pos; its end is pos + 2 + its UTF-8 length. */
export function readString(buf: Uint8Array, pos: number, end: number, what: string): string {
  const length = readUint16(buf, pos, end, what);
  if (pos + 2 + length > end) throw truncated(what);
  return utf8Decode(buf, pos + 2, pos + 2 + length, true);
}

export class MqttDecoder {
  private readonly maxPacketBytes_: number;
  private readonly extraPackets_: ExtraPacketParser | undefined;
  private readonly onPacket_: (packet: MqttPacket) => void;
  private failure_: LiteError | undefined;
  /** Fixed-header bytes of a packet whose header was split across chunks (at most 5). */
  private readonly head_ = new Uint8Array(5);
  /** @internal Read by MqttSession too (a method would cost the device variables for good). */
  headLength_ = 0;
  /** A packet being gathered across chunks, sized exactly, and how much of it has arrived. */
  /** @internal Read by MqttSession too: a packet is arriving while this is set. */
  gathering_: Uint8Array | undefined;
  private gathered_ = 0;
  /** Fixed-header length of the packet whose length frameLength last read. */
  private headerBytes_ = 0;
  /** Whole size of the PUBLISH being read over the maximum (0: none): only its start is kept. */
  private over_ = 0;
  /** @internal Read by MqttSession too: bytes of that PUBLISH still to let go by. */
  skip_ = 0;
  /** That PUBLISH, decoded, waiting for its last byte. */
  private held_: MqttPacket | undefined;

  constructor(onPacket: (packet: MqttPacket) => void, options?: DecoderOptions) {
    this.onPacket_ = onPacket;
    this.maxPacketBytes_ = (options && options.maxPacketBytes) || DEFAULT_MAX_PACKET_BYTES;
    this.extraPackets_ = options && options.extraPackets;
  }

  /** The error that failed this decoder, if any. */
  get error(): LiteError | undefined {
    return this.failure_;
  }


  /** Decodes `chunk`; returns an error (now and on every later push) if the stream is malformed. */
  push(chunk: Uint8Array): LiteError | undefined {
    if (this.failure_) return this.failure_;
    try {
      const end = chunk.length;
      let offset = 0;
      while (offset < end) {
        const gathering = this.gathering_;
        if (gathering) {
          const take = Math.min(gathering.length - this.gathered_, end - offset);
          gathering.set(chunk.subarray(offset, offset + take), this.gathered_);
          this.gathered_ += take;
          offset += take;
          if (this.gathered_ === gathering.length) this.complete_(gathering);
        } else if (this.skip_ > 0) {
          const take = Math.min(this.skip_, end - offset);
          this.skip_ -= take;
          offset += take;
          if (this.skip_ === 0) {
            const held = this.held_ as MqttPacket;
            this.held_ = undefined;
            this.onPacket_(held);
          }
        } else if (this.headLength_ > 0) {
          // The header was split: add one byte at a time until its length is known.
          this.head_[this.headLength_++] = chunk[offset++];
          const total = this.frameLength_(this.head_, 0, this.headLength_);
          if (total >= 0) {
            const head = this.head_.subarray(0, this.headLength_);
            this.headLength_ = 0;
            this.startGathering_(total, head);
          }
        } else {
          const total = this.frameLength_(chunk, offset, end);
          if (total < 0) {
            this.head_.set(chunk.subarray(offset, end));
            this.headLength_ = end - offset;
            offset = end;
          } else if (offset + total <= end && !this.over_) {
            this.parse_(chunk, offset, offset + total);
            offset += total;
          } else {
            // The loop gathers its bytes from here on, this chunk's included (of one over the
            // maximum only its start, wherever it is: the same result however it was chunked).
            this.startGathering_(total, undefined);
          }
        }
      }
    } catch (error) {
      this.failure_ = error as LiteError;
    }
    return this.failure_;
  }

  /** Allocates the packet's buffer: all of it, or for a PUBLISH over the maximum its fixed header
   * and topic length first (complete_ then makes room for the topic and packet id). */
  private startGathering_(total: number, head: Uint8Array | undefined): void {
    const packet = allocate(this.over_ ? this.headerBytes_ + 2 : total);
    this.gathering_ = packet;
    this.gathered_ = 0;
    if (head) {
      packet.set(head);
      this.gathered_ = head.length;
      if (head.length === packet.length) this.complete_(packet);
    }
  }

  private complete_(packet: Uint8Array): void {
    const over = this.over_;
    const start = this.headerBytes_ + 2;
    if (over && packet.length === start && !this.skip_) {
      // Its topic length is known: keep the topic and the packet id, if they fit the maximum.
      const keep = start + ((packet[start - 2] << 8) | packet[start - 1]) + (packet[0] & 6 ? 2 : 0);
      if (keep > over) throw truncated("topic");
      if (keep > this.maxPacketBytes_) throw liteError("MQTT_TOO_LARGE", "PUBLISH of " + over + " bytes, its topic over " + this.maxPacketBytes_);
      this.skip_ = over - keep;
      const kept = allocate(keep);
      kept.set(packet);
      this.gathering_ = kept;
      if (keep > start) return;
    }
    this.gathering_ = undefined;
    this.parse_(packet, 0, packet.length);
  }

  /**
   * Whole length of the packet starting at buf[start] (fixed header included), or -1 when the
   * header is not complete yet. Validates type and flags as soon as the first byte is there, and
   * the size before anything is buffered.
   */
  private frameLength_(buf: Uint8Array, start: number, end: number): number {
    const first = buf[start];
    const type = first >> 4;
    const flags = first & 0x0f;
    const expected = fixedFlags(type);
    if (expected === -2) throw liteError("MQTT_BAD_TYPE", "packet type " + type);
    if (expected === -1) {
      if ((flags & 0x06) === 0x06) throw liteError("MQTT_BAD_QOS", "PUBLISH with QoS 3");
    } else if (flags !== expected) {
      throw liteError("MQTT_BAD_FLAGS", "type " + type + " flags " + flags);
    }
    let remaining = 0;
    let multiplier = 1;
    for (let i = 1; i <= 4; i++) {
      if (start + i >= end) return -1;
      const byte = buf[start + i];
      remaining += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) {
        const total = 1 + i + remaining;
        this.over_ = 0;
        if (total > this.maxPacketBytes_) {
          if (expected !== -1) throw liteError("MQTT_TOO_LARGE", "packet of " + total + " bytes, over " + this.maxPacketBytes_);
          this.over_ = total;
        }
        this.headerBytes_ = 1 + i;
        return total;
      }
      multiplier *= 128;
    }
    throw liteError("MQTT_BAD_LENGTH", "remaining length over 4 bytes");
  }

  private parse_(buf: Uint8Array, start: number, end: number): void {
    const first = buf[start];
    const type = first >> 4;
    const pos = start + this.headerBytes_;
    const remaining = end - pos;
    let packet: MqttPacket;
    if (type === PacketType.Publish) {
      const qos = ((first >> 1) & 3) as QoS;
      const topicLength = readUint16(buf, pos, end, "topic");
      let at = pos + 2 + topicLength;
      if (at > end) throw truncated("topic");
      const topic = utf8Decode(buf, pos + 2, at, true);
      // A topic name, not a filter (3.3.2.1); checked here, not in a helper used once: on a device
      // each function is variables held for as long as the module is loaded.
      if (!topic || topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0) throw liteError("MQTT_BAD_TOPIC", "bad PUBLISH topic " + topic);
      let messageId: number | undefined;
      if (qos > 0) {
        messageId = readPacketId(buf, at, end);
        at += 2;
      }
      // One literal, every field in it (messageId undefined at QoS 0): the object takes its
      // final shape at once, the cheapest on the per-message path (measured: 272 bytes of heap a
      // packet, 304 with the field added afterwards).
      packet = { cmd: "publish", topic, payload: buf.subarray(at, end), qos, dup: (first & 8) !== 0, retain: (first & 1) !== 0, messageId };
      if (this.over_) {
        // Out once its last byte has gone by (its payload is what was kept of it: nothing).
        packet.dropped = this.over_;
        return void (this.held_ = packet);
      }
    } else if (ackName(type)) {
      const cmd = ackName(type) as string;
      if (remaining !== 2) throw lengthMismatch(cmd);
      packet = { cmd, messageId: readPacketId(buf, pos, end) } as AckPacket;
    } else if (type === PacketType.Connack) {
      if (remaining !== 2) throw lengthMismatch("CONNACK");
      // 3.2.2.1: bits 7-1 of the acknowledge flags are reserved; 3.2.2.3: codes 6-255 are reserved.
      if (buf[pos] > 1) throw liteError("MQTT_BAD_FLAGS", "CONNACK flags " + buf[pos]);
      if (buf[pos + 1] > 5) throw liteError("MQTT_BAD_RETURN_CODE", "CONNACK code " + buf[pos + 1]);
      packet = { cmd: "connack", sessionPresent: buf[pos] === 1, returnCode: buf[pos + 1] };
    } else if (type === PacketType.Suback) {
      const messageId = readPacketId(buf, pos, end);
      if (remaining < 3) throw truncated("SUBACK return codes");
      const granted: number[] = [];
      for (let at = pos + 2; at < end; at++) {
        const code = buf[at];
        if (code > 2 && code !== SUBACK_FAILURE) throw liteError("MQTT_BAD_RETURN_CODE", "SUBACK code " + code);
        granted.push(code);
      }
      packet = { cmd: "suback", messageId, granted };
    } else if (type === PacketType.Pingresp) {
      if (remaining !== 0) throw lengthMismatch("PINGRESP");
      packet = { cmd: "pingresp" };
    } else if (this.extraPackets_) {
      packet = this.extraPackets_(type, buf, pos, end);
    } else {
      throw liteError("MQTT_BAD_TYPE", "packet type " + type + " from a server");
    }
    this.onPacket_(packet);
  }
}
