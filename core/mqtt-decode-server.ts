// Parsers for the packets only clients send (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ,
// DISCONNECT). A device never receives these, so they live apart from the decoder and ship only
// where something plays the server's side (tests, tools): `new MqttDecoder(fn, { extraPackets:
// parseClientPacket })`.
import { liteError } from "./errors";
import { lengthMismatch, readPacketId, readString, readUint16, truncated } from "./mqtt-decode";
import { PacketType, type ConnectPacket, type MqttPacket, type QoS, type Subscription } from "./mqtt-packets";

function readBinary(buf: Uint8Array, pos: number, end: number, what: string): Uint8Array {
  const length = readUint16(buf, pos, end, what);
  if (pos + 2 + length > end) throw truncated(what);
  return buf.subarray(pos + 2, pos + 2 + length);
}

function parseConnect(buf: Uint8Array, pos: number, end: number): ConnectPacket {
  const protocol = readString(buf, pos, end, "protocol name");
  pos += 6;
  if (protocol !== "MQTT" || pos + 4 > end || buf[pos] !== 4) {
    throw liteError("MQTT_BAD_PROTOCOL", "not MQTT 3.1.1 (protocol name MQTT, level 4)");
  }
  const flags = buf[pos + 1];
  const willQos = (flags >> 3) & 3;
  // 3.1.2.3: bit 0 is reserved; 3.1.2.11-14: will QoS/retain only with the will flag;
  // 3.1.2.9: a password only with a user name.
  if ((flags & 0x01) || (!(flags & 0x04) && (flags & 0x38)) || ((flags & 0x40) && !(flags & 0x80))) {
    throw liteError("MQTT_BAD_FLAGS", "CONNECT flags " + flags + " are inconsistent");
  }
  if (willQos === 3) throw liteError("MQTT_BAD_QOS", "CONNECT will QoS 3");
  const packet: ConnectPacket = {
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clean: (flags & 0x02) !== 0,
    keepalive: readUint16(buf, pos + 2, end, "keepalive"),
    clientId: readString(buf, pos + 4, end, "client id"),
  };
  pos += 4 + 2 + utf8Bytes(buf, pos + 4);
  if (flags & 0x04) {
    const topic = readString(buf, pos, end, "will topic");
    pos += 2 + utf8Bytes(buf, pos);
    const payload = readBinary(buf, pos, end, "will payload");
    pos += 2 + payload.length;
    packet.will = { topic, payload, qos: willQos as QoS, retain: (flags & 0x20) !== 0 };
  }
  if (flags & 0x80) {
    packet.username = readString(buf, pos, end, "username");
    pos += 2 + utf8Bytes(buf, pos);
  }
  if (flags & 0x40) {
    packet.password = readBinary(buf, pos, end, "password");
    pos += 2 + packet.password.length;
  }
  if (pos !== end) throw lengthMismatch("CONNECT");
  return packet;
}

/** Byte length of the MQTT string whose length prefix is at pos (already bounds-checked). */
function utf8Bytes(buf: Uint8Array, pos: number): number {
  return (buf[pos] << 8) | buf[pos + 1];
}

function parseTopicList(buf: Uint8Array, pos: number, end: number, withQos: boolean): { messageId: number; topics: string[]; qos: QoS[] } {
  const messageId = readPacketId(buf, pos, end);
  pos += 2;
  const topics: string[] = [];
  const qos: QoS[] = [];
  // 3.8.3 / 3.10.3: at least one topic filter.
  if (pos === end) throw truncated("topic filter list");
  while (pos < end) {
    topics.push(readString(buf, pos, end, "topic filter"));
    pos += 2 + utf8Bytes(buf, pos);
    if (withQos) {
      if (pos >= end) throw truncated("requested QoS");
      // 3.8.3.1: the upper six bits of the requested QoS byte are reserved.
      if (buf[pos] > 2) throw liteError(buf[pos] === 3 ? "MQTT_BAD_QOS" : "MQTT_BAD_FLAGS", "requested QoS byte " + buf[pos]);
      qos.push(buf[pos++] as QoS);
    }
  }
  return { messageId, topics, qos };
}

export function parseClientPacket(type: number, buf: Uint8Array, pos: number, end: number): MqttPacket {
  if (type === PacketType.Connect) return parseConnect(buf, pos, end);
  if (type === PacketType.Subscribe) {
    const list = parseTopicList(buf, pos, end, true);
    const subscriptions: Subscription[] = [];
    for (let i = 0; i < list.topics.length; i++) subscriptions.push({ topic: list.topics[i], qos: list.qos[i] });
    return { cmd: "subscribe", messageId: list.messageId, subscriptions };
  }
  if (type === PacketType.Unsubscribe) {
    const list = parseTopicList(buf, pos, end, false);
    return { cmd: "unsubscribe", messageId: list.messageId, unsubscriptions: list.topics };
  }
  if (type !== PacketType.Pingreq && type !== PacketType.Disconnect) throw liteError("MQTT_BAD_TYPE", "packet type " + type);
  if (pos !== end) throw lengthMismatch(type === PacketType.Pingreq ? "PINGREQ" : "DISCONNECT");
  return { cmd: type === PacketType.Pingreq ? "pingreq" : "disconnect" };
}
