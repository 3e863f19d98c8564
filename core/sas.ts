// Shared access signature tokens, the MQTT password for symmetric-key devices (PROTOCOL.md 2, 3):
//   SharedAccessSignature sr={urlencode(resourceUri)}&sig={urlencode(signature)}&se={expiry}[&skn={keyName}]
//   signature = base64(HMAC-SHA256(base64decode(key), urlencode(resourceUri) + "\n" + expiry))
// The signature covers exactly the encoded `sr` that is sent. As in Azure's embedded C SDK, the
// string-to-sign and the token-from-signature steps are public, so a secure element can hold the key.
import { base64Decode, base64Encode } from "./base64";
import { computeHmacSha256, type CryptoProvider } from "./crypto";
import { liteError } from "./errors";
import { checkNonEmpty, checkRegistrationId } from "./identity";
import { urlEncode } from "./url";
import { utf8Encode } from "./utf8";

/** 2020-01-01T00:00:00Z. A clock before it has not been set: a token signed with it is already expired. */
const enum Clock {
  FloorSeconds = 1577836800,
}

/** Throws CLOCK_NOT_SET unless `epochSeconds` is a real time at or after 2020. */
function checkClock(epochSeconds: number): void {
  if (!(epochSeconds >= Clock.FloorSeconds)) {
    throw liteError("CLOCK_NOT_SET", "no time yet: set the clock (SNTP or setTime)");
  }
}

/** The `se` for a token valid `ttlSeconds` from `nowEpochSeconds` (may be fractional, as
 * Date.now() / 1000): rounded up, so it lives at least that long. (Rounded down, a 60 s token
 * could expire 59.1 s after signing, before a renewal planned at 90% of 60 s.) */
export function sasExpiry(nowEpochSeconds: number, ttlSeconds: number): number {
  checkClock(nowEpochSeconds);
  if (typeof ttlSeconds !== "number" || !(ttlSeconds >= 1) || ttlSeconds % 1 !== 0) throw liteError("ARGUMENT_INVALID", "bad ttlSeconds");
  return Math.ceil(nowEpochSeconds) + ttlSeconds;
}

/** Decodes a base64 shared access key; KEY_INVALID (naming `name`, never echoing the key) if it is not non-empty base64. */
export function decodeKey(key: unknown, name: string): Uint8Array {
  try {
    const bytes = base64Decode(key as string);
    if (bytes.length > 0) return bytes;
  } catch (error) {
    // Reported as KEY_INVALID below: which character of a key is wrong is not worth leaking.
  }
  throw liteError("KEY_INVALID", name + " is not base64");
}

/** `urlencode(resourceUri)`, once `expiry` is known to be whole seconds from a set clock. */
function encodeResource(resourceUri: string, expiry: number): string {
  checkClock(expiry);
  if (expiry % 1 !== 0) throw liteError("ARGUMENT_INVALID", "bad expiry");
  return urlEncode(checkNonEmpty(resourceUri, "resourceUri"));
}

/** The exact text that is signed: `urlencode(resourceUri) + "\n" + expiry`. */
export function sasStringToSign(resourceUri: string, expiry: number): string {
  return encodeResource(resourceUri, expiry) + "\n" + expiry;
}

/** A token from a signature made elsewhere: base64 HMAC-SHA256 of sasStringToSign(resourceUri, expiry). */
export function sasTokenFromSignature(resourceUri: string, signature: string, expiry: number, keyName?: string): string {
  let token = "SharedAccessSignature sr=" + encodeResource(resourceUri, expiry);
  token += "&sig=" + urlEncode(checkNonEmpty(signature, "signature")) + "&se=" + expiry;
  if (keyName !== undefined) token += "&skn=" + urlEncode(checkNonEmpty(keyName, "keyName"));
  return token;
}

/** Signs and builds a token with a base64 shared access `key` (KEY_INVALID if it does not decode). */
export function sasToken(resourceUri: string, key: string, expiry: number, keyName?: string, crypto?: CryptoProvider): string {
  const keyBytes = decodeKey(key, "key");
  const signature = computeHmacSha256(keyBytes, utf8Encode(sasStringToSign(resourceUri, expiry)), crypto);
  return sasTokenFromSignature(resourceUri, base64Encode(signature), expiry, keyName);
}



/**
 * Group enrollment (PROTOCOL.md 2): a device's key is base64(HMAC-SHA256(base64decode(groupKey),
 * utf8(registrationId))), so a factory can provision each device without storing its key.
 */
export function deriveDeviceKey(groupKey: string, registrationId: string, crypto?: CryptoProvider): string {
  const keyBytes = decodeKey(groupKey, "groupKey");
  return base64Encode(computeHmacSha256(keyBytes, utf8Encode(checkRegistrationId(registrationId)), crypto));
}

/** The device's symmetric key: derived from a group key, or the individual key; undefined for X.509 or a ready token. */
export function deviceKeyFor(options: { registrationId: string; groupKey?: string; symmetricKey?: string }, crypto?: CryptoProvider): string | undefined {
  return options.groupKey ? deriveDeviceKey(options.groupKey, options.registrationId, crypto) : options.symmetricKey;
}
