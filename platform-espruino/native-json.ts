// Stands in for core/json.ts in the Espruino module (see build.mjs). On firmware without Unicode
// support (firmware.ts) JSON.stringify escapes every byte >= 0x80 of a string as \u00XX, which a
// receiver reads as a Latin-1 character ("é", held as its two UTF-8 bytes, would arrive as "Ã©"):
// those escapes go back to the raw bytes they stand for, so the text is the intended UTF-8.
// Unicode firmware escapes characters, which any receiver reads right.
import { BYTE_STRINGS } from "./firmware";

export function toJson(value: unknown): string {
  const text = JSON.stringify(value === undefined ? null : value);
  if (!BYTE_STRINGS || text.indexOf("\\u00") < 0) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (char !== "\\") {
      out += char;
      continue;
    }
    const code = text.charAt(i + 1) === "u" ? parseInt(text.substring(i + 2, i + 6), 16) : -1;
    if (code >= 0x80 && code <= 0xff) {
      out += String.fromCharCode(code);
      i += 5;
    } else {
      // Any other escape (\", \\, \n, \u001f, ...) stays, both characters of it.
      out += char + text.charAt(i + 1);
      i++;
    }
  }
  return out;
}
