// The crypto seam. The core signs SAS tokens with HMAC-SHA256 and carries its own (core/sha256.ts),
// but a platform with native crypto should supply it: Node has HMAC in node:crypto, Espruino only a
// native SHA-256 (require("crypto").SHA256, no HMAC; ESPRUINO.md), on which HMAC is built here.
// Synchronous on purpose: both natives are, and a token is needed before CONNECT can be written.
import { sha256 } from "./sha256";

export interface CryptoProvider {
  /** HMAC-SHA256 of `data` under `key`: 32 bytes. Preferred over `sha256` when both are given. */
  hmacSha256?(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** SHA-256 of `data`: 32 bytes. */
  sha256?(data: Uint8Array): Uint8Array;
}

/**
 * HMAC-SHA256 (RFC 2104 with B = 64): H((K ^ opad) || H((K ^ ipad) || data)). `hash` is the
 * SHA-256 to build on (a platform's native one); the core's own when omitted.
 */
export function hmacSha256(key: Uint8Array, data: Uint8Array, hash?: (data: Uint8Array) => Uint8Array): Uint8Array {
  const digest = hash || sha256;
  // Keys longer than the block are hashed first (RFC 2104 section 3); shorter ones are zero-padded.
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? digest(key) : key, 0);
  const inner = new Uint8Array(64 + data.length);
  const outer = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    inner[i] = block[i] ^ 0x36;
    outer[i] = block[i] ^ 0x5c;
  }
  inner.set(data, 64);
  outer.set(digest(inner), 64);
  return digest(outer);
}

/** HMAC-SHA256 through the provider's HMAC, else HMAC on its SHA-256, else the core's own. */
export function computeHmacSha256(key: Uint8Array, data: Uint8Array, crypto?: CryptoProvider): Uint8Array {
  if (crypto && crypto.hmacSha256) return crypto.hmacSha256(key, data);
  // Called as a method, so a provider whose functions use `this` keeps working.
  const hash = crypto && crypto.sha256 ? (bytes: Uint8Array) => crypto.sha256!(bytes) : undefined;
  return hmacSha256(key, data, hash);
}
