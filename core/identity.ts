// Who the device is, and the checks shared by DPS and IoT Hub: pure functions, run before anything
// is sent, so a bad id fails here with a typed error instead of as a bare CONNACK refusal from
// Azure. The DPS- and hub-specific strings are in dps-credentials.ts and hub-credentials.ts.
import { liteError } from "./errors";

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

/** Throws ARGUMENT_INVALID naming `name` unless `value` is a non-empty string. */
export function checkNonEmpty(value: unknown, name: string): string {
  if (typeof value !== "string" || value === "") throw liteError("ARGUMENT_INVALID", name + " missing");
  return value;
}

/** Checks an Azure id: at most 128 characters, all matching `allowed` (Espruino's regular
 * expressions have no {n,m}, so the length is checked apart). Throws `code` naming `name`. */
export function checkId(id: unknown, allowed: RegExp, code: string, name: string): string {
  if (typeof id !== "string" || id.length > 128 || !allowed.test(id)) {
    throw liteError(code, "bad " + name);
  }
  return id;
}

/** DPS registration ids: at most 128 alphanumerics and `: . _ -`, the last alphanumeric or `-`
 * (Azure DPS, "Registration ID"; REGISTRATION_ID_INVALID). */
export function checkRegistrationId(registrationId: unknown): string {
  return checkId(registrationId, /^[\w:.-]*[A-Za-z0-9-]$/, "REGISTRATION_ID_INVALID", "registrationId");
}

/**
 * Checks what the hub and DPS clients' options share, before anything is sent; throws
 * ARGUMENT_INVALID naming the option. Each numeric option given must be a number of 0 or more:
 * one given as text (from an environment variable, say) would be joined, not added, making a SAS
 * token that expires in thousands of years or a deadline that passes at once. A `sasToken` must
 * be a token, not a key pasted in its place, which would go out as the password.
 */
export function checkClientOptions(options: object): void {
  if (!options || typeof options !== "object") throw liteError("ARGUMENT_INVALID", "options missing");
  const given = options as { [name: string]: unknown };
  // One list for both clients (and the session): a name an options object lacks is skipped.
  const names = "port sasTtlSeconds requestTimeoutMs timeoutMs keepAliveSeconds reconnectMinMs reconnectMaxMs maxRetries defaultRetryAfterSeconds maxQueuedMessages maxQueuedBytes maxInflight maxPacketBytes ackTimeoutMs".split(" ");
  for (let i = 0; i < names.length; i++) {
    const value = given[names[i]];
    if (value !== undefined && !(typeof value === "number" && value >= 0)) throw liteError("ARGUMENT_INVALID", names[i] + " is not a number of 0 or more");
  }
  const token = given.sasToken;
  if (token !== undefined && (typeof token !== "string" || token.indexOf("SharedAccessSignature ") !== 0)) {
    throw liteError("ARGUMENT_INVALID", "sasToken is not a token (SharedAccessSignature sr=...)");
  }
}
