// IoT Hub CONNECT material for tests, computed with node:crypto straight from PROTOCOL.md §3 and
// on purpose not shared with simulator/sas.ts or core/: if one of them misreads the spec, the two
// disagree and a test fails.
import { createHmac } from "node:crypto";
import type { IConnectPacket } from "mqtt-packet";

export const HUB_API_VERSION = "2021-04-12";

/** SharedAccessSignature sr={enc(host/devices/id[/modules/mid])}&sig={enc(b64 hmac)}&se={expiry}, no skn. */
export function hubSasToken(resourceUri: string, keyBase64: string, expirySeconds: number): string {
  const encodedResource = encodeURIComponent(resourceUri);
  const signature = createHmac("sha256", Buffer.from(keyBase64, "base64"))
    .update(`${encodedResource}\n${expirySeconds}`, "utf8")
    .digest("base64");
  return `SharedAccessSignature sr=${encodedResource}&sig=${encodeURIComponent(signature)}&se=${expirySeconds}`;
}

export function hubResourceUri(host: string, deviceId: string, moduleId?: string): string {
  return moduleId === undefined ? `${host}/devices/${deviceId}` : `${host}/devices/${deviceId}/modules/${moduleId}`;
}

/** `{host}/{deviceId}[/{moduleId}]/?api-version=2021-04-12[&model-id={enc(dtmi)}]` */
export function hubUsername(host: string, deviceId: string, options: { moduleId?: string; modelId?: string; apiVersion?: string } = {}): string {
  const identity = options.moduleId === undefined ? deviceId : `${deviceId}/${options.moduleId}`;
  const model = options.modelId === undefined ? "" : `&model-id=${encodeURIComponent(options.modelId)}`;
  return `${host}/${identity}/?api-version=${options.apiVersion ?? HUB_API_VERSION}${model}`;
}

export interface HubConnectOptions {
  host: string;
  deviceId: string;
  moduleId?: string;
  /** Device (or module) key to sign a SAS password with; leave out for X.509 (no password). */
  key?: string;
  expirySeconds?: number;
  /** CleanSession; default true. */
  clean?: boolean;
  modelId?: string;
  will?: IConnectPacket["will"];
  /** Replace any field of the generated packet, e.g. a wrong username. */
  overrides?: Partial<IConnectPacket>;
}

export function inOneHour(): number {
  return Math.floor(Date.now() / 1000) + 3600;
}

/** A well-formed hub CONNECT: MQTT 3.1.1, client id = device id (or deviceId/moduleId). */
export function hubConnectPacket(options: HubConnectOptions): IConnectPacket {
  const packet: IConnectPacket = {
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clean: options.clean ?? true,
    keepalive: 60,
    clientId: options.moduleId === undefined ? options.deviceId : `${options.deviceId}/${options.moduleId}`,
    username: hubUsername(options.host, options.deviceId, { moduleId: options.moduleId, modelId: options.modelId }),
  };
  if (options.will) packet.will = options.will;
  if (options.key !== undefined) {
    const token = hubSasToken(hubResourceUri(options.host, options.deviceId, options.moduleId), options.key, options.expirySeconds ?? inOneHour());
    packet.password = Buffer.from(token, "utf8");
  }
  return { ...packet, ...options.overrides };
}
