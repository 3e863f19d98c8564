import { test } from "uvu";
import * as assert from "uvu/assert";
import { utf8Decode, utf8Encode, utf8Length } from "../../core/utf8";
import { errorCode as codeOf } from "../helpers/errors";
import { inEachPathMode } from "../helpers/native";
import { installNative } from "../../core/native";
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

/** Espruino without Unicode: a string is its UTF-8 bytes, one char per byte. */
function asByteString(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

function withByteStrings(check: () => void): void {
  installNative({ byteStrings: true });
  try {
    check();
  } finally {
    installNative({});
  }
}

test("byte strings: text is its own UTF-8, validated on decode, copied on encode", () => withByteStrings(() => {
  const random = seededRandom(31);
  for (let i = 0; i < 2000; i++) {
    const text = randomText(random, 50);
    const bytes = new Uint8Array(Buffer.from(text, "utf8"));
    const byteString = asByteString(text);
    assert.is(utf8Decode(bytes, 0, bytes.length), byteString, "decode " + i);
    assert.equal(Array.from(utf8Encode(byteString)), Array.from(bytes), "encode " + i);
    assert.is(utf8Length(byteString), bytes.length);
  }
  assert.is(codeOf(() => utf8Decode(new Uint8Array([0x61, 0xc0, 0xaf]), 0, 3)), "UTF8_INVALID", "still strict");
  assert.is(codeOf(() => utf8Decode(new Uint8Array([0x61, 0xe2, 0x82]), 0, 3)), "UTF8_INVALID");
  assert.is(codeOf(() => utf8Decode(new Uint8Array([0xc3, 0xa9, 0]), 0, 3, true)), "UTF8_INVALID");
}));

test("a native text maker (Unicode Espruino) gets only validated bytes; a native writer may decline", () => {
  const made: string[] = [];
  installNative({
    utf8Text: (bytes, start, end) => {
      const text = Buffer.from(bytes.subarray(start, end)).toString("utf8");
      made.push(text);
      return text;
    },
    // Declines text with a char below 0x100 that is not ASCII, as Espruino's does for byte strings.
    utf8Length: (text) => (/[\u0080-\u00ff]/.test(text) ? -1 : Buffer.byteLength(text)),
    utf8Write: (text, out, offset) => {
      if (/[\u0080-\u00ff]/.test(text)) return -1;
      const bytes = Buffer.from(text, "utf8");
      out.set(bytes, offset);
      return bytes.length;
    },
  });
  try {
    const bytes = new Uint8Array(Buffer.from("xx café €😀", "utf8"));
    assert.is(utf8Decode(bytes, 2, bytes.length), " café €😀");
    assert.equal(made, [" café €😀"], "the native made the text");
    assert.is(codeOf(() => utf8Decode(new Uint8Array([0x61, 0xc0, 0xaf]), 0, 3)), "UTF8_INVALID", "validated before");
    assert.is(codeOf(() => utf8Decode(new Uint8Array([0xc3, 0xa9, 0]), 0, 3, true)), "UTF8_INVALID");
    assert.equal(made.length, 1, "never called for ill-formed bytes");
    for (const text of ["é", "€", "aé€😀"]) assert.equal(Array.from(utf8Encode(text)), Array.from(Buffer.from(text, "utf8")), text);
  } finally {
    installNative({});
  }
});

test("byte strings: JSON escapes of UTF-8 bytes go back to raw bytes, other escapes stay", () => {
  // What Espruino's JSON.stringify makes of a byte string, simulated: bytes >= 0x80 as \u00XX.
  const original = JSON.stringify;
  JSON.stringify = ((value: unknown) => original(value).replace(/[\u0080-\u00ff]/g, (c) => "\\u00" + c.charCodeAt(0).toString(16))) as typeof JSON.stringify;
  try {
    withByteStrings(() => {
      const value = { city: asByteString("Zürich €"), quote: 'say "hi"\\u00e9', control: "\u0001" };
      const json = toJson(value);
      assert.is(Buffer.from(json, "latin1").toString("utf8"), original({ city: "Zürich €", quote: 'say "hi"\\u00e9', control: "\u0001" }));
    });
  } finally {
    JSON.stringify = original;
  }
  assert.is(toJson({ a: "é" }), '{"a":"é"}', "without byte strings it is JSON.stringify");
  assert.is(toJson(undefined), "null");
});

test.run();
