// Stands in for core/base64.ts in the Espruino module (see build.mjs): the interpreter's own
// btoa/atob do the work. atob is lenient, so strictness is kept here: only the base64 alphabet
// with proper padding, and the text must re-encode to itself (no stray trailing bits).
import { liteError } from "../core/errors";

export function base64Encode(bytes: Uint8Array): string {
  return bytes.length ? btoa(E.toString(bytes)) : "";
}

export function base64Decode(text: string): Uint8Array {
  // No {n,m} in Espruino's regular expressions: "=?=?" allows at most two padding characters.
  if (typeof text === "string" && text.length % 4 === 0 && /^[A-Za-z0-9+\/]*=?=?$/.test(text)) {
    const binary = atob(text);
    if (btoa(binary) === text) return E.toUint8Array(binary);
  }
  throw liteError("BASE64_INVALID", "not canonical base64");
}
