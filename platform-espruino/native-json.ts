// Stands in for core/json.ts in the Espruino module (see build.mjs). On firmware without Unicode
// support (firmware.ts) a string is its UTF-8 bytes, and the firmware's JSON knows only bytes:
// - JSON.stringify escapes every byte >= 0x80 as \u00XX, which a receiver reads as a Latin-1
//   character ("é", held as its two UTF-8 bytes, would arrive as "Ã©"): those escapes go back to
//   the raw bytes they stand for, so the text sent is the intended UTF-8;
// - JSON.parse reads an escaped character (\u00e9, as .NET and many other senders write
//   non-ASCII) as one byte, cut to 8 bits: such escapes become the character's UTF-8 bytes first.
// Unicode firmware escapes and parses characters, which is right as it is.
// Both walk the escapes in their own body rather than through shared helpers: on the interpreter
// each top-level function costs variables for as long as the module is loaded (measured: ~7 each).
import { BYTE_STRINGS } from "./firmware";
import { utf8Decode } from "./native-utf8";

export function toJson(value: unknown): string {
  const text = JSON.stringify(value === undefined ? null : value);
  if (!BYTE_STRINGS || text.indexOf("\\u00") < 0) return text;
  let out = "";
  let from = 0;
  for (let i = text.indexOf("\\"); i >= 0; i = text.indexOf("\\", i)) {
    // JSON.stringify's own escapes: \u and four hex digits, of a byte here.
    const code = text.charAt(i + 1) === "u" ? parseInt(text.substring(i + 2, i + 6), 16) : -1;
    if (code < 0x80) {
      // Any other escape (\\, \", \n, \u001f ...) stays: skip both of its first characters.
      i += 2;
      continue;
    }
    out += text.substring(from, i) + String.fromCharCode(code);
    i = from = i + 6;
  }
  return out + text.substring(from);
}

/** Parses a JSON payload: UTF8_INVALID for bad UTF-8, JSON.parse's error for bad JSON. */
export function parseJson(payload: Uint8Array): any {
  let text = utf8Decode(payload, 0, payload.length);
  if (BYTE_STRINGS && text.indexOf("\\u") >= 0) {
    let out = "";
    let from = 0;
    for (let i = text.indexOf("\\"); i >= 0; i = text.indexOf("\\", i)) {
      // The four hex digits' value, or below 0 ("1" first: parseInt alone would take "+0e9").
      let code = text.charAt(i + 1) === "u" ? parseInt("1" + text.substring(i + 2, i + 6), 16) - 0x10000 : -1;
      let end = i + 6;
      if (code < 0x80) {
        i += 2;
        continue;
      }
      if (code >= 0xd800 && code <= 0xdfff) {
        // A surrogate pair is one character; a lone surrogate becomes U+FFFD.
        const low = code < 0xdc00 && text.substring(end, end + 2) === "\\u" ? parseInt("1" + text.substring(end + 2, end + 6), 16) - 0x10000 : -1;
        if (low >= 0xdc00 && low <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          end += 6;
        } else code = 0xfffd;
      }
      // UTF-8: continuation bytes of 6 bits each from the end, then the lead byte (110xxxxx,
      // 1110xxxx or 11110xxx for 2, 3 or 4 bytes) with what is left.
      const length = code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
      let tail = "";
      for (let k = 1; k < length; k++, code >>= 6) tail = String.fromCharCode(0x80 | (code & 63)) + tail;
      out += text.substring(from, i) + String.fromCharCode(((0xf00 >> length) & 0xff) | code) + tail;
      i = from = end;
    }
    text = out + text.substring(from);
  }
  return JSON.parse(text);
}
