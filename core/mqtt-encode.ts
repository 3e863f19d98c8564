// Encoders for every packet an MQTT 3.1.1 client sends. Each computes the exact size first and
// writes into one Uint8Array, so there is one allocation per packet and no concatenation.
// Invalid arguments are refused with a typed error and nothing is encoded. This client speaks
// QoS 0 and 1 only (Azure IoT closes the connection on QoS 2), so QoS 2 is refused everywhere.
import { liteError } from "./errors";
import { allocate, native } from "./native";
import { utf8Length, utf8Write } from "./utf8";
import {
  MAX_REMAINING_LENGTH,
  type ConnectPacket,
  type PublishPacket,
  type QoS,
  type SubscribePacket,
  type UnsubscribePacket,
} from "./mqtt-packets";

function badArgument(message: string) {
  return liteError("MQTT_BAD_ARGUMENT", message);
}

export function checkPacketId(messageId: unknown): number {
  const id = messageId as number;
  if (typeof id !== "number" || !(id >= 1 && id <= 65535) || id % 1 !== 0) {
    throw liteError("MQTT_BAD_PACKET_ID", "bad packet id " + id);
  }
  return id;
}

function checkQos(qos: unknown, what: string): QoS {
  if (qos === undefined) return 0;
  if (qos !== 0 && qos !== 1) throw liteError("MQTT_BAD_QOS", what + " QoS " + qos);
  return qos;
}

/** UTF-8 length of an MQTT string (1.5.3): no U+0000, no lone surrogate, at most 65,535 bytes. */
function stringLength(text: unknown, what: string): number {
  if (typeof text !== "string") throw badArgument(what + " is not a string");
  if (text.indexOf("\u0000") >= 0) throw liteError("UTF8_INVALID", what + " contains U+0000");
  return fieldLength(utf8Length(text), what);
}

function fieldLength(length: number, what: string): number {
  if (length > 65535) throw liteError("MQTT_FIELD_TOO_LONG", what + " over 65535 bytes");
  return length;
}

/** Topic names carry no wildcards and are never empty (4.7.1, 4.7.3). */
function checkTopicName(topic: unknown, what: string): number {
  const length = stringLength(topic, what);
  const text = topic as string;
  if (length === 0 || text.indexOf("+") >= 0 || text.indexOf("#") >= 0) {
    throw liteError("MQTT_BAD_TOPIC", what + " empty or with + #: " + text);
  }
  return length;
}

/** Topic filters: '#' only as the whole last level, '+' only as a whole level (4.7.1). Checked
 * in place: splitting into levels made an array of strings at the memory peak of a device's
 * connection (SUBSCRIBE goes out as CONNACK comes in; it ran out of memory there, measured). */
function checkTopicFilter(filter: unknown): number {
  const length = stringLength(filter, "topic filter");
  const text = filter as string;
  const last = text.length - 1;
  let valid = length > 0;
  for (let i = 0; i <= last && valid; i++) {
    const c = text[i];
    if (c === "#" || c === "+") valid = (i === 0 || text[i - 1] === "/") && (i === last || (c === "+" && text[i + 1] === "/"));
  }
  if (!valid) throw liteError("MQTT_BAD_TOPIC", "bad topic filter " + filter);
  return length;
}

function payloadLength(payload: unknown, what: string): number {
  if (typeof payload === "string") return utf8Length(payload);
  if (payload instanceof Uint8Array) return payload.length;
  throw badArgument(what + " is not text or bytes");
}

function writePayload(payload: string | Uint8Array, out: Uint8Array, offset: number): number {
  if (typeof payload === "string") return utf8Write(payload, out, offset);
  out.set(payload, offset);
  return offset + payload.length;
}

/** Allocates the whole packet and writes its fixed header; the body starts at length - remaining. */
function startPacket(firstByte: number, remaining: number): Uint8Array {
  if (remaining > MAX_REMAINING_LENGTH) throw liteError("MQTT_TOO_LARGE", "packet of " + remaining + " bytes");
  let lengthBytes = 1;
  for (let rest = remaining >>> 7; rest > 0; rest = rest >>> 7) lengthBytes++;
  const out = allocate(1 + lengthBytes + remaining);
  out[0] = firstByte;
  let value = remaining;
  for (let i = 1; i <= lengthBytes; i++) {
    out[i] = (value & 0x7f) | (i < lengthBytes ? 0x80 : 0);
    value = value >>> 7;
  }
  return out;
}

function writeUint16(out: Uint8Array, offset: number, value: number): number {
  out[offset] = value >> 8;
  out[offset + 1] = value & 0xff;
  return offset + 2;
}

function writeString(out: Uint8Array, offset: number, text: string, length: number): number {
  offset = writeUint16(out, offset, length);
  return utf8Write(text, out, offset);
}

export function encodeConnect(packet: ConnectPacket): Uint8Array {
  const clientId = packet.clientId;
  const clientIdLength = stringLength(clientId, "client id");
  if (clientIdLength === 0 && !packet.clean) {
    throw liteError("MQTT_BAD_CLIENT_ID", "empty client id without clean session");
  }
  const keepalive = packet.keepalive;
  if (typeof keepalive !== "number" || !(keepalive >= 0 && keepalive <= 65535) || keepalive % 1 !== 0) {
    throw badArgument("bad keepalive " + keepalive);
  }
  let flags = packet.clean ? 0x02 : 0;
  let remaining = 10 + 2 + clientIdLength;
  const will = packet.will;
  let willTopicLength = 0;
  let willPayloadLength = 0;
  if (will) {
    willTopicLength = checkTopicName(will.topic, "will topic");
    willPayloadLength = fieldLength(payloadLength(will.payload, "will payload"), "will payload");
    flags |= 0x04 | (checkQos(will.qos, "will") << 3) | (will.retain ? 0x20 : 0);
    remaining += 4 + willTopicLength + willPayloadLength;
  }
  const username = packet.username;
  let usernameLength = 0;
  if (username !== undefined) {
    usernameLength = stringLength(username, "username");
    flags |= 0x80;
    remaining += 2 + usernameLength;
  }
  const password = packet.password;
  let passwordLength = 0;
  if (password !== undefined) {
    // 3.1.2.9: a password without a user name is a protocol violation.
    if (username === undefined) throw badArgument("password without username");
    passwordLength = fieldLength(payloadLength(password, "password"), "password");
    flags |= 0x40;
    remaining += 2 + passwordLength;
  }

  const out = startPacket(0x10, remaining);
  let offset = out.length - remaining;
  offset = writeString(out, offset, "MQTT", 4);
  out[offset++] = 4; // protocol level of MQTT 3.1.1
  out[offset++] = flags;
  offset = writeUint16(out, offset, keepalive);
  offset = writeString(out, offset, clientId, clientIdLength);
  if (will) {
    offset = writeString(out, offset, will.topic, willTopicLength);
    offset = writePayload(will.payload, out, writeUint16(out, offset, willPayloadLength));
  }
  if (username !== undefined) offset = writeString(out, offset, username, usernameLength);
  if (password !== undefined) writePayload(password, out, writeUint16(out, offset, passwordLength));
  return out;
}

// Devices publish to the same topic again and again (telemetry), so once a topic repeats, its
// validated UTF-8 is kept (one topic, at most 256 bytes) and copied instead of re-checked and
// re-encoded. A topic seen once costs nothing extra. Only where native text paths are installed
// (Node): on a device the kept topic and its bytes cost more memory than re-encoding costs time
// (~30 variables on Espruino, measured).
const enum TopicCache {
  MaxBytes = 256,
}
let lastTopic: string | undefined;
let lastTopicBytes: Uint8Array | undefined;

export function encodePublish(packet: PublishPacket): Uint8Array {
  const qos = checkQos(packet.qos, "PUBLISH");
  const topic = packet.topic;
  const cached = topic === lastTopic ? lastTopicBytes : undefined;
  const topicLength = cached ? cached.length : checkTopicName(topic, "topic");
  const payload = packet.payload;
  let remaining = 2 + topicLength + payloadLength(payload, "payload");
  if (qos > 0) {
    checkPacketId(packet.messageId);
    remaining += 2;
  }
  // MQTT-3.3.1-2: DUP is 0 for every QoS 0 message.
  const out = startPacket(0x30 | (packet.dup && qos > 0 ? 0x08 : 0) | (qos << 1) | (packet.retain ? 0x01 : 0), remaining);
  const topicStart = writeUint16(out, out.length - remaining, topicLength);
  let offset: number;
  if (cached) {
    out.set(cached, topicStart);
    offset = topicStart + topicLength;
  } else {
    offset = utf8Write(topic, out, topicStart);
    if (native.utf8Write) {
      if (topic === lastTopic && topicLength <= TopicCache.MaxBytes) {
        lastTopicBytes = new Uint8Array(topicLength);
        lastTopicBytes.set(out.subarray(topicStart, offset));
      } else {
        lastTopic = topic;
        lastTopicBytes = undefined;
      }
    }
  }
  if (qos > 0) offset = writeUint16(out, offset, packet.messageId as number);
  writePayload(payload, out, offset);
  return out;
}

/** PUBACK (4) for an inbound QoS 1 PUBLISH. */
export function encodePuback(messageId: number): Uint8Array {
  const out = new Uint8Array(4);
  out[0] = 0x40;
  out[1] = 2;
  writeUint16(out, 2, checkPacketId(messageId));
  return out;
}

export function encodeSubscribe(packet: SubscribePacket): Uint8Array {
  const messageId = checkPacketId(packet.messageId);
  const subscriptions = packet.subscriptions;
  if (!subscriptions || !subscriptions.length) throw badArgument("no topic filters");
  let remaining = 2;
  for (let i = 0; i < subscriptions.length; i++) {
    checkQos(subscriptions[i].qos, "subscription");
    remaining += 3 + checkTopicFilter(subscriptions[i].topic);
  }
  // 3.8.1: bits 3-0 of a SUBSCRIBE fixed header are reserved as 0010.
  const out = startPacket(0x82, remaining);
  let offset = writeUint16(out, out.length - remaining, messageId);
  // Each filter's length is filled in once it is written, rather than kept in an array from the
  // check above: a device subscribes at its connection's memory peak.
  for (let i = 0; i < subscriptions.length; i++) {
    const start = offset;
    offset = utf8Write(subscriptions[i].topic, out, start + 2);
    writeUint16(out, start, offset - start - 2);
    out[offset++] = subscriptions[i].qos || 0;
  }
  return out;
}

export function encodeUnsubscribe(packet: UnsubscribePacket): Uint8Array {
  const messageId = checkPacketId(packet.messageId);
  const topics = packet.unsubscriptions;
  if (!topics || !topics.length) throw badArgument("no topic filters");
  const lengths: number[] = [];
  let remaining = 2;
  for (let i = 0; i < topics.length; i++) {
    lengths.push(checkTopicFilter(topics[i]));
    remaining += 2 + lengths[i];
  }
  const out = startPacket(0xa2, remaining);
  let offset = writeUint16(out, out.length - remaining, messageId);
  for (let i = 0; i < topics.length; i++) offset = writeString(out, offset, topics[i], lengths[i]);
  return out;
}

export function encodePingreq(): Uint8Array {
  return new Uint8Array([0xc0, 0]);
}

export function encodeDisconnect(): Uint8Array {
  return new Uint8Array([0xe0, 0]);
}
