// What the simulator remembers about each client, so tests can judge behaviour after the fact
// ("did not poll before retry-after", "subscribed before publishing", "sent DISCONNECT").
// Times are milliseconds since the simulator started, from a monotonic clock.
import type { Packet } from "mqtt-packet";
import type { SasSummary } from "./sas";

/** A packet as parsed (in) or generated (out) by mqtt-packet; a CONNECT's password is never kept. */
export type RecordedPacket = Packet;

export interface PacketRecord {
  atMs: number;
  direction: "in" | "out";
  packet: RecordedPacket;
}

/**
 * Something that happened on a connection besides a packet: a fault fired, a response went nowhere
 * ("undelivered"), a will was forwarded, a method response came too late ("late-response"), or the
 * client did something legal but risky ("warning", e.g. a raw `+` in a property bag).
 */
export interface ConnectionEvent {
  atMs: number;
  kind: "fault" | "undelivered" | "protocol-error" | "will" | "late-response" | "warning";
  detail: string;
}

export interface ConnectionRecord {
  id: number;
  /** The SNI host name the client sent; undefined when it sent none. */
  host: string | undefined;
  service: "dps" | "hub" | undefined;
  openedAtMs: number;
  /** Subject CN of a client certificate, when one was presented. */
  clientCertificateCommonName?: string;
  /** True when that certificate chains to the simulator's CA. */
  clientCertificateTrusted?: boolean;
  clientId?: string;
  username?: string;
  /** The SAS token from CONNECT, minus its signature. */
  sas?: SasSummary;
  /** Hub: the Plug and Play model id from the username, URL-decoded. */
  modelId?: string;
  /** Hub: the CONNACK's session-present flag, once accepted. */
  sessionPresent?: boolean;
  /** Why CONNECT was refused, e.g. "sas-expired", "client-id-mismatch"; undefined when accepted. */
  refusal?: string;
  packets: PacketRecord[];
  events: ConnectionEvent[];
  closedAtMs?: number;
  closedBy?: "client" | "server";
  /**
   * Server side: why it closed ("refused", "fault-drop", "keep-alive-timeout", "simulator-closed",
   * "400027 ConnectionForcefullyClosedOnNewConnection", ...); client side: "disconnect" after a DISCONNECT.
   */
  closeReason?: string;
}

/** Drops the password from a CONNECT before it is stored; other packets are kept as they are. */
export function withoutSecrets(packet: Packet): RecordedPacket {
  if (packet.cmd !== "connect" || packet.password === undefined) return packet;
  const { password: _password, ...rest } = packet;
  return rest;
}
