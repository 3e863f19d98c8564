// The DPS flow of PROTOCOL.md §2 spelled out with the raw client, for tests that need a correct
// device before the library's own client exists (and to cross-check it afterwards).
import type { IConnackPacket, IConnectPacket, IPublishPacket } from "mqtt-packet";
import type { Simulator } from "../../simulator";
import { dpsConnectPacket } from "./dps-credentials";
import { RawMqttClient } from "./raw-mqtt-client";

export interface DpsResponse {
  status: number;
  rid: string;
  /** Seconds; undefined when the topic had no retry-after. */
  retryAfter: number | undefined;
  /** Parsed JSON; `any` so tests can look into it freely. */
  body: any;
}

export interface OpenDpsOptions {
  registrationId: string;
  /** Device key for a SAS password; leave out for X.509. */
  key?: string;
  /** Client certificate and key PEM for X.509. */
  certificate?: { cert: string; key: string };
  /** Replaces fields of the CONNECT. */
  overrides?: Partial<IConnectPacket>;
  /** SNI; default the simulator's DPS host name. */
  servername?: string;
}

/** Opens TLS to the simulator's DPS and sends CONNECT; returns the client and the CONNACK. */
export async function openDps(sim: Simulator, options: OpenDpsOptions): Promise<{ client: RawMqttClient; connack: IConnackPacket }> {
  const client = await sendDpsConnect(sim, options);
  return { client, connack: await client.expect("connack") };
}

/** Opens TLS and sends CONNECT without waiting for a CONNACK (for servers told to stay silent). */
export async function sendDpsConnect(sim: Simulator, options: OpenDpsOptions): Promise<RawMqttClient> {
  const servername = options.servername ?? sim.dpsHost;
  const client = await RawMqttClient.open({
    port: sim.resolve(servername).port,
    servername,
    ca: sim.ca,
    cert: options.certificate?.cert,
    key: options.certificate?.key,
  });
  client.send(
    dpsConnectPacket({ idScope: sim.idScope, registrationId: options.registrationId, key: options.key, overrides: options.overrides }),
  );
  return client;
}

export async function subscribeToResponses(client: RawMqttClient, qos: 0 | 1 = 1): Promise<number[]> {
  client.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "$dps/registrations/res/#", qos }] });
  return (await client.expect("suback")).granted as number[];
}

export function registerPacket(rid: string, body: unknown, qos: 0 | 1 = 1): IPublishPacket {
  return {
    cmd: "publish",
    topic: `$dps/registrations/PUT/iotdps-register/?$rid=${rid}`,
    payload: Buffer.from(JSON.stringify(body), "utf8"),
    qos,
    dup: false,
    retain: false,
    messageId: qos === 1 ? 100 + Number(rid) : undefined,
  };
}

export function pollPacket(rid: string, operationId: string, qos: 0 | 1 = 1): IPublishPacket {
  return {
    cmd: "publish",
    topic: `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=${rid}&operationId=${encodeURIComponent(operationId)}`,
    payload: Buffer.alloc(0),
    qos,
    dup: false,
    retain: false,
    messageId: qos === 1 ? 100 + Number(rid) : undefined,
  };
}

function parseResponse(packet: IPublishPacket): DpsResponse {
  const match = /^\$dps\/registrations\/res\/(\d{3})\/\?(.*)$/.exec(packet.topic);
  if (!match) throw new Error("not a DPS response topic: " + packet.topic);
  const query = new URLSearchParams(match[2]);
  const retryAfter = query.get("retry-after");
  return {
    status: Number(match[1]),
    rid: query.get("$rid") ?? "",
    retryAfter: retryAfter === null ? undefined : Number(retryAfter),
    body: JSON.parse(packet.payload.toString()),
  };
}

/** The next DPS response, skipping PUBACKs for our own publishes and acknowledging QoS 1 responses. */
export async function nextResponse(client: RawMqttClient, timeoutMs?: number): Promise<DpsResponse> {
  for (;;) {
    const packet = await client.next(timeoutMs);
    if (packet.cmd === "puback") continue;
    if (packet.cmd !== "publish") throw new Error("expected a DPS response, got " + packet.cmd);
    if (packet.qos === 1) client.send({ cmd: "puback", messageId: packet.messageId ?? 0 });
    return parseResponse(packet);
  }
}

/** Registers and polls (honouring retry-after, 0 when absent) until a response other than 202; returns them all. */
export async function register(client: RawMqttClient, registrationId: string, payload?: unknown): Promise<DpsResponse[]> {
  const body = payload === undefined ? { registrationId } : { registrationId, payload };
  let rid = 1;
  client.send(registerPacket(String(rid), body));
  const responses = [await nextResponse(client)];
  for (let last = responses[0]; last.status === 202; last = responses[responses.length - 1]) {
    await new Promise((resolve) => setTimeout(resolve, (last.retryAfter ?? 0) * 1000));
    rid++;
    client.send(pollPacket(String(rid), last.body.operationId));
    responses.push(await nextResponse(client));
  }
  return responses;
}
