import { test } from "uvu";
import * as assert from "uvu/assert";
import { errorCode as codeOf } from "../helpers/errors";
import { urlDecode, urlEncode } from "../../core/url";
import { randomText, seededRandom } from "../helpers/random";


/** encodeURIComponent plus the five characters it leaves alone but RFC 3986 reserves. */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

test("keeps exactly the unreserved set, encodes every other ASCII byte as upper-case %XX", () => {
  for (let code = 0; code < 128; code++) {
    const char = String.fromCharCode(code);
    const expected = /[A-Za-z0-9\-._~]/.test(char) ? char : "%" + (code < 16 ? "0" : "") + code.toString(16).toUpperCase();
    assert.is(urlEncode(char), expected, "code " + code);
  }
});

test("differs from encodeURIComponent exactly on ! ' ( ) *", () => {
  assert.is(encodeURIComponent("!'()*"), "!'()*");
  assert.is(urlEncode("!'()*"), "%21%27%28%29%2A");
  assert.is(urlEncode("a b+c/d=e&f"), encodeURIComponent("a b+c/d=e&f"));
});

test("random non-ASCII text encodes as encodeURIComponent (RFC 3986 form) and round-trips (5,000 seeded cases)", () => {
  const random = seededRandom(0x0e1);
  for (let i = 0; i < 5000; i++) {
    const text = randomText(random, 40);
    const encoded = urlEncode(text);
    assert.is(encoded, rfc3986(text), "case " + i);
    assert.is(urlDecode(encoded), text, "case " + i);
    assert.is(urlDecode(encoded), decodeURIComponent(encoded));
  }
});

test("Azure examples: a DTMI and a content type", () => {
  assert.is(urlEncode("dtmi:com:example:Thermostat;1"), "dtmi%3Acom%3Aexample%3AThermostat%3B1");
  assert.is(urlEncode("application/json"), "application%2Fjson");
  assert.is(urlEncode("€ü😀"), "%E2%82%AC%C3%BC%F0%9F%98%80");
});

test("decode accepts lower-case hex, raw characters, and '+' as space only when asked", () => {
  assert.is(urlDecode("%e2%82%ac%2f"), "€/");
  assert.is(urlDecode("ü€ x"), "ü€ x");
  assert.is(urlDecode("a+b%20c"), "a+b c");
  assert.is(urlDecode("a+b%20c", true), "a b c");
  assert.is(urlDecode("%2B", true), "+");
  assert.is(urlDecode(""), "");
});

test("bad % sequences throw URL_ENCODING_INVALID", () => {
  for (const text of ["%", "%4", "a%", "%G0", "%0G", "%%41", "%-1", "% 41", "abc%2"]) {
    assert.is(codeOf(() => urlDecode(text)), "URL_ENCODING_INVALID", JSON.stringify(text));
  }
});

test("decoded bytes that are not UTF-8 throw UTF8_INVALID; so does a lone surrogate to encode", () => {
  for (const text of ["%FF", "%C3", "%C3%28", "%E2%82", "%ED%A0%80", "%C0%80"]) {
    assert.is(codeOf(() => urlDecode(text)), "UTF8_INVALID", text);
  }
  assert.is(codeOf(() => urlEncode("\ud800")), "UTF8_INVALID");
});

test.run();
