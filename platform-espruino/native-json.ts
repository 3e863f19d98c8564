// Stands in for core/json.ts in the Espruino module (see build.mjs). On firmware without Unicode
// support (firmware.ts) a string is its UTF-8 bytes, and the firmware's JSON knows only bytes:
// - JSON.stringify escapes every byte >= 0x80 as \u00XX, which a receiver reads as a Latin-1
//   character ("é", held as its two UTF-8 bytes, would arrive as "Ã©"): each run of such escapes
//   that is valid UTF-8 goes back to the raw bytes it stands for, so the text sent is the intended
//   UTF-8 (a run that is not, say a Latin-1 "\xb0", stays escaped: valid JSON, read as Latin-1);
// - JSON.parse reads an escaped character (\u00e9, as .NET and many other senders write
//   non-ASCII) as one byte, cut to 8 bits: such escapes in strings become the character's UTF-8
//   bytes first (outside strings they are left for JSON.parse to refuse: rewritten, the
//   interpreter's lexer would read some bytes as tokens).
// Unicode firmware escapes and parses characters, which is right as it is.
// Both walk the escapes in their own body rather than through shared helpers: on the interpreter
// each top-level function costs variables for as long as the module is loaded (measured: ~7 each).
import { liteError } from "../core/errors";
import { BYTE_STRINGS } from "./firmware";
import { utf8Validate } from "../core/utf8";
import { utf8Decode } from "./native-utf8";

/** core/json.ts's toJson (the same refusals, ARGUMENT_INVALID), then the byte-string pass. Its
 * first lines repeat that file's on purpose: calling it would add a function held for good. */
export function toJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (error) {
    throw liteError("ARGUMENT_INVALID", "not JSON: " + (error as Error).message);
  }
  // Binary (an ArrayBuffer, a DataView, a typed array) stringifies to {} or an object of
  // indexes: the data lost or garbled, and sent as if it were the value meant.
  if (value instanceof ArrayBuffer || (value && (value as DataView).buffer instanceof ArrayBuffer)) throw liteError("ARGUMENT_INVALID", "not JSON: binary data (give a Uint8Array)");
  if (typeof text !== "string") throw liteError("ARGUMENT_INVALID", "not JSON: a " + typeof value);
  if (!BYTE_STRINGS || text.indexOf("\\u00") < 0) return text;
  let out = "";
  let from = 0;
  for (let i = text.indexOf("\\"); i >= 0; i = text.indexOf("\\", i)) {
    // JSON.stringify's own escapes: \u and four hex digits; a run of those of bytes >= 0x80.
    let run = "";
    let end = i;
    for (let code; text.charAt(end) === "\\" && text.charAt(end + 1) === "u" && (code = parseInt(text.substring(end + 2, end + 6), 16)) >= 0x80; end += 6) {
      run += String.fromCharCode(code);
    }
    if (!run) {
      // Any other escape (\\, \", \n, \u001f ...) stays: skip both of its first characters.
      i += 2;
      continue;
    }
    i = end;
    try {
      utf8Validate(E.toUint8Array(run), 0, run.length);
    } catch {
      continue; // not UTF-8 (a Latin-1 byte, binary): it stays escaped
    }
    out += text.substring(from, end - run.length * 6) + run;
    from = end;
  }
  return out + text.substring(from);
}

/** Parses a JSON payload: UTF8_INVALID for bad UTF-8, JSON.parse's error for bad JSON. */
export function parseJson(payload: Uint8Array): any {
  let text = utf8Decode(payload, 0, payload.length);
  if (BYTE_STRINGS && text.indexOf("\\u") >= 0) {
    let out = "";
    let from = 0;
    let inString = false;
    let quote = text.indexOf('"');
    let slash = text.indexOf("\\");
    while (slash >= 0) {
      if (quote >= 0 && quote < slash) {
        inString = !inString;
        quote = text.indexOf('"', quote + 1);
        continue;
      }
      // A backslash outside a string is invalid JSON: from there on the text is left as it is,
      // for JSON.parse to refuse.
      if (!inString) break;
      // The four hex digits' value, or below 0 ("1" first: parseInt alone would take "+0e9").
      let code = text.charAt(slash + 1) === "u" ? parseInt("1" + text.substring(slash + 2, slash + 6), 16) - 0x10000 : -1;
      let end = slash + (code < 0x80 ? 2 : 6); // any other escape (\\, \", \n, \u0041 ...) stays
      if (code >= 0x80) {
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
        out += text.substring(from, slash) + String.fromCharCode(((0xf00 >> length) & 0xff) | code) + tail;
        from = end;
      }
      slash = text.indexOf("\\", end);
      if (quote >= 0 && quote < end) quote = text.indexOf('"', end); // an escaped quote ends nothing
    }
    // Only if something was rewritten: a second copy of a large twin document would come at the
    // memory peak for nothing (.NET escapes "<" as \u003C, paths hold \\u...).
    if (from) text = out + text.substring(from);
  }
  return JSON.parse(text);
}
