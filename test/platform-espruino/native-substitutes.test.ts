// The Espruino module's stand-ins for core/base64.ts and core/sha256.ts (see build.mjs), run on
// Node with an `E` made of Buffer, checked against the core's own implementations.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { base64Decode as coreDecode, base64Encode as coreEncode } from "../../core/base64";
import { base64Decode, base64Encode } from "../../platform-espruino/native-base64";
import { sha256 } from "../../platform-espruino/native-sha256";
import { NON_CANONICAL_BASE64 } from "../helpers/base64-cases";
import { errorCode } from "../helpers/errors";
import { randomBytes, randomInt, seededRandom } from "../helpers/random";

const globals = globalThis as unknown as { E?: unknown };
globals.E = {
  toString: (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1"),
  toUint8Array: (text: string) => new Uint8Array(Buffer.from(text, "latin1")),
};

test("native-backed base64 equals the core's, both ways, for 3,000 random inputs", () => {
  const random = seededRandom(64);
  for (let i = 0; i < 3000; i++) {
    const bytes = randomBytes(random, randomInt(random, 0, 100));
    const text = base64Encode(bytes);
    assert.is(text, coreEncode(bytes));
    assert.equal(Array.from(base64Decode(text)), Array.from(coreDecode(text)));
  }
});

test("it is as strict as the core's decoder", () => {
  for (const text of NON_CANONICAL_BASE64) {
    assert.is(errorCode(() => base64Decode(text)), "BASE64_INVALID", JSON.stringify(text));
    assert.is(errorCode(() => coreDecode(text)), "BASE64_INVALID");
  }
  assert.is(errorCode(() => base64Decode(42 as unknown as string)), "BASE64_INVALID");
});

test("the SHA-256 stand-in says the firmware lacks native crypto, with a code", () => {
  assert.is(errorCode(() => sha256()), "CRYPTO_UNAVAILABLE");
});

test.run();
