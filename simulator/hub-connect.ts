// Judges an IoT Hub CONNECT exactly (PROTOCOL.md §3): protocol level, username shape, host and
// api-version, client id, the will, then the credential against the hub's identities. As on the
// DPS side, a malformed username or password gets CONNACK 4 and a well-formed but wrong one
// CONNACK 5; the reason goes to the record only, never a key or signature.
import type { IConnectPacket } from "mqtt-packet";
import { clientIdOf, type DeviceIdentity } from "./devices";
import { parseHubPublishTopic } from "./hub-topics";
import { ConnackCode } from "./mqtt-connection";
import { decodePropertyBag } from "./property-bag";
import { parseSasToken, sasRefusal, summarizeSasToken, type SasSummary } from "./sas";

/**
 * The device API versions Azure's REST reference lists; 2021-04-12 is the one PROTOCOL.md uses.
 * Plug and Play (`model-id`) needs 2020-09-30 or newer.
 */
const HUB_API_VERSIONS = ["2016-11-14", "2017-06-30", "2018-06-30", "2019-03-30", "2020-03-13", "2020-09-30", "2021-04-12"];
const FIRST_MODEL_ID_API_VERSION = "2020-09-30";

// {host}/{deviceId}[/{moduleId}]/?{query}
const USERNAME = /^([^/]+)\/([^/]+)(?:\/([^/]+))?\/\?(.*)$/;
// DTDL v2 identifiers: dtmi:<segment>(:<segment>)*;<version>
const DTMI = /^dtmi:[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?(?::[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)*;[1-9][0-9]{0,8}$/;

export interface HubConnectContext {
  /** The hub's host name (lower case), which the connection's SNI named. */
  hub: string;
  lookup(clientId: string): DeviceIdentity | undefined;
  nowSeconds: number;
  certificate?: { commonName: string | undefined; trusted: boolean };
}

export type HubConnectVerdict =
  | { returnCode: 0; identity: DeviceIdentity; apiVersion: string; modelId?: string; sas?: SasSummary }
  | { returnCode: number; refusal: string; sas?: SasSummary };

interface UsernameParts {
  /** As written: the SAS resource must name the hub the same way. */
  host: string;
  deviceId: string;
  moduleId?: string;
  apiVersion: string;
  modelId?: string;
}

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The username's parts, or a refusal reason (all answered with CONNACK 4). */
function readUsername(username: string): UsernameParts | string {
  const match = USERNAME.exec(username);
  if (!match) return "username-malformed";
  const [, host, deviceId, moduleId, query] = match;
  const parameters = new Map<string, string>();
  for (const pair of query.split("&")) {
    const equals = pair.indexOf("=");
    const name = equals < 0 ? pair : pair.slice(0, equals);
    const value = equals < 0 ? undefined : decoded(pair.slice(equals + 1));
    if (value === undefined || parameters.has(name)) return "username-parameter-malformed";
    if (name !== "api-version" && name !== "model-id" && name !== "DeviceClientType") return "username-parameter-unknown";
    parameters.set(name, value);
  }
  const apiVersion = parameters.get("api-version");
  if (apiVersion === undefined || !HUB_API_VERSIONS.includes(apiVersion)) return "api-version-unsupported";
  const parts: UsernameParts = { host, deviceId, apiVersion };
  if (moduleId !== undefined) parts.moduleId = moduleId;
  const modelId = parameters.get("model-id");
  if (modelId !== undefined) {
    if (!DTMI.test(modelId)) return "model-id-malformed";
    // The versions are ISO dates, so they compare as strings.
    if (apiVersion < FIRST_MODEL_ID_API_VERSION) return "model-id-needs-api-version-2020-09-30";
    parts.modelId = modelId;
  }
  return parts;
}

/** A will must be a telemetry message of this identity at QoS 0 or 1 (PROTOCOL.md §3). */
function willRefusal(will: IConnectPacket["will"], identity: { deviceId: string; moduleId?: string }): string | undefined {
  if (!will) return undefined;
  if ((will.qos ?? 0) > 1) return "will-qos-2";
  const request = parseHubPublishTopic(will.topic, identity);
  if (request?.kind !== "telemetry" || typeof decodePropertyBag(request.bag) === "string") return "will-topic-not-telemetry";
  return undefined;
}

type CredentialCheck = { sas?: SasSummary } & ({ refusal?: undefined } | { refusal: string; returnCode: number });

/** A SAS token signed with one of the identity's keys, or a trusted client certificate whose CN is the device id. */
function checkCredential(packet: IConnectPacket, identity: DeviceIdentity, host: string, context: HubConnectContext): CredentialCheck {
  const credential = identity.credential;
  const unauthorized = (refusal: string, sas?: SasSummary): CredentialCheck =>
    sas ? { refusal, returnCode: ConnackCode.NOT_AUTHORIZED, sas } : { refusal, returnCode: ConnackCode.NOT_AUTHORIZED };
  if (packet.password !== undefined) {
    const token = parseSasToken(packet.password.toString("utf8"));
    if (!token) return { refusal: "password-not-a-sas-token", returnCode: ConnackCode.BAD_USERNAME_OR_PASSWORD };
    const sas = summarizeSasToken(token);
    if (credential.type !== "symmetricKey") return unauthorized("sas-for-x509-device", sas);
    const module = identity.moduleId === undefined ? "" : `/modules/${identity.moduleId}`;
    const refusal = sasRefusal(token, {
      resourceUri: `${host}/devices/${identity.deviceId}${module}`,
      keyName: undefined, // a device or module key: the token names no policy
      keys: credential.keys,
      nowSeconds: context.nowSeconds,
    });
    return refusal ? unauthorized(refusal, sas) : { sas };
  }
  const certificate = context.certificate;
  if (credential.type !== "x509" || !certificate) return unauthorized("no-credentials");
  if (!certificate.trusted) return unauthorized("certificate-untrusted");
  if (certificate.commonName !== credential.commonName) return unauthorized("certificate-cn-mismatch");
  return {};
}

export function judgeHubConnect(packet: IConnectPacket, context: HubConnectContext): HubConnectVerdict {
  if (packet.protocolId !== "MQTT" || packet.protocolVersion !== 4) {
    return { returnCode: ConnackCode.UNACCEPTABLE_PROTOCOL_VERSION, refusal: "protocol-level" };
  }
  const username = readUsername(packet.username ?? "");
  if (typeof username === "string") return { returnCode: ConnackCode.BAD_USERNAME_OR_PASSWORD, refusal: username };
  // The username names the hub it is meant for; a token or name for another hub is not accepted here.
  if (username.host.toLowerCase() !== context.hub) return { returnCode: ConnackCode.NOT_AUTHORIZED, refusal: "username-host-mismatch" };
  const clientId = clientIdOf(username.deviceId, username.moduleId);
  if (packet.clientId !== clientId) return { returnCode: ConnackCode.NOT_AUTHORIZED, refusal: "client-id-mismatch" };
  const identity = context.lookup(clientId);
  if (!identity) return { returnCode: ConnackCode.NOT_AUTHORIZED, refusal: "device-unknown" };
  // Not 5: IoT Hub answers a disabled device "server unavailable" (azure-iot-sdk-c #314, #2300),
  // which a client cannot tell from an outage and so must keep retrying.
  if (!identity.enabled) return { returnCode: ConnackCode.SERVER_UNAVAILABLE, refusal: "device-disabled" };
  const credential = checkCredential(packet, identity, username.host, context);
  if (credential.refusal !== undefined) return credential;
  const will = willRefusal(packet.will, identity);
  if (will) return { returnCode: ConnackCode.NOT_AUTHORIZED, refusal: will };
  const verdict: HubConnectVerdict = { returnCode: 0, identity, apiVersion: username.apiVersion };
  if (username.modelId !== undefined) verdict.modelId = username.modelId;
  if (credential.sas) verdict.sas = credential.sas;
  return verdict;
}
