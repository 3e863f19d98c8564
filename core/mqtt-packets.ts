// MQTT 3.1.1 packet records. Field names follow mqtt-packet (cmd, messageId, qos, dup, retain,
// topic, payload, clientId, keepalive, clean, username, password, will, subscriptions, granted,
// returnCode, sessionPresent, unsubscriptions) so a packet means the same thing in both libraries.

export type QoS = 0 | 1 | 2;

/** Packet type numbers (MQTT 3.1.1, 2.2.1). A const enum: the numbers are inlined, so no
 * variable exists for them on a device. */
export const enum PacketType {
  Connect = 1,
  Connack = 2,
  Publish = 3,
  Puback = 4,
  Pubrec = 5,
  Pubrel = 6,
  Pubcomp = 7,
  Subscribe = 8,
  Suback = 9,
  Unsubscribe = 10,
  Unsuback = 11,
  Pingreq = 12,
  Pingresp = 13,
  Disconnect = 14,
}

/** The largest Remaining Length MQTT can express (four length bytes, 2.2.3). */
export const MAX_REMAINING_LENGTH = 268435455;

/**
 * Default decoder limit: a 256 KB Azure telemetry message plus the longest topic (65,535 bytes
 * and its 2-byte length), a packet id and a 5-byte fixed header.
 */
export const DEFAULT_MAX_PACKET_BYTES = 262144 + 65535 + 2 + 2 + 5;

/** SUBACK return code for a refused subscription. */
export const SUBACK_FAILURE = 0x80;

export interface WillMessage {
  topic: string;
  payload: string | Uint8Array;
  qos?: QoS;
  retain?: boolean;
}

export interface ConnectPacket {
  cmd: "connect";
  protocolId?: "MQTT";
  protocolVersion?: 4;
  clientId: string;
  keepalive: number;
  clean: boolean;
  username?: string;
  password?: string | Uint8Array;
  will?: WillMessage;
}

export interface ConnackPacket {
  cmd: "connack";
  sessionPresent: boolean;
  returnCode: number;
}

export interface PublishPacket {
  cmd: "publish";
  topic: string;
  /** Decoded payloads are Uint8Array; strings are accepted when encoding (sent as UTF-8). */
  payload: Uint8Array | string;
  qos: QoS;
  dup: boolean;
  retain: boolean;
  /** Present when qos > 0. */
  messageId?: number;
  /** Decoded only: the whole size of a PUBLISH over the decoder's maximum, whose payload was let
   * go by unread (`payload` is then empty). */
  dropped?: number;
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK carry only a packet id. */
export interface AckPacket {
  cmd: "puback" | "pubrec" | "pubrel" | "pubcomp" | "unsuback";
  messageId: number;
}

export interface Subscription {
  topic: string;
  /** 0 when left out. */
  qos?: QoS;
}

export interface SubscribePacket {
  cmd: "subscribe";
  messageId: number;
  subscriptions: Subscription[];
}

export interface SubackPacket {
  cmd: "suback";
  messageId: number;
  /** Granted QoS per filter, or 0x80 (SUBACK_FAILURE) where the server refused it. */
  granted: number[];
}

export interface UnsubscribePacket {
  cmd: "unsubscribe";
  messageId: number;
  unsubscriptions: string[];
}

export interface EmptyPacket {
  cmd: "pingreq" | "pingresp" | "disconnect";
}

export type MqttPacket =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | EmptyPacket;
