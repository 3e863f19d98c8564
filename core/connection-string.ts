// IoT Hub device connection strings, as the Azure portal and SDKs give them:
//   HostName={hub};DeviceId={id}[;ModuleId={id}][;GatewayHostName={host}];{credential}
// where the credential is exactly one of SharedAccessKey={base64}, SharedAccessSignature={token}
// or x509=true. Parsing is strict: a typo in a part name or a doubled part is an error that names
// the part, never silently ignored. Values are never quoted in errors: they may be secrets.
import { liteError } from "./errors";
import { checkHubIdentity } from "./hub-credentials";
import type { HubIdentity } from "./identity";
import { decodeKey } from "./sas";

export interface ConnectionString extends HubIdentity {
  /** IoT Edge gateway to connect through; the identity, username and token still name `hostName`. */
  gatewayHostName?: string;
  sharedAccessKey?: string;
  /** A ready-made token ("SharedAccessSignature sr=..."), used as the password until it expires. */
  sharedAccessSignature?: string;
  /** True for X.509 client-certificate authentication (the TLS layer carries the credential). */
  x509?: boolean;
}


export function parseConnectionString(text: string): ConnectionString {
  // The parts Azure defines: a string split here, since a table kept at the top level would be a
  // variable per element on a device, for good.
  const known = "HostName DeviceId ModuleId GatewayHostName SharedAccessKey SharedAccessSignature x509".split(" ");
  const malformed = "CONNECTION_STRING_MALFORMED"; // four times here: once in the module's bytes
  if (typeof text !== "string") throw liteError(malformed, "not a string");
  // Tolerate the surroundings of copy and paste (whitespace, a trailing ';'), nothing inside.
  let body = text.trim();
  if (body.charAt(body.length - 1) === ";") body = body.substring(0, body.length - 1);
  // Each part lands in the field named like it with a lower-case first letter (HostName -> hostName).
  const parts: { [field: string]: string } = {};
  const segments = body.split(";");
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const equals = segment.indexOf("=");
    if (equals < 1) throw liteError(malformed, "part " + (i + 1) + " is not Name=value");
    const name = segment.substring(0, equals);
    if (known.indexOf(name) < 0) {
      // Named only when it is a known name mis-cased, or SharedAccessKeyName (a service's
      // connection string): anything else may be a key's tail after a stray ';', so its position.
      const named = (known.join(" ") + " SharedAccessKeyName").toLowerCase().split(" ").indexOf(name.toLowerCase()) >= 0;
      throw liteError("CONNECTION_STRING_UNKNOWN_PART", "unknown part " + (named ? name : "number " + (i + 1)));
    }
    const field = name.charAt(0).toLowerCase() + name.substring(1);
    if (parts[field] !== undefined) throw liteError("CONNECTION_STRING_DUPLICATE_PART", name + " appears twice");
    const value = segment.substring(equals + 1);
    if (value === "") throw liteError("CONNECTION_STRING_EMPTY_PART", name + " is empty");
    parts[field] = value;
  }
  const missing = parts.hostName === undefined ? "HostName" : parts.deviceId === undefined ? "DeviceId" : "";
  if (missing) throw liteError("CONNECTION_STRING_MISSING_PART", missing + " is missing");
  const result = parts as unknown as ConnectionString;
  checkHubIdentity(result);

  if ((parts.sharedAccessKey ? 1 : 0) + (parts.sharedAccessSignature ? 1 : 0) + (parts.x509 ? 1 : 0) !== 1) {
    throw liteError("CONNECTION_STRING_CREDENTIAL", "needs SharedAccessKey, SharedAccessSignature or x509");
  }
  if (parts.sharedAccessKey) decodeKey(parts.sharedAccessKey, "SharedAccessKey");
  if (parts.sharedAccessSignature && parts.sharedAccessSignature.indexOf("SharedAccessSignature ") !== 0) {
    throw liteError(malformed, "SharedAccessSignature not a token");
  }
  if (parts.x509) {
    if (parts.x509.toLowerCase() !== "true") throw liteError(malformed, "x509 must be true");
    result.x509 = true;
  }
  return result;
}
