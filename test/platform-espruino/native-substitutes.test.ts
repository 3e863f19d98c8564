// The Espruino module's stand-ins for core files (see build.mjs), checked against the core's own
// implementations: base64 and SHA-256 on Node with an `E` made of Buffer; text (utf8, JSON) in the
// stripped Espruino realm, on both kinds of firmware, since what they do depends on how the
// firmware holds strings.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { base64Decode as coreDecode, base64Encode as coreEncode } from "../../core/base64";
import { base64Decode, base64Encode } from "../../platform-espruino/native-base64";
import { sha256 } from "../../platform-espruino/native-sha256";
import { NON_CANONICAL_BASE64 } from "../helpers/base64-cases";
import { errorCode } from "../helpers/errors";
import { randomBytes, randomInt, randomText, seededRandom } from "../helpers/random";
import { buildSync } from "esbuild";
import { join } from "node:path";
import { utf8Decode as coreUtf8Decode } from "../../core/utf8";
import { EspruinoEnvironment } from "./espruino-environment";

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

/** The text stand-ins, bundled as the Espruino build bundles them, loaded in a stripped realm. */
function textSubstitutes(unicode: boolean) {
  const code = buildSync({
    stdin: {
      contents: `import { utf8Decode, utf8Encode, utf8Length, utf8Write } from "./native-utf8"; import { parseJson, toJson } from "./native-json";
        module.exports = { utf8Decode, utf8Encode, utf8Length, utf8Write, parseJson, toJson };`,
      resolveDir: join(process.cwd(), "platform-espruino"),
      loader: "ts",
    },
    bundle: true,
    format: "cjs",
    platform: "neutral",
    write: false,
  }).outputFiles[0].text;
  const env = new EspruinoEnvironment({ storage: { text: code }, lookup: () => { throw new Error("no network"); }, ca: "", unicode });
  return { env, text: env.require("text") };
}

/** Espruino without Unicode: a string is its UTF-8 bytes, one char per byte. */
function asByteString(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

test("text on byte-string firmware (ESP32): a string is its UTF-8, validated on decode, copied on encode", () => {
  const { env, text } = textSubstitutes(false);
  try {
    const random = seededRandom(31);
    for (let i = 0; i < 1000; i++) {
      const value = randomText(random, 50);
      const bytes = new Uint8Array(Buffer.from(value, "utf8"));
      const byteString = asByteString(value);
      assert.is(text.utf8Decode(bytes, 0, bytes.length), byteString, "decode " + i);
      assert.equal(Array.from(text.utf8Encode(byteString)), Array.from(bytes), "encode " + i);
      assert.is(text.utf8Length(byteString), bytes.length);
      const out = new Uint8Array(bytes.length + 3);
      assert.is(text.utf8Write(byteString, out, 3), bytes.length + 3);
      assert.equal(Array.from(out.subarray(3)), Array.from(bytes));
    }
    // Up to 256 bytes a text is copied byte by byte, longer ones natively: either lands the same.
    for (const length of [255, 256, 257, 1001]) {
      const bytes = new Uint8Array(Buffer.from("é".repeat(length >> 1) + "x".repeat(length & 1), "utf8"));
      const out = new Uint8Array(length + 2).fill(7);
      assert.is(text.utf8Write(Buffer.from(bytes).toString("latin1"), out, 1), length + 1);
      assert.equal(Array.from(out), [7, ...bytes, 7], "write of " + length + " bytes");
    }
    for (const bad of [[0x61, 0xc0, 0xaf], [0x61, 0xe2, 0x82], [0xed, 0xa0, 0x80]]) {
      const bytes = new Uint8Array(bad);
      assert.is(errorCode(() => text.utf8Decode(bytes, 0, 3)), "UTF8_INVALID", "as strict as the core: " + bad);
      assert.is(errorCode(() => coreUtf8Decode(bytes, 0, 3)), "UTF8_INVALID");
    }
    assert.is(errorCode(() => text.utf8Decode(new Uint8Array([0xc3, 0xa9, 0]), 0, 3, true)), "UTF8_INVALID", "U+0000 refused when asked");
  } finally {
    env.dispose();
  }
});

test("JSON on byte-string firmware: escapes of UTF-8 bytes go back to raw bytes, other escapes stay", () => {
  const { env, text } = textSubstitutes(false);
  try {
    const value = env.value({ city: asByteString("Zürich €"), quote: 'say "hi"\\u00e9', control: "\u0001" });
    const json = text.toJson(value);
    assert.is(Buffer.from(json, "latin1").toString("utf8"), JSON.stringify({ city: "Zürich €", quote: 'say "hi"\\u00e9', control: "\u0001" }));
    assert.is(text.toJson(undefined), "null");
    assert.is(errorCode(() => text.toJson(env.evaluate("var o = {}; o.self = o; o"))), "ARGUMENT_INVALID");
    assert.is(errorCode(() => text.toJson(env.evaluate("new ArrayBuffer(4)"))), "ARGUMENT_INVALID", "binary would be {}");
    // Bytes that are not UTF-8 (a Latin-1 degree sign) stay escaped: valid JSON, never invalid UTF-8.
    const mixed = text.toJson(env.value({ a: asByteString("é") + "x\xb0C", b: asByteString("é") + "xu00ab", c: "\xc3\xa9\xb0" }));
    assert.ok(Buffer.from(mixed, "latin1").toString("utf8").indexOf("\ufffd") < 0, "valid UTF-8: " + JSON.stringify(mixed));
    assert.equal(JSON.parse(Buffer.from(mixed, "latin1").toString("utf8")), { a: "éx°C", b: "éxu00ab", c: "\u00c3\u00a9\u00b0" });
  } finally {
    env.dispose();
  }
});

// Non-ASCII written as escapes, the way .NET's System.Text.Json and others write it, next to raw
// UTF-8 and escapes that must stay what they are.
const ESCAPED_JSON = String.raw`{"city":"Z\u00fcrich \u20ac","raw":"Zürich","emoji":"\ud83d\ude00","lone":"\ud800x","late":"x\udc00","plain":"\u0041\u005c\u0022\\u00e9\n","caf\u00e9":1}`;
const ESCAPED_VALUE = { city: "Zürich €", raw: "Zürich", emoji: "😀", lone: "\ufffdx", late: "x\ufffd", plain: 'A\\"\\u00e9\n', "café": 1 };

test("JSON on byte-string firmware: parsed text is UTF-8 bytes, escaped characters included", () => {
  const { env, text } = textSubstitutes(false);
  try {
    const parsed = text.parseJson(new Uint8Array(Buffer.from(ESCAPED_JSON, "utf8")));
    const expected: { [key: string]: unknown } = {};
    for (const [key, value] of Object.entries(ESCAPED_VALUE)) expected[asByteString(key)] = typeof value === "string" ? asByteString(value) : value;
    assert.equal(JSON.parse(JSON.stringify(parsed)), expected);
    // Without escapes the text goes to JSON.parse as it is.
    assert.equal(JSON.parse(JSON.stringify(text.parseJson(new Uint8Array(Buffer.from('{"a":[1,"é"]}', "utf8"))))), { a: [1, asByteString("é")] });
    // Quotes escaped inside strings do not end them; escapes outside strings are not rewritten.
    assert.equal(JSON.parse(JSON.stringify(text.parseJson(new Uint8Array(Buffer.from('{"k\\"\\u00e9":"\\"\\u00e9\\""}', "utf8"))))), { [asByteString('k"é')]: asByteString('"é"') });
    // Outside strings nothing is rewritten: the firmware's own JSON.parse must see such an escape
    // (this realm's JSON.parse refuses either way, so what it is given is what is checked).
    const setParse = env.evaluate<(parse: unknown) => void>("(function (parse) { JSON.parse = parse; })");
    const realmParse = env.evaluate<unknown>("JSON.parse");
    let given = "";
    setParse((t: string) => {
      given = t;
      return null;
    });
    try {
      const cases: [string, string][] = [
        ['{"a":\\u0500}', '{"a":\\u0500}'],
        ["[\\u00e9]", "[\\u00e9]"],
        ['{"k":"\\u00e9"} \\u00e9', '{"k":"' + asByteString("é") + '"} \\u00e9'],
        ['{"k":"\\u003C"}', '{"k":"\\u003C"}'],
      ];
      for (const [input, expected] of cases) {
        text.parseJson(new Uint8Array(Buffer.from(input, "utf8")));
        assert.is(given, expected, input);
      }
    } finally {
      setParse(realmParse);
    }
    for (const bad of ['{"a":"\\u+0e9"}', '{"a":"\\u 0e9"}', '{"a":"\\u00"}', '{"a":"\\u00e', '{"a":\\u0500}', "[\\u00e9]", '["x",\\u04c0]']) {
      assert.throws(() => text.parseJson(new Uint8Array(Buffer.from(bad, "utf8"))), undefined, "malformed escape refused: " + bad);
    }
    assert.is(errorCode(() => text.parseJson(new Uint8Array([0x22, 0xc3, 0x22]))), "UTF8_INVALID");
  } finally {
    env.dispose();
  }
});

test("text on Unicode firmware: strings held as characters go out as UTF-8 and come back as characters", () => {
  const { env, text } = textSubstitutes(true);
  try {
    const random = seededRandom(32);
    for (let i = 0; i < 1000; i++) {
      const value = randomText(random, 50);
      const bytes = new Uint8Array(Buffer.from(value, "utf8"));
      assert.is(text.utf8Decode(bytes, 0, bytes.length), value, "decode " + i);
      assert.equal(Array.from(text.utf8Encode(value)), Array.from(bytes), "encode " + i);
      assert.is(text.utf8Length(value), bytes.length);
      assert.is(JSON.parse(text.toJson(env.value({ v: value }))).v, value, "JSON " + i);
      assert.is(text.parseJson(new Uint8Array(Buffer.from(JSON.stringify({ v: value }), "utf8"))).v, value, "parseJson " + i);
    }
    assert.is(errorCode(() => text.utf8Decode(new Uint8Array([0x61, 0xc0, 0xaf]), 0, 3)), "UTF8_INVALID");
    // The firmware's own JSON.parse reads escapes right (lone surrogates stay, as in any JSON.parse).
    assert.equal(JSON.parse(JSON.stringify(text.parseJson(new Uint8Array(Buffer.from(ESCAPED_JSON, "utf8"))))), JSON.parse(JSON.stringify(JSON.parse(ESCAPED_JSON))));
  } finally {
    env.dispose();
  }
});

test.run();
