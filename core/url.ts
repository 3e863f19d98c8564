// Percent-encoding (RFC 3986 section 2.1) over UTF-8 bytes. Espruino's encodeURIComponent is wrong
// above ASCII and its decodeURIComponent throws on multi-byte input (ESPRUINO.md), so the SAS `sr`
// and `sig`, the model id and property bags (PROTOCOL.md 3) are encoded here.
import { liteError } from "./errors";
import { utf8Decode, utf8Encode } from "./utf8";

/**
 * Encodes every byte of the UTF-8 form of `text` except the unreserved set (RFC 3986 2.3: A-Z a-z
 * 0-9 - . _ ~) as %XX (upper-case hex, as 2.1 recommends). Unlike encodeURIComponent it also
 * encodes ! ' ( ) *, which RFC 3986 reserves. Throws UTF8_INVALID on a lone surrogate.
 * (Tests on the byte, no table or expression kept at module level: on a device each would hold
 * variables for as long as the module is loaded.)
 */
export function urlEncode(text: string): string {
  const bytes = utf8Encode(text);
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    const letter = (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7a;
    if (letter || (byte >= 0x30 && byte <= 0x39) || byte === 0x2d || byte === 0x2e || byte === 0x5f || byte === 0x7e) out += String.fromCharCode(byte);
    else out += "%" + String.fromCharCode((byte >> 4) + ((byte >> 4) < 10 ? 48 : 55), (byte & 15) + ((byte & 15) < 10 ? 48 : 55));
  }
  return out;
}

/** Value of an ASCII hex digit (either case), or -1 for anything else, undefined included. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/**
 * Decodes %XX sequences and returns the text the bytes spell in UTF-8. Strict: a `%` not followed
 * by two hex digits throws URL_ENCODING_INVALID, and decoded bytes that are not well-formed UTF-8
 * throw UTF8_INVALID. Characters that need no decoding (raw non-ASCII included) pass through.
 * `+` stays `+` unless `plusAsSpace` is set: RFC 3986 gives it no special meaning and Azure's SDKs
 * decode IoT Hub property bags without it; the HTML form convention (space as `+`) is the option.
 */
export function urlDecode(text: string, plusAsSpace?: boolean): string {
  // Nothing to decode (the usual property value: $rid=1, $version=5): no copy and no UTF-8 pass,
  // which on a device also keeps the deepest stack of an incoming message a few frames shorter.
  if (text.indexOf("%") < 0 && (!plusAsSpace || text.indexOf("+") < 0)) return text;
  // Work on the UTF-8 bytes: every %XX is ASCII, so decoding in place only ever shortens the array.
  const bytes = utf8Encode(text);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    let byte = bytes[i];
    if (byte === 0x25) {
      const high = hexValue(bytes[i + 1]);
      const low = hexValue(bytes[i + 2]);
      if (high < 0 || low < 0) throw liteError("URL_ENCODING_INVALID", "bad % at byte " + i);
      byte = (high << 4) | low;
      i += 2;
    } else if (byte === 0x2b && plusAsSpace) byte = 0x20;
    bytes[length++] = byte;
  }
  return utf8Decode(bytes, 0, length);
}
