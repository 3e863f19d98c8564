// Base64 (RFC 4648 section 4, standard alphabet, padded): the alphabet of SAS keys and signatures.
// Our own because core/ uses no platform globals (btoa/atob differ between platforms and atob is
// lenient on Espruino). Decoding is strict: a key with a typo must fail loudly rather than sign
// with garbage that Azure would reject much later with a bare 401.
import { liteError } from "./errors";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function base64Encode(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const remaining = bytes.length - i;
    const triple = (bytes[i] << 16) | (remaining > 1 ? bytes[i + 1] << 8 : 0) | (remaining > 2 ? bytes[i + 2] : 0);
    text +=
      ALPHABET.charAt(triple >> 18) +
      ALPHABET.charAt((triple >> 12) & 63) +
      (remaining > 1 ? ALPHABET.charAt((triple >> 6) & 63) : "=") +
      (remaining > 2 ? ALPHABET.charAt(triple & 63) : "=");
  }
  return text;
}

function invalid(index: number) {
  return liteError("BASE64_INVALID", "invalid base64 at index " + index);
}

/**
 * Decodes padded base64. Throws BASE64_INVALID on a length that is not a multiple of 4, a
 * character outside the alphabet (whitespace included), misplaced padding, or non-zero bits in
 * the last character before padding (RFC 4648 3.5: such text is not the canonical encoding of
 * any bytes, so it is refused rather than silently truncated). Messages give a position only:
 * the text is usually a key.
 */
export function base64Decode(text: string): Uint8Array {
  if (typeof text !== "string") throw liteError("BASE64_INVALID", "base64 must be text, not " + (text === null ? "null" : typeof text));
  const length = text.length;
  if (length % 4 !== 0) throw invalid(length);
  const padding = text.charAt(length - 1) !== "=" ? 0 : text.charAt(length - 2) !== "=" ? 1 : 2;
  const out = new Uint8Array((length / 4) * 3 - padding);
  let bits = 0;
  let at = 0;
  for (let i = 0; i < length - padding; i++) {
    const value = ALPHABET.indexOf(text.charAt(i));
    if (value < 0) throw invalid(i);
    bits = (bits << 6) | value;
    if ((i & 3) === 3) {
      out[at++] = bits >> 16;
      out[at++] = bits >> 8;
      out[at++] = bits;
    }
  }
  // A padded last group holds 2 (one "=") or 1 (two "=") bytes in its high bits; the rest must be zero.
  if (padding && bits & (padding === 1 ? 3 : 15)) throw invalid(length - padding - 1);
  if (padding === 1) {
    out[at++] = bits >> 10;
    out[at] = bits >> 2;
  } else if (padding === 2) out[at] = bits >> 4;
  return out;
}
