// Who the device is, and the strings that say so in MQTT CONNECT (PROTOCOL.md 2 and 3): pure
// functions of the identity, checked before anything is sent, so a bad id fails here with a typed
// error instead of as a bare CONNACK refusal from Azure.
import { liteError } from "./errors";
import { urlEncode } from "./url";

export interface DpsIdentity {
  /** The DPS instance's ID Scope, e.g. "0ne00000000". */
  idScope: string;
  registrationId: string;
}

export interface HubIdentity {
  /** The IoT Hub host name, e.g. "my-hub.azure-devices.net" (DPS returns it as `assignedHub`). */
  hostName: string;
  deviceId: string;
  moduleId?: string;
}

const enum ApiVersion {
  Dps = "2019-03-31",
  Hub = "2021-04-12",
}

/** Throws ARGUMENT_INVALID naming `name` unless `value` is a non-empty string. */
export function checkNonEmpty(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") throw liteError("ARGUMENT_INVALID", name + " missing");
  return value;
}

// Espruino's regular expressions have no {n,m}, so the 128 limit is checked apart.
function checkId(id: unknown, allowed: RegExp, code: string, name: string): string {
  if (typeof id !== "string" || id.length > 128 || !allowed.test(id)) {
    throw liteError(code, "bad " + name);
  }
  return id;
}

/** DPS registration ids: at most 128 alphanumerics and `: . _ -` (REGISTRATION_ID_INVALID). */
export function checkRegistrationId(registrationId: unknown): string {
  return checkId(registrationId, /^[\w:.-]+$/, "REGISTRATION_ID_INVALID", "registrationId");
}

// Device and module ids as IoT Hub documents them: at most 128 ASCII alphanumerics and
// - . % _ * ? ! ( ) , : = @ $ '. Azure now also lists + # ;, which are refused here: + and # are
// MQTT wildcards (an id holding one cannot appear in a SUBSCRIBE topic filter), ; splits a
// connection string.
const HUB_ID = /^[\w\-.%*?!(),:=@$']+$/;

/** Throws DEVICE_ID_INVALID (or MODULE_ID_INVALID when `isModule`) for an id IoT Hub would not accept. */
export function checkHubId(id: unknown, isModule?: boolean): string {
  return checkId(id, HUB_ID, isModule ? "MODULE_ID_INVALID" : "DEVICE_ID_INVALID", isModule ? "moduleId" : "deviceId");
}

/** Checks every field of a Hub identity; returns it for chaining. */
export function checkHubIdentity(identity: HubIdentity): HubIdentity {
  checkNonEmpty(identity.hostName, "hostName");
  checkHubId(identity.deviceId);
  if (identity.moduleId !== undefined) checkHubId(identity.moduleId, true);
  return identity;
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
