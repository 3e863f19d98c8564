// The IoT Hub device side of PROTOCOL.md §3 spelled out with the raw client, for tests that drive
// the simulator's hubs packet by packet (and, later, to cross-check the library's own client).
import type { IConnackPacket, IPublishPacket } from "mqtt-packet";
import type { Simulator } from "../../simulator";
import { hubConnectPacket, type HubConnectOptions } from "./hub-credentials";
import { RawMqttClient } from "./raw-mqtt-client";

export type OpenHubOptions = Omit<HubConnectOptions, "host"> & {
  /** The hub to dial; default the simulator's first. */
  host?: string;
  /** Client certificate and key PEM for X.509. */
  certificate?: { cert: string; key: string };
  /** SNI; default the hub host. */
  servername?: string;
};

export const C2D = (deviceId: string) => `devices/${deviceId}/messages/devicebound/#`;
export const TWIN_RESPONSES = "$iothub/twin/res/#";
export const TWIN_DESIRED = "$iothub/twin/PATCH/properties/desired/#";
export const METHODS = "$iothub/methods/POST/#";

/** Opens TLS to a simulated hub and sends CONNECT without waiting for the CONNACK. */
export async function sendHubConnect(sim: Simulator, options: OpenHubOptions): Promise<RawMqttClient> {
  const host = options.host ?? sim.hubs[0];
  const servername = options.servername ?? host;
  const client = await RawMqttClient.open({
    port: sim.resolve(servername).port,
    servername,
    ca: sim.ca,
    cert: options.certificate?.cert,
    key: options.certificate?.key,
  });
  client.send(hubConnectPacket({ ...options, host }));
  return client;
}

/** Opens TLS, sends CONNECT, returns the client and the CONNACK. */
export async function openHub(sim: Simulator, options: OpenHubOptions): Promise<{ client: RawMqttClient; connack: IConnackPacket }> {
  const client = await sendHubConnect(sim, options);
  return { client, connack: await client.expect("connack") };
}

/** SUBSCRIBE to the filters at one QoS; returns the granted codes. */
export async function subscribe(client: RawMqttClient, filters: string[], qos: 0 | 1 | 2 = 1, messageId = 1): Promise<number[]> {
  client.send({ cmd: "subscribe", messageId, subscriptions: filters.map((topic) => ({ topic, qos })) });
  const suback = await client.expect("suback");
  if (suback.messageId !== messageId) throw new Error("SUBACK for another SUBSCRIBE");
  return suback.granted as number[];
}

export interface PublishOptions {
  qos?: 0 | 1 | 2;
  messageId?: number;
  dup?: boolean;
  retain?: boolean;
}

export function publishPacket(topic: string, payload: string | Buffer, options: PublishOptions = {}): IPublishPacket {
  const qos = options.qos ?? 1;
  return {
    cmd: "publish",
    topic,
    payload: typeof payload === "string" ? Buffer.from(payload, "utf8") : payload,
    qos,
    dup: options.dup ?? false,
    retain: options.retain ?? false,
    messageId: qos > 0 ? (options.messageId ?? 1) : undefined,
  };
}

/** `devices/{id}/messages/events/{bag}` with the bag built here with encodeURIComponent. */
export function telemetryTopic(deviceId: string, properties: Array<[string, string | null]> = [], moduleId?: string): string {
  const bag = properties.map(([key, value]) => (value === null ? encodeURIComponent(key) : `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)).join("&");
  const owner = moduleId === undefined ? `devices/${deviceId}` : `devices/${deviceId}/modules/${moduleId}`;
  return `${owner}/messages/events/${bag}`;
}

/** The next PUBLISH from the hub, PUBACKing it when it is QoS 1 (unless `ack` is false); other packets are an error. */
export async function nextPublish(client: RawMqttClient, options: { ack?: boolean; timeoutMs?: number } = {}): Promise<IPublishPacket> {
  const packet = await client.expect("publish", options.timeoutMs);
  if (packet.qos === 1 && options.ack !== false) client.send({ cmd: "puback", messageId: packet.messageId ?? 0 });
  return packet;
}

export interface TwinResponse {
  status: number;
  rid: string;
  version: number | undefined;
  retryAfter: number | undefined;
  /** Parsed JSON, or undefined for an empty body. */
  body: any;
}

export function parseTwinResponse(packet: IPublishPacket): TwinResponse {
  const match = /^\$iothub\/twin\/res\/(\d{3})\/\?(.*)$/.exec(packet.topic);
  if (!match) throw new Error("not a twin response topic: " + packet.topic);
  const query = new URLSearchParams(match[2]);
  const number = (name: string) => (query.get(name) === null ? undefined : Number(query.get(name)));
  const text = packet.payload.toString();
  return { status: Number(match[1]), rid: query.get("$rid") ?? "", version: number("$version"), retryAfter: number("retry-after"), body: text ? JSON.parse(text) : undefined };
}

/** Sends a twin request (GET, or PATCH of reported properties) and returns the response, skipping the request's PUBACK. */
export async function twinRequest(client: RawMqttClient, rid: string, patch?: unknown | string): Promise<TwinResponse> {
  const topic = patch === undefined ? `$iothub/twin/GET/?$rid=${rid}` : `$iothub/twin/PATCH/properties/reported/?$rid=${rid}`;
  const body = patch === undefined ? "" : typeof patch === "string" ? patch : JSON.stringify(patch);
  client.send(publishPacket(topic, body, { messageId: 1000 + Number(rid) }));
  for (;;) {
    const packet = await client.next();
    if (packet.cmd === "puback") continue;
    if (packet.cmd !== "publish") throw new Error("expected a twin response, got " + packet.cmd);
    if (packet.qos === 1) client.send({ cmd: "puback", messageId: packet.messageId ?? 0 });
    return parseTwinResponse(packet);
  }
}

let deviceCounter = 0;

/** A fresh device with a random key registered directly on a hub, so one test's state never touches another's. */
export function addTestDevice(sim: Simulator, prefix = "device", host?: string): { deviceId: string; key: string; host: string } {
  const deviceId = `${prefix}-${++deviceCounter}`;
  const hub = sim.hub(host);
  const { primaryKey } = hub.addDevice({ deviceId });
  return { deviceId, key: primaryKey!, host: hub.hostName };
}

/** The connection records of one client on one hub, oldest first. */
export function recordsOf(sim: Simulator, clientId: string, host?: string) {
  const hub = (host ?? sim.hubs[0]).toLowerCase();
  return sim.connections.filter((record) => record.host === hub && record.clientId === clientId);
}

/** "in subscribe", "out suback", ...: a record's packets in order, for asserting sequences. */
export function packetLog(record: { packets: Array<{ direction: string; packet: { cmd: string } }> }): string[] {
  return record.packets.map((entry) => `${entry.direction} ${entry.packet.cmd}`);
}
