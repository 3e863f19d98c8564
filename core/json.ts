// JSON text for what the library sends. With byte strings (Espruino without Unicode support, see
// native.ts) JSON.stringify escapes every UTF-8 byte >= 0x80 as \u00XX, which any receiver reads
// as Latin-1 characters ("é" would arrive as "Ã©"): those escapes go back to the raw bytes they
// stand for, so the text is the intended UTF-8. Elsewhere this is JSON.stringify.
import { native } from "./native";

export function toJson(value: unknown): string {
  const text = JSON.stringify(value === undefined ? null : value);
  if (!native.byteStrings || text.indexOf("\\u00") < 0) return text;
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
