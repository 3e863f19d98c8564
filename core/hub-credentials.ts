// The strings a device shows IoT Hub (PROTOCOL.md 3): its device or module identity checked, the
// CONNECT client id and username, and the SAS token's resource and signature. Hub-only, so on
// Espruino they live in the hub module.
import type { CryptoProvider } from "./crypto";
import { checkId, checkNonEmpty, type HubIdentity } from "./identity";
import { identityPath } from "./hub-topics";
import { sasToken } from "./sas";
import { urlEncode } from "./url";

const enum ApiVersion {
  Hub = "2021-04-12",
}

// Device and module ids as IoT Hub documents them: at most 128 ASCII alphanumerics and
// - . % _ * ? ! ( ) , : = @ $ '. Azure now also lists + # ;, which are refused here: + and # are
// MQTT wildcards (an id holding one cannot appear in a SUBSCRIBE topic filter), ; splits a
// connection string. (The expression is made at each check, not kept in a module-level constant:
// on a device that would hold about 5 variables for as long as the module is loaded.)

/** Throws DEVICE_ID_INVALID (or MODULE_ID_INVALID when `isModule`) for an id IoT Hub would not accept. */
export function checkHubId(id: unknown, isModule?: boolean): string {
  return checkId(id, /^[\w\-.%*?!(),:=@$']+$/, isModule ? "MODULE_ID_INVALID" : "DEVICE_ID_INVALID", isModule ? "moduleId" : "deviceId");
}

/** Checks every field of a Hub identity; returns it for chaining. */
export function checkHubIdentity(identity: HubIdentity): HubIdentity {
  checkNonEmpty(identity.hostName, "hostName");
  checkHubId(identity.deviceId);
  if (identity.moduleId !== undefined) checkHubId(identity.moduleId, true);
  return identity;
}

/** IoT Hub CONNECT client id: `{deviceId}` or `{deviceId}/{moduleId}`. */
export function hubClientId(identity: HubIdentity): string {
  checkHubIdentity(identity);
  return identity.moduleId === undefined ? identity.deviceId : identity.deviceId + "/" + identity.moduleId;
}

/**
 * IoT Hub CONNECT username: `{hostName}/{clientId}/?api-version={apiVersion}`, plus
 * `&model-id={url-encoded DTMI}` for an IoT Plug and Play device.
 */
export function hubUsername(identity: HubIdentity, modelId?: string, apiVersion?: string): string {
  const username = identity.hostName + "/" + hubClientId(identity) + "/?api-version=" + (apiVersion || ApiVersion.Hub);
  return modelId === undefined ? username : username + "&model-id=" + urlEncode(checkNonEmpty(modelId, "modelId"));
}

/** `{hostName}/devices/{deviceId}[/modules/{moduleId}]`: the `sr` of an IoT Hub token. */
export function hubResourceUri(identity: HubIdentity): string {
  checkHubIdentity(identity);
  return identity.hostName + "/" + identityPath(identity);
}

/** The IoT Hub MQTT password for a device or module key (no skn: the key is the device's own). */
export function hubSasToken(identity: HubIdentity, key: string, expiry: number, crypto?: CryptoProvider): string {
  return sasToken(hubResourceUri(identity), key, expiry, undefined, crypto);
}
