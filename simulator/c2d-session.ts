// A device's MQTT session on the hub and the cloud-to-device messages it holds (PROTOCOL.md §3;
// Azure's "Receiving cloud-to-device messages"): a device receives only messages sent while it had
// a subscription to `devices/{id}/messages/devicebound/#`. With CleanSession 0 that subscription,
// and every message not yet acknowledged, outlive the connection: they are sent again (DUP set,
// same packet id, MQTT-4.4.0-1) right after the next CleanSession 0 CONNACK. With CleanSession 1
// the session lasts as long as the connection, and what it held is discarded.
//
// Only the C2D subscription persists. Whether Azure keeps twin and method subscriptions across
// CleanSession 0 connections is not documented; the simulator does not, so a client that forgets to
// subscribe again after a reconnect fails here rather than in the field.
import { randomUUID } from "node:crypto";
import { c2dTopic } from "./hub-topics";
import { encodePropertyBag, type PropertyEntries, type PropertyValue } from "./property-bag";

/** Azure's limits: a C2D message is at most 64 KB; a device queue holds at most 50 messages. */
export const C2D_MAX_BYTES = 64 * 1024;
export const C2D_QUEUE_DEPTH = 50;

export type C2dState = "queued" | "in-flight" | "acknowledged" | "discarded";

/** What the service side sets on a C2D message, named as in Azure's service SDKs. */
export interface C2dSystemProperties {
  /** `$.mid`; default a new UUID, as Azure's service SDKs and CLI set one. null leaves it out. */
  messageId?: string | null;
  correlationId?: string;
  userId?: string;
  contentType?: string;
  contentEncoding?: string;
  /** `$.exp`, an ISO time. */
  expiryTimeUtc?: string;
  /** `iothub-ack`: the feedback the sender asked for; left out unless set, like the hub. */
  ack?: "none" | "positive" | "negative" | "full";
}

export interface C2dMessage {
  readonly deviceId: string;
  /** `$.mid`, when the message has one. */
  readonly messageId: string | undefined;
  /** The full topic it is (or would be) delivered on. */
  readonly topic: string;
  readonly payload: Buffer;
  readonly state: C2dState;
  /** PUBLISHes so far; every one after the first carries DUP. */
  readonly deliveries: number;
  /** Why it was discarded: "no-subscription", "clean-session", "session-ended". */
  readonly discardReason: string | undefined;
  /** Resolves with the final state; never rejects. */
  readonly settled: Promise<"acknowledged" | "discarded">;
}

export class TrackedC2d implements C2dMessage {
  readonly deviceId: string;
  readonly messageId: string | undefined;
  readonly topic: string;
  readonly payload: Buffer;
  readonly settled: Promise<"acknowledged" | "discarded">;
  state: C2dState = "queued";
  deliveries = 0;
  discardReason: string | undefined;
  /** Chosen at the first PUBLISH and kept for re-sends. */
  packetId: number | undefined;
  private resolve!: (state: "acknowledged" | "discarded") => void;

  constructor(deviceId: string, payload: Buffer, topic: string, messageId: string | undefined) {
    this.deviceId = deviceId;
    this.payload = payload;
    this.topic = topic;
    this.messageId = messageId;
    this.settled = new Promise((resolve) => (this.resolve = resolve));
  }

  acknowledge(): void {
    this.state = "acknowledged";
    this.resolve("acknowledged");
  }

  discard(reason: string): void {
    this.state = "discarded";
    this.discardReason = reason;
    this.resolve("discarded");
  }
}

/**
 * The property bag the hub puts on a C2D topic: `$.mid`, `$.to`, the other system properties the
 * sender set, the application properties, then `iothub-ack`. Published traces of the real hub show
 * this order, e.g. `%24.mid=…&%24.to=%2Fdevices%2Fd1%2Fmessages%2Fdevicebound&%24.ce=utf-8&iothub-ack=none`
 * (Azure's MQTT article and the mosquitto sample); the order is not a contract, so clients must not rely on it.
 */
export function buildC2dMessage(
  deviceId: string,
  payload: Buffer,
  properties: Record<string, PropertyValue> = {},
  system: C2dSystemProperties = {},
): TrackedC2d {
  if (payload.length > C2D_MAX_BYTES) throw new Error(`a C2D message is at most 64 KB, this one is ${payload.length} bytes`);
  for (const key of Object.keys(properties)) {
    if (key.startsWith("$.") || key === "") throw new Error(`"${key}" is not an application property name`);
  }
  const messageId = system.messageId === null ? undefined : (system.messageId ?? randomUUID());
  const entries: PropertyEntries = [];
  if (messageId !== undefined) entries.push(["$.mid", messageId]);
  entries.push(["$.to", `/devices/${deviceId}/messages/devicebound`]);
  if (system.expiryTimeUtc !== undefined) entries.push(["$.exp", system.expiryTimeUtc]);
  if (system.correlationId !== undefined) entries.push(["$.cid", system.correlationId]);
  if (system.userId !== undefined) entries.push(["$.uid", system.userId]);
  if (system.contentType !== undefined) entries.push(["$.ct", system.contentType]);
  if (system.contentEncoding !== undefined) entries.push(["$.ce", system.contentEncoding]);
  entries.push(...Object.entries(properties));
  if (system.ack !== undefined) entries.push(["iothub-ack", system.ack]);
  return new TrackedC2d(deviceId, payload, c2dTopic(deviceId, encodePropertyBag(entries)), messageId);
}

export class DeviceSession {
  /** CleanSession 0: the session outlives its connection. */
  readonly persistent: boolean;
  /** QoS granted on the C2D filter; undefined while not subscribed. */
  c2dQos: 0 | 1 | undefined;
  /** Queued and in-flight messages, oldest first. */
  private outbox: TrackedC2d[] = [];
  private lastPacketId = 0;

  constructor(persistent: boolean) {
    this.persistent = persistent;
  }

  get pending(): readonly TrackedC2d[] {
    return this.outbox;
  }

  /** Accepts a message into the session; throws when the device queue is full (Azure's 403004). */
  enqueue(message: TrackedC2d): void {
    if (this.outbox.length >= C2D_QUEUE_DEPTH) {
      throw new Error("403004 DeviceMaximumQueueDepthExceeded: the device already has 50 messages pending");
    }
    this.outbox.push(message);
  }

  /** A packet id for a server PUBLISH at QoS 1: 1..65535, wrapping, never one still awaiting its PUBACK. */
  nextPacketId(): number {
    const inUse = new Set(this.outbox.map((message) => message.packetId));
    do this.lastPacketId = (this.lastPacketId % 65535) + 1;
    while (inUse.has(this.lastPacketId));
    return this.lastPacketId;
  }

  /** The in-flight message this PUBACK settles, if any (PUBACKs for twin responses and method requests match none). */
  acknowledge(packetId: number): TrackedC2d | undefined {
    const index = this.outbox.findIndex((message) => message.state === "in-flight" && message.packetId === packetId);
    if (index < 0) return undefined;
    const [message] = this.outbox.splice(index, 1);
    message.acknowledge();
    return message;
  }

  /** A QoS 0 delivery is settled as it leaves: there is nothing to wait for. */
  settleUnacknowledged(message: TrackedC2d): void {
    this.outbox = this.outbox.filter((queued) => queued !== message);
    message.acknowledge();
  }

  /** The connection went away: in-flight messages wait, queued again, for the next connection. */
  suspend(): void {
    for (const message of this.outbox) if (message.state === "in-flight") message.state = "queued";
  }

  discardAll(reason: string): void {
    for (const message of this.outbox) message.discard(reason);
    this.outbox = [];
  }
}
