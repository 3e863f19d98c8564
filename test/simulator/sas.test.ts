import { createHmac } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { deriveDeviceKey, parseSasToken, sasRefusal, type SasToken } from "../../simulator/sas";
import { dpsSasToken, groupDeviceKey } from "../helpers/dps-credentials";

const KEY = Buffer.alloc(32, 7).toString("base64");
const OTHER_KEY = Buffer.alloc(32, 9).toString("base64");
const SCOPE = "0ne000SIM01";
const NOW = 1_800_000_000;
const expected = { resourceUri: `${SCOPE}/registrations/dev-1`, keyName: "registration", keys: [KEY], nowSeconds: NOW };

function token(text: string): SasToken {
  const parsed = parseSasToken(text);
  if (!parsed) throw new Error("token did not parse");
  return parsed;
}

test("group key derivation matches the public test vector (PROTOCOL.md §2)", () => {
  const groupKey = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
  const registrationId = "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6";
  assert.is(deriveDeviceKey(groupKey, registrationId), "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=");
  assert.is(groupDeviceKey(groupKey, registrationId), "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=");
});

test("parses the fields in any order, keeping sr encoded and sig decoded", () => {
  const parsed = token("SharedAccessSignature skn=registration&se=123&sig=ab%2Bc%3D&sr=a%2Fb");
  assert.equal(parsed, { encodedResource: "a%2Fb", signature: "ab+c=", expirySeconds: 123, keyName: "registration" });
});

test("malformed tokens do not parse", () => {
  const bad = [
    "",
    "sr=a&sig=b&se=1",
    "SharedAccessSignature sr=a&sig=b",
    "SharedAccessSignature sr=a&sig=b&se=soon",
    "SharedAccessSignature sr=a&sig=b&se=1&se=2",
    "SharedAccessSignature sr=a&sig=b&se=1&extra=x",
    "SharedAccessSignature sr=a&sig=%E0%A4%A&se=1",
    "SharedAccessSignature sr=a&sig&se=1",
  ];
  for (const text of bad) assert.is(parseSasToken(text), undefined, text);
});

test("a token signed with the enrollment key over the encoded sr is accepted", () => {
  assert.is(sasRefusal(token(dpsSasToken(SCOPE, "dev-1", KEY, NOW + 60)), expected), undefined);
});

test("either of primary and secondary key may sign", () => {
  const signed = token(dpsSasToken(SCOPE, "dev-1", OTHER_KEY, NOW + 60));
  assert.is(sasRefusal(signed, expected), "sas-signature-mismatch");
  assert.is(sasRefusal(signed, { ...expected, keys: [KEY, OTHER_KEY] }), undefined);
});

test("each wrong part has its own refusal reason", () => {
  assert.is(sasRefusal(token(dpsSasToken(SCOPE, "dev-1", KEY, NOW)), expected), "sas-expired");
  assert.is(sasRefusal(token(dpsSasToken(SCOPE, "dev-2", KEY, NOW + 60)), expected), "sas-resource-mismatch");
  assert.is(sasRefusal(token(dpsSasToken(SCOPE, "dev-1", OTHER_KEY, NOW + 60)), expected), "sas-signature-mismatch");
  const withoutKeyName = dpsSasToken(SCOPE, "dev-1", KEY, NOW + 60).replace("&skn=registration", "");
  assert.is(sasRefusal(token(withoutKeyName), expected), "sas-key-name-mismatch");
  const otherKeyName = dpsSasToken(SCOPE, "dev-1", KEY, NOW + 60).replace("skn=registration", "skn=device");
  assert.is(sasRefusal(token(otherKeyName), expected), "sas-key-name-mismatch");
});

test("sr must arrive URL-encoded; the signature covers it exactly as sent", () => {
  const se = NOW + 60;
  const raw = `${SCOPE}/registrations/dev-1`;
  const signOver = (sr: string) => {
    const sig = createHmac("sha256", Buffer.from(KEY, "base64")).update(`${sr}\n${se}`).digest("base64");
    return token(`SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=registration`);
  };
  assert.is(sasRefusal(signOver(raw), expected), "sas-resource-mismatch", "unencoded sr");
  const lowerHex = raw.replace(/\//g, "%2f");
  assert.is(sasRefusal(signOver(lowerHex), expected), undefined, "lower-case hex is still URL-encoded");
  // Signed over the upper-case form but sent in lower case: the bytes signed differ from the bytes sent.
  const mixed = signOver(encodeURIComponent(raw));
  mixed.encodedResource = lowerHex;
  assert.is(sasRefusal(mixed, expected), "sas-signature-mismatch");
});

test.run();
