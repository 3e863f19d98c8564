import { test } from "uvu";
import * as assert from "uvu/assert";
import { utf8Decode, utf8Encode, utf8Length, utf8Validate } from "../../core/utf8";
import { errorCode as codeOf, errorOf } from "../helpers/errors";
import { inEachPathMode } from "../helpers/native";
import { toJson } from "../../core/json";
import { randomBytes, randomInt, randomText, seededRandom } from "../helpers/random";

const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

test("encodes every kind of character exactly as Node does", () => {
  const samples = ["", "a", "ü", "€", "中文", "😀", "a😀b€c", "\u007f\u0080\u07ff\u0800\uffff", "\u{10000}\u{10ffff}"];
  for (const text of samples) {
    const ours = utf8Encode(text);
    assert.equal(Array.from(ours), Array.from(Buffer.from(text, "utf8")), text);
    assert.is(utf8Length(text), ours.length);
    assert.is(utf8Decode(ours, 0, ours.length), text);
  }
});

test("random strings round-trip and match Node's encoder (5,000 seeded cases)", () => inEachPathMode(() => {
  const random = seededRandom(0xc0dec);
  for (let i = 0; i < 5000; i++) {
    const text = randomText(random, i % 10 === 0 ? 600 : 40);
    const ours = utf8Encode(text);
    assert.ok(Buffer.from(text, "utf8").equals(ours), "encode mismatch for case " + i);
    assert.is(utf8Decode(ours, 0, ours.length), text, "decode mismatch for case " + i);
  }
}));

test("decodes a window of a larger buffer", () => {
  const bytes = utf8Encode("xx中文yy");
  assert.is(utf8Decode(bytes, 2, 8), "中文");
});

test("refuses lone surrogates when encoding", () => inEachPathMode(() => {
  for (const text of ["\ud800", "a\udc00", "\ud83d", "\ud83dx", "x\ude00\ud83d"]) {
    assert.is(codeOf(() => utf8Encode(text)), "UTF8_INVALID", JSON.stringify(text));
    assert.is(codeOf(() => utf8Length(text)), "UTF8_INVALID");
  }
}));

test("refuses ill-formed bytes exactly where a fatal TextDecoder does (20,000 random buffers)", () => {
  const random = seededRandom(7);
  let invalid = 0;
  for (let i = 0; i < 20000; i++) {
    const bytes = randomBytes(random, randomInt(random, 1, 12));
    // Bias toward plausible multi-byte sequences so the edges get exercised, not just garbage.
    if (i % 2 === 0) bytes[0] = 0xc0 + randomInt(random, 0, 0x37);
    let expected: string | undefined;
    try {
      expected = strictDecoder.decode(bytes);
    } catch {
      expected = undefined;
    }
    if (expected === undefined) {
      invalid++;
      assert.is(codeOf(() => utf8Decode(bytes, 0, bytes.length)), "UTF8_INVALID", Array.from(bytes).join(","));
    } else {
      assert.is(utf8Decode(bytes, 0, bytes.length), expected);
    }
  }
  assert.ok(invalid > 1000 && invalid < 19000, "the sample covers both outcomes: " + invalid);
});

test("named ill-formed sequences", () => {
  const cases = [
    [0xc0, 0x80], // overlong NUL
    [0xe0, 0x80, 0x80], // overlong
    [0xed, 0xa0, 0x80], // encoded surrogate U+D800
    [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
    [0xf8, 0x88, 0x80, 0x80, 0x80], // 5-byte form
    [0xe4, 0xb8], // truncated
    [0x80], // lone continuation
  ];
  for (const bytes of cases) {
    assert.is(codeOf(() => utf8Decode(new Uint8Array(bytes), 0, bytes.length)), "UTF8_INVALID", bytes.join(","));
  }
});

test("U+0000 is refused only when asked (MQTT strings)", () => inEachPathMode(() => {
  const bytes = new Uint8Array([0x61, 0x00, 0x62]);
  assert.is(utf8Decode(bytes, 0, 3), "a\u0000b");
  assert.is(codeOf(() => utf8Decode(bytes, 0, 3, true)), "UTF8_INVALID");
  const long = new Uint8Array(400).fill(0x61);
  long[399] = 0;
  assert.is(codeOf(() => utf8Decode(long, 0, 400, true)), "UTF8_INVALID");
}));

test("long text crosses the 256-unit chunk boundary intact, surrogate pairs included", () => {
  const text = "a".repeat(254) + "😀" + "€".repeat(300) + "😀".repeat(200);
  const bytes = utf8Encode(text);
  assert.is(utf8Decode(bytes, 0, bytes.length), text);
});

test("utf8Validate checks exactly as utf8Decode does, and says whether the bytes were ASCII", () => {
  const random = seededRandom(31);
  for (let i = 0; i < 5000; i++) {
    const bytes = randomBytes(random, randomInt(random, 0, 10));
    if (i % 2 === 0) bytes[0] = 0xc0 + randomInt(random, 0, 0x37);
    const decoded = codeOf(() => utf8Decode(bytes, 0, bytes.length, true));
    const validated = codeOf(() => utf8Validate(bytes, 0, bytes.length, true));
    assert.is(validated, decoded, Array.from(bytes).join(","));
    if (!validated) assert.is(utf8Validate(bytes, 0, bytes.length, true), bytes.every((b) => b < 0x80 && b > 0));
  }
});

test("toJson is JSON.stringify, with undefined as null", () => {
  assert.is(toJson({ a: "é", b: [1, "x"] }), '{"a":"é","b":[1,"x"]}');
  assert.is(toJson(undefined), "null");
});

test("toJson refuses what JSON cannot carry with ARGUMENT_INVALID, naming what it was", () => {
  const cyclic: { self?: unknown } = {};
  cyclic.self = cyclic;
  assert.is(errorOf(() => toJson(cyclic)).code, "ARGUMENT_INVALID");
  assert.is(errorOf(() => toJson(BigInt(1))).code, "ARGUMENT_INVALID");
  assert.equal(errorOf(() => toJson(() => 1)), Object.assign(new Error("not JSON: a function"), { code: "ARGUMENT_INVALID" }));
  // Binary would stringify to {} (an ArrayBuffer, a DataView) or an object of indexes: refused.
  for (const binary of [new ArrayBuffer(4), new DataView(new ArrayBuffer(4)), new Int16Array(2)]) {
    assert.equal(errorOf(() => toJson(binary)), Object.assign(new Error("not JSON: binary data (give a Uint8Array)"), { code: "ARGUMENT_INVALID" }));
  }
  assert.is(toJson({ byteLength: 4, buffer: "b" }), '{"byteLength":4,"buffer":"b"}', "data that only looks binary is data");
});

test.run();
