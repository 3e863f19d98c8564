// Seeded pseudo-random numbers for property tests, so a failure reproduces from its seed.
// mulberry32: small, fast, and good enough to spread test inputs.
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export function randomBytes(random: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** A random well-formed string mixing ASCII, 2-byte, 3-byte and astral (surrogate pair) characters. */
export function randomText(random: () => number, maxChars: number): string {
  const count = randomInt(random, 0, maxChars);
  let text = "";
  for (let i = 0; i < count; i++) {
    const kind = random();
    let code: number;
    if (kind < 0.6) code = randomInt(random, 1, 0x7f);
    else if (kind < 0.75) code = randomInt(random, 0x80, 0x7ff);
    else if (kind < 0.9) {
      code = randomInt(random, 0x800, 0xfffd);
      if (code >= 0xd800 && code <= 0xdfff) code = 0x4e2d;
    } else code = randomInt(random, 0x10000, 0x10ffff);
    text += String.fromCodePoint(code);
  }
  return text;
}
