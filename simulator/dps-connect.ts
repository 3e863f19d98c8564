// Judges a DPS CONNECT exactly (PROTOCOL.md §2): protocol level, username shape and api-version,
// client id, then the credential against the enrollments. Malformed credentials get CONNACK 4
// (bad user name or password), well-formed but wrong ones CONNACK 5 (not authorized), as a broker
// distinguishes them; the reason goes to the record only, never a key or signature.
import type { IConnectPacket } from "mqtt-packet";
import type { EnrollmentBook, EnrollmentMatch } from "./enrollments";
import { ConnackCode } from "./mqtt-connection";
import { parseSasToken, summarizeSasToken, type SasSummary } from "./sas";

/** 2019-03-31 is the documented MQTT version; the newer ones are those PROTOCOL.md lists. */
const SUPPORTED_DPS_API_VERSIONS = new Set(["2019-03-31", "2021-06-01", "2021-10-01", "2025-07-01-preview"]);

// {idScope}/registrations/{registrationId}/api-version={version}[&ClientVersion={url-encoded agent}]
const USERNAME = /^([^/]+)\/registrations\/([^/]+)\/api-version=([^&]+)((?:&[^&]*)*)$/;

export interface DpsConnectContext {
  idScope: string;
  enrollments: EnrollmentBook;
  nowSeconds: number;
  certificate?: { commonName: string | undefined; trusted: boolean };
}

export type DpsConnectVerdict =
  | { returnCode: 0; registrationId: string; match: EnrollmentMatch; sas?: SasSummary }
  | { returnCode: number; refusal: string; sas?: SasSummary };

function extraParametersAreValid(extra: string): boolean {
  if (extra === "") return true;
  for (const parameter of extra.slice(1).split("&")) {
    const [name, value] = parameter.split("=");
    if (name !== "ClientVersion" || value === undefined) return false;
    try {
      decodeURIComponent(value);
    } catch {
      return false;
    }
  }
  return true;
}

export function judgeDpsConnect(packet: IConnectPacket, context: DpsConnectContext): DpsConnectVerdict {
  if (packet.protocolId !== "MQTT" || packet.protocolVersion !== 4) {
    return { returnCode: ConnackCode.UNACCEPTABLE_PROTOCOL_VERSION, refusal: "protocol-level" };
  }
  const username = USERNAME.exec(packet.username ?? "");
  if (!username) return { returnCode: ConnackCode.BAD_USERNAME_OR_PASSWORD, refusal: "username-malformed" };
  const [, idScope, registrationId, apiVersion, extra] = username;
  if (!SUPPORTED_DPS_API_VERSIONS.has(apiVersion)) {
    return { returnCode: ConnackCode.BAD_USERNAME_OR_PASSWORD, refusal: "api-version-unsupported" };
  }
  if (!extraParametersAreValid(extra)) {
    return { returnCode: ConnackCode.BAD_USERNAME_OR_PASSWORD, refusal: "username-parameter-unknown" };
  }
  if (idScope !== context.idScope) return { returnCode: ConnackCode.NOT_AUTHORIZED, refusal: "id-scope-unknown" };
  if (packet.clientId !== registrationId) return { returnCode: ConnackCode.NOT_AUTHORIZED, refusal: "client-id-mismatch" };

  let sas: SasSummary | undefined;
  const presented = { idScope, registrationId, nowSeconds: context.nowSeconds, certificate: context.certificate };
  if (packet.password !== undefined) {
    const token = parseSasToken(packet.password.toString("utf8"));
    if (!token) return { returnCode: ConnackCode.BAD_USERNAME_OR_PASSWORD, refusal: "password-not-a-sas-token" };
    sas = summarizeSasToken(token);
    const match = context.enrollments.authenticate({ ...presented, sas: token });
    if ("refusal" in match) return { returnCode: ConnackCode.NOT_AUTHORIZED, refusal: match.refusal, sas };
    return { returnCode: 0, registrationId, match, sas };
  }
  const match = context.enrollments.authenticate(presented);
  if ("refusal" in match) return { returnCode: ConnackCode.NOT_AUTHORIZED, refusal: match.refusal };
  return { returnCode: 0, registrationId, match };
}
