// DPS CONNECT material for tests, computed with node:crypto straight from PROTOCOL.md §2 and on
// purpose not shared with simulator/sas.ts or core/: if one of them misreads the spec, the two
// disagree and a test fails.
import { createHmac } from "node:crypto";
import type { IConnectPacket } from "mqtt-packet";

const DPS_API_VERSION = "2019-03-31";

function hmacSha256Base64(keyBase64: string, message: string): string {
  return createHmac("sha256", Buffer.from(keyBase64, "base64")).update(message, "utf8").digest("base64");
}

export function groupDeviceKey(groupKeyBase64: string, registrationId: string): string {
  return hmacSha256Base64(groupKeyBase64, registrationId);
}

/** SharedAccessSignature sr={enc(scope/registrations/id)}&sig={enc(b64 hmac)}&se={expiry}&skn=registration */
export function dpsSasToken(idScope: string, registrationId: string, keyBase64: string, expirySeconds: number): string {
  const encodedResource = encodeURIComponent(`${idScope}/registrations/${registrationId}`);
  const signature = hmacSha256Base64(keyBase64, `${encodedResource}\n${expirySeconds}`);
  return `SharedAccessSignature sr=${encodedResource}&sig=${encodeURIComponent(signature)}&se=${expirySeconds}&skn=registration`;
}

export function dpsUsername(idScope: string, registrationId: string, apiVersion = DPS_API_VERSION): string {
  return `${idScope}/registrations/${registrationId}/api-version=${apiVersion}`;
}

function inOneHour(): number {
  return Math.floor(Date.now() / 1000) + 3600;
}

export interface DpsConnectOptions {
  idScope: string;
  registrationId: string;
  /** Device key (base64) to sign a SAS password with; leave out for X.509 (no password). */
  key?: string;
  expirySeconds?: number;
  /** Replace any field of the generated packet, e.g. a wrong clientId. */
  overrides?: Partial<IConnectPacket>;
}

/** A well-formed DPS CONNECT: MQTT 3.1.1, clean session, client id = registration id. */
export function dpsConnectPacket(options: DpsConnectOptions): IConnectPacket {
  const packet: IConnectPacket = {
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    clientId: options.registrationId,
    username: dpsUsername(options.idScope, options.registrationId),
  };
  if (options.key !== undefined) {
    const expiry = options.expirySeconds ?? inOneHour();
    packet.password = Buffer.from(dpsSasToken(options.idScope, options.registrationId, options.key, expiry), "utf8");
  }
  return { ...packet, ...options.overrides };
}
