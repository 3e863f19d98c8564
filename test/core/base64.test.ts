import { test } from "uvu";
import { NON_CANONICAL_BASE64 } from "../helpers/base64-cases";
import * as assert from "uvu/assert";
import { errorCode as codeOf } from "../helpers/errors";
import { base64Decode, base64Encode } from "../../core/base64";
import { randomBytes, randomInt, seededRandom } from "../helpers/random";


test("RFC 4648 section 10 vectors", () => {
  const vectors: [string, string][] = [
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [plain, encoded] of vectors) {
    assert.is(base64Encode(new Uint8Array(Buffer.from(plain, "latin1"))), encoded);
    assert.is(Buffer.from(base64Decode(encoded)).toString("latin1"), plain);
  }
});

test("random bytes encode as Buffer does and round-trip (5,000 seeded cases)", () => {
  const random = seededRandom(0xba5e);
  for (let i = 0; i < 5000; i++) {
    const bytes = randomBytes(random, randomInt(random, 0, 100));
    const encoded = base64Encode(bytes);
    assert.is(encoded, Buffer.from(bytes).toString("base64"), "case " + i);
    assert.equal(Array.from(base64Decode(encoded)), Array.from(bytes), "case " + i);
  }
});

test("every byte value and all 64 characters survive", () => {
  const bytes = new Uint8Array(256).map((_, i) => i);
  const encoded = base64Encode(bytes);
  assert.is(encoded, Buffer.from(bytes).toString("base64"));
  assert.equal(Array.from(base64Decode(encoded)), Array.from(bytes));
});

test("strict decode refuses bad input with BASE64_INVALID", () => {
  const bad = NON_CANONICAL_BASE64;
  for (const text of bad) assert.is(codeOf(() => base64Decode(text)), "BASE64_INVALID", JSON.stringify(text));
  for (const value of [42, null, undefined, {}]) assert.is(codeOf(() => base64Decode(value as unknown as string)), "BASE64_INVALID", String(value));
});

test("errors name positions, never the text (it is usually a key)", () => {
  const secret = "c2VjcmV0LWtleS1tYXRlcmlhbA==".replace("W", "!");
  try {
    base64Decode(secret);
    assert.unreachable();
  } catch (error) {
    const message = (error as Error).message;
    assert.ok(message.indexOf("!") < 0 && message.indexOf("c2Vj") < 0, message);
  }
});

test.run();
