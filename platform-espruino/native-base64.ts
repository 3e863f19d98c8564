// Stands in for core/base64.ts in the Espruino module (see build.mjs): the interpreter's own
// btoa/atob do the work. atob is lenient, so strictness is kept here: only the base64 alphabet
// with proper padding, and the text must re-encode to itself (no stray trailing bits).
import { liteError } from "../core/errors";

export function base64Encode(bytes: Uint8Array): string {
  return bytes.length ? btoa(E.toString(bytes)) : "";
}

export function base64Decode(text: string): Uint8Array {
  // Espruino 2v29's regular expressions have no working "?" or {n,m} (measured: /^ab?c$/ matches
  // neither "ac" nor "abc"), so "=*" here; the re-encoding check below rejects a third "=".
  if (typeof text === "string" && text.length % 4 === 0 && /^[A-Za-z0-9+\/]*=*$/.test(text)) {
    try {
      const binary = atob(text);
      if (btoa(binary) === text) return E.toUint8Array(binary);
    } catch (error) {
      // A stricter atob than Espruino's (Node's, in tests) throws on what is reported below.
    }
  }
  throw liteError("BASE64_INVALID", "not canonical base64");
}
