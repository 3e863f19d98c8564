// SHA-256 (FIPS 180-4) and HMAC (RFC 2104) for platforms with no native hash. This is the
// fallback: Node supplies node:crypto and Espruino its native SHA256 through core/crypto.ts
// (the Espruino module leaves this file out; see build.mjs).
// Written for Espruino's interpreter: 32-bit arithmetic only through `| 0`, `>>>` and shifts
// (its Math.pow(2,32) is inexact and it has no Math.imul), and no copy of the whole message:
// full blocks are hashed in place and only the padded tail is built.

/**
 * The first 32 bits of the fractional parts of the square (`degree` 2) or cube (3) roots of the
 * first `count` primes: SHA-256's initial hash value and round constants (FIPS 180-4 5.3.3,
 * 4.2.2), computed as the standard defines them in fewer bytes than 72 literals. A Newton step
 * corrects Espruino's inexact Math.pow; doubles then hold ~50 fractional bits and no value lies
 * within 2^-37 of a 32-bit boundary, so truncation is exact (every NIST vector depends on it).
 */
function primeRootBits(count: number, degree: number): Int32Array {
  const bits = new Int32Array(count);
  for (let n = 2, found = 0; found < count; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
    if (prime) {
      let root = Math.pow(n, 1 / degree);
      const lower = degree === 3 ? root * root : root; // root^(degree-1)
      root -= (root * lower - n) / (degree * lower);
      bits[found++] = ((root - Math.floor(root)) * 4294967296) | 0;
    }
  }
  return bits;
}

// Int32Arrays: 288 bytes in two flat buffers rather than 72 variables on Espruino. Pure, so a
// bundle that never hashes drops them.
const H0 = /* @__PURE__ */ primeRootBits(8, 2);
const K = /* @__PURE__ */ primeRootBits(64, 3);

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
  // Int32Array stores wrap mod 2^32, so the `+=` in compress needs no `| 0`.
  const state = new Int32Array(H0);
  const w = new Int32Array(64);
  const length = data.length;
  const full = length - (length % 64);
  for (let offset = 0; offset < full; offset += 64) compress(state, w, data, offset);

  // Padding (5.1.1): 0x80, zeros, then the bit length as 64 bits big-endian; one or two blocks.
  // Copied by hand: Espruino refuses a subarray whose byteOffset is 65536 or more.
  const tail = new Uint8Array(length - full < 56 ? 64 : 128);
  for (let i = full; i < length; i++) tail[i - full] = data[i];
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
