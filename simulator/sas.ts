// Verifies SAS tokens the way the service does (PROTOCOL.md §2 for DPS, §3 for the hub) and derives
// group-enrollment device keys. Written against node:crypto, independently of the library's own
// signer, so a mistake in one is caught by the other. Refusal reasons never carry keys or signatures.
import { createHmac, timingSafeEqual } from "node:crypto";

export interface SasToken {
  /** The `sr` field exactly as sent, still URL-encoded: the signature covers these bytes. */
  encodedResource: string;
  /** The `sig` field URL-decoded, i.e. base64 text. */
  signature: string;
  expirySeconds: number;
  /** The `skn` field; DPS requires "registration", a hub device token has none. */
  keyName?: string;
}

/** What a record may keep of a token: everything but the signature. */
export interface SasSummary {
  encodedResource: string;
  expirySeconds: number;
  keyName?: string;
}

export interface SasExpectation {
  resourceUri: string;
  /** undefined = the token must not name a key (hub device tokens). */
  keyName: string | undefined;
  /** Base64 keys any one of which may have signed the token (primary and secondary). */
  keys: string[];
  nowSeconds: number;
}

const PREFIX = "SharedAccessSignature ";
const FIELDS = new Set(["sr", "sig", "se", "skn"]);

/** Parses `SharedAccessSignature sr=…&sig=…&se=…[&skn=…]` (fields in any order); undefined if malformed. */
export function parseSasToken(password: string): SasToken | undefined {
  if (!password.startsWith(PREFIX)) return undefined;
  const fields = new Map<string, string>();
  for (const pair of password.slice(PREFIX.length).split("&")) {
    const equals = pair.indexOf("=");
    if (equals <= 0) return undefined;
    const name = pair.slice(0, equals);
    if (!FIELDS.has(name) || fields.has(name)) return undefined;
    fields.set(name, pair.slice(equals + 1));
  }
  const encodedResource = fields.get("sr");
  const encodedSignature = fields.get("sig");
  const expiry = fields.get("se");
  if (!encodedResource || !encodedSignature || !expiry || !/^\d{1,12}$/.test(expiry)) return undefined;
  const signature = safeDecode(encodedSignature);
  if (signature === undefined) return undefined;
  const keyName = fields.get("skn");
  const token: SasToken = { encodedResource, signature, expirySeconds: Number(expiry) };
  if (keyName !== undefined) token.keyName = keyName;
  return token;
}

export function summarizeSasToken(token: SasToken): SasSummary {
  const summary: SasSummary = { encodedResource: token.encodedResource, expirySeconds: token.expirySeconds };
  if (token.keyName !== undefined) summary.keyName = token.keyName;
  return summary;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** base64(HMAC-SHA256(base64decode(key), message)): the one primitive behind tokens and group keys. */
function hmacBase64(keyBase64: string, message: string): string {
  return createHmac("sha256", Buffer.from(keyBase64, "base64")).update(message, "utf8").digest("base64");
}

/** PROTOCOL.md §2: deviceKey = base64(HMAC-SHA256(base64decode(groupKey), utf8(registrationId))). */
export function deriveDeviceKey(groupKeyBase64: string, registrationId: string): string {
  return hmacBase64(groupKeyBase64, registrationId);
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Checks a token against what the service expects. Returns undefined when it is valid, else a short
 * reason for the record (`sas-…`). The resource must arrive URL-encoded (no raw `/`) and decode to the
 * expected URI; hex case is not judged. The signature is checked over the encoded form as sent.
 */
export function sasRefusal(token: SasToken, expected: SasExpectation): string | undefined {
  if (token.encodedResource.includes("/") || safeDecode(token.encodedResource) !== expected.resourceUri) {
    return "sas-resource-mismatch";
  }
  if (token.keyName !== expected.keyName) return "sas-key-name-mismatch";
  if (token.expirySeconds <= expected.nowSeconds) return "sas-expired";
  const stringToSign = `${token.encodedResource}\n${token.expirySeconds}`;
  const signed = expected.keys.some((key) => sameText(hmacBase64(key, stringToSign), token.signature));
  return signed ? undefined : "sas-signature-mismatch";
}
