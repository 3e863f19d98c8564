// The strings a device shows DPS (PROTOCOL.md 2): its identity checked, the CONNECT username, and
// the SAS token's resource and signature. DPS-only, so on Espruino they live in the DPS module.
import type { CryptoProvider } from "./crypto";
import { checkNonEmpty, checkRegistrationId, type DpsIdentity } from "./identity";
import { sasToken } from "./sas";

const enum ApiVersion {
  Dps = "2019-03-31",
}

/** Checks both fields of a DPS identity; returns it for chaining. */
export function checkDpsIdentity(identity: DpsIdentity): DpsIdentity {
  checkNonEmpty(identity.idScope, "idScope");
  checkRegistrationId(identity.registrationId);
  return identity;
}

/** DPS CONNECT username: `{idScope}/registrations/{registrationId}/api-version={apiVersion}`. */
export function dpsUsername(identity: DpsIdentity, apiVersion?: string): string {
  checkDpsIdentity(identity);
  return identity.idScope + "/registrations/" + identity.registrationId + "/api-version=" + (apiVersion || ApiVersion.Dps);
}

/** `{idScope}/registrations/{registrationId}`: the `sr` of a DPS token. */
export function dpsResourceUri(identity: DpsIdentity): string {
  checkDpsIdentity(identity);
  return identity.idScope + "/registrations/" + identity.registrationId;
}

/** The DPS MQTT password: sr = `{idScope}/registrations/{registrationId}`, skn = `registration`. */
export function dpsSasToken(identity: DpsIdentity, key: string, expiry: number, crypto?: CryptoProvider): string {
  return sasToken(dpsResourceUri(identity), key, expiry, "registration", crypto);
}
