import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash, createHmac } from "node:crypto";
import { computeHmacSha256, type CryptoProvider } from "../../core/crypto";
import { randomBytes, randomInt, seededRandom } from "../helpers/random";

const nodeHmacProvider: CryptoProvider = {
  hmacSha256: (key, data) => new Uint8Array(createHmac("sha256", key).update(data).digest()),
};
const nodeSha256Provider: CryptoProvider = {
  sha256: (data) => new Uint8Array(createHash("sha256").update(data).digest()),
};

test("the three paths (own, supplied HMAC, HMAC on supplied SHA-256) give equal bytes", () => {
  const random = seededRandom(0xc0ffee);
  for (let i = 0; i < 1000; i++) {
    const key = randomBytes(random, randomInt(random, 0, 130));
    const data = randomBytes(random, randomInt(random, 0, 200));
    const own = Array.from(computeHmacSha256(key, data));
    assert.equal(Array.from(computeHmacSha256(key, data, {})), own, "empty provider, case " + i);
    assert.equal(Array.from(computeHmacSha256(key, data, nodeHmacProvider)), own, "supplied HMAC, case " + i);
    assert.equal(Array.from(computeHmacSha256(key, data, nodeSha256Provider)), own, "supplied SHA-256, case " + i);
  }
});

test("a supplied HMAC wins over a supplied SHA-256, and providers are called as methods", () => {
  const calls: string[] = [];
  const provider = {
    tag: "self",
    hmacSha256(key: Uint8Array, data: Uint8Array) {
      calls.push("hmac:" + this.tag);
      return new Uint8Array(createHmac("sha256", key).update(data).digest());
    },
    sha256(data: Uint8Array) {
      calls.push("sha:" + this.tag);
      return new Uint8Array(createHash("sha256").update(data).digest());
    },
  };
  computeHmacSha256(new Uint8Array(3), new Uint8Array(3), provider);
  assert.equal(calls, ["hmac:self"]);
  calls.length = 0;
  computeHmacSha256(new Uint8Array(3), new Uint8Array(3), { sha256: provider.sha256.bind(provider) });
  computeHmacSha256(new Uint8Array(3), new Uint8Array(3), { tag: "self", sha256: provider.sha256 } as CryptoProvider);
  assert.equal(calls, ["sha:self", "sha:self", "sha:self", "sha:self"]);
});

test.run();
