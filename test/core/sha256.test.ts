import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash, createHmac } from "node:crypto";
import { hmacSha256 } from "../../core/crypto";
import { sha256 } from "../../core/sha256";
import { randomBytes, randomInt, seededRandom } from "../helpers/random";

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function ascii(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "latin1"));
}

function filled(length: number, byte: number): Uint8Array {
  return new Uint8Array(length).fill(byte);
}

function nodeSha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

function nodeHmac(key: Uint8Array, data: Uint8Array): string {
  return createHmac("sha256", key).update(data).digest("hex");
}

/** Lengths 0-300, half of them within 3 bytes of a block edge (55/56 pad split, 64 block, 128). */
function edgyLength(random: () => number): number {
  if (random() < 0.5) return randomInt(random, 0, 300);
  const edges = [0, 55, 56, 64, 119, 120, 128, 183, 184, 192];
  return Math.max(0, edges[randomInt(random, 0, edges.length - 1)] + randomInt(random, -3, 3));
}

test("NIST FIPS 180-2 SHA-256 vectors", () => {
  assert.is(hex(sha256(new Uint8Array(0))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.is(hex(sha256(ascii("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.is(
    hex(sha256(ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.is(hex(sha256(filled(1000000, 0x61))), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
});

test("hashes a window of a larger buffer (subarray input)", () => {
  const whole = ascii("xxabcxx");
  assert.is(hex(sha256(whole.subarray(2, 5))), hex(sha256(ascii("abc"))));
});

// RFC 4231 section 4: key, data, HMAC-SHA-256 (case 5 is specified truncated to 128 bits).
const RFC4231: [Uint8Array, Uint8Array, string][] = [
  [filled(20, 0x0b), ascii("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
  [ascii("Jefe"), ascii("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
  [filled(20, 0xaa), filled(50, 0xdd), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
  [
    new Uint8Array(25).map((_, i) => i + 1),
    filled(50, 0xcd),
    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
  ],
  [filled(20, 0x0c), ascii("Test With Truncation"), "a3b6167473100ee06e0c796c2955552b"],
  [
    filled(131, 0xaa),
    ascii("Test Using Larger Than Block-Size Key - Hash Key First"),
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  ],
  [
    filled(131, 0xaa),
    ascii(
      "This is a test using a larger than block-size key and a larger than block-size data." +
        " The key needs to be hashed before being used by the HMAC algorithm.",
    ),
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  ],
];

test("HMAC-SHA256: all seven RFC 4231 test cases, pure and on a supplied SHA-256", () => {
  RFC4231.forEach(([key, data, expected], index) => {
    const name = "RFC 4231 case " + (index + 1);
    assert.is(hex(hmacSha256(key, data)).slice(0, expected.length), expected, name);
    assert.is(hex(hmacSha256(key, data, nodeSha256)).slice(0, expected.length), expected, name + " (node sha256)");
    assert.is(nodeHmac(key, data).slice(0, expected.length), expected, name + " (node:crypto agrees)");
  });
});

test("SHA-256 equals node:crypto for 3,000 seeded messages around block edges", () => {
  const random = seededRandom(0x5a256);
  for (let i = 0; i < 3000; i++) {
    const data = randomBytes(random, edgyLength(random));
    assert.is(hex(sha256(data)), hex(nodeSha256(data)), "length " + data.length + ", case " + i);
  }
});

test("HMAC-SHA256 equals node:crypto for 4,000 seeded keys and messages, pure and on a supplied SHA-256", () => {
  const random = seededRandom(0x4a3c);
  let longKeys = 0;
  for (let i = 0; i < 4000; i++) {
    // A quarter of the keys are longer than the 64-byte block, so they are hashed first.
    const key = randomBytes(random, i % 4 === 0 ? randomInt(random, 65, 300) : edgyLength(random));
    const data = randomBytes(random, edgyLength(random));
    if (key.length > 64) longKeys++;
    const expected = nodeHmac(key, data);
    const where = "key " + key.length + ", data " + data.length + ", case " + i;
    assert.is(hex(hmacSha256(key, data)), expected, where);
    assert.is(hex(hmacSha256(key, data, nodeSha256)), expected, where + " (node sha256)");
  }
  assert.ok(longKeys >= 1000, "long keys are exercised: " + longKeys);
});

test.run();
