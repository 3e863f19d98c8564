// SHA-256 (FIPS 180-4) and HMAC (RFC 2104) for platforms with no native hash. This is the
// fallback: Node supplies node:crypto and Espruino its native SHA256 through core/crypto.ts.
// Written for Espruino's interpreter: 32-bit arithmetic only through `| 0`, `>>>` and shifts
// (its Math.pow(2,32) is inexact and it has no Math.imul), and no copy of the whole message:
// full blocks are hashed in place and only the padded tail is built.

// First 32 bits of the fractional parts of the cube roots of the first 64 primes (FIPS 180-4 4.2.2).
// An Int32Array keeps them in 256 bytes of one flat buffer rather than 64 variables on Espruino.
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** Processes the 64-byte block at `bytes[offset]` into `state`, using `w` as the message schedule. */
function compress(state: Int32Array, w: Int32Array, bytes: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++, offset += 4) {
    w[i] = (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15];
    const y = w[i - 2];
    const sigma0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const sigma1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16] + sigma0 + w[i - 7] + sigma1) | 0;
  }
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let e = state[4];
  let f = state[5];
  let g = state[6];
  let h = state[7];
  for (let i = 0; i < 64; i++) {
    const sum1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + sum1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
    const sum0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (sum0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

export function sha256(data: Uint8Array): Uint8Array {
  // Initial hash value (FIPS 180-4 5.3.3). Int32Array stores wrap mod 2^32, so `+=` above needs no `| 0`.
  const state = new Int32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const w = new Int32Array(64);
  const length = data.length;
  const full = length - (length % 64);
  for (let offset = 0; offset < full; offset += 64) compress(state, w, data, offset);

  // Padding (5.1.1): 0x80, zeros, then the bit length as 64 bits big-endian; one or two blocks.
  const tail = new Uint8Array(length - full < 56 ? 64 : 128);
  tail.set(data.subarray(full), 0);
  tail[length - full] = 0x80;
  const end = tail.length;
  tail[end - 5] = length >>> 29; // high bits of length * 8, without leaving 32-bit arithmetic
  tail[end - 4] = length >>> 21;
  tail[end - 3] = length >>> 13;
  tail[end - 2] = length >>> 5;
  tail[end - 1] = length << 3;
  for (let offset = 0; offset < end; offset += 64) compress(state, w, tail, offset);

  const digest = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const word = state[i];
    digest[i * 4] = word >>> 24;
    digest[i * 4 + 1] = word >>> 16;
    digest[i * 4 + 2] = word >>> 8;
    digest[i * 4 + 3] = word;
  }
  return digest;
}

/**
 * HMAC-SHA256 (RFC 2104 with B = 64): H((K ^ opad) || H((K ^ ipad) || data)). `hash` is the
 * SHA-256 to build on (a platform's native one); this file's own when omitted.
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
