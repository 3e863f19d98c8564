import { test } from "uvu";
import * as assert from "uvu/assert";
import { errorCode as codeOf } from "../helpers/errors";
import { createHash, createHmac } from "node:crypto";
import type { CryptoProvider } from "../../core/crypto";
import { dpsResourceUri, dpsSasToken } from "../../core/dps-credentials";
import { hubResourceUri, hubSasToken } from "../../core/hub-credentials";
import { decodeKey, deriveDeviceKey, sasExpiry, sasStringToSign, sasToken, sasTokenFromSignature } from "../../core/sas";

/** The documented formula (PROTOCOL.md 2), computed independently with node:crypto. */
function referenceToken(resourceUri: string, key: string, expiry: number, keyName?: string): string {
  const sr = encodeURIComponent(resourceUri);
  const sig = createHmac("sha256", Buffer.from(key, "base64"))
    .update(sr + "\n" + expiry)
    .digest("base64");
  const token = "SharedAccessSignature sr=" + sr + "&sig=" + encodeURIComponent(sig) + "&se=" + expiry;
  return keyName ? token + "&skn=" + keyName : token;
}

const KEY = "dGhpcyBpcyBhIDMyIGJ5dGUgc2hhcmVkIGtleSEhISE="; // 32 bytes
const EXPIRY = 1893456000; // 2030-01-01
const dps = { idScope: "0ne00000A0A", registrationId: "my-device-01" };
const hub = { hostName: "my-hub.azure-devices.net", deviceId: "my-device-01" };
const hubModule = { hostName: "my-hub.azure-devices.net", deviceId: "my-device-01", moduleId: "filter" };

const providers: [string, CryptoProvider | undefined][] = [
  ["own", undefined],
  ["supplied HMAC", { hmacSha256: (k, d) => new Uint8Array(createHmac("sha256", k).update(d).digest()) }],
  ["supplied SHA-256", { sha256: (d) => new Uint8Array(createHash("sha256").update(d).digest()) }],
];

test("resource URIs", () => {
  assert.is(dpsResourceUri(dps), "0ne00000A0A/registrations/my-device-01");
  assert.is(hubResourceUri(hub), "my-hub.azure-devices.net/devices/my-device-01");
  assert.is(hubResourceUri(hubModule), "my-hub.azure-devices.net/devices/my-device-01/modules/filter");
});

test("DPS, Hub device and Hub module tokens equal the documented formula computed with node:crypto", () => {
  for (const [name, crypto] of providers) {
    assert.is(
      dpsSasToken(dps, KEY, EXPIRY, crypto),
      referenceToken("0ne00000A0A/registrations/my-device-01", KEY, EXPIRY, "registration"),
      "DPS, " + name,
    );
    assert.is(
      hubSasToken(hub, KEY, EXPIRY, crypto),
      referenceToken("my-hub.azure-devices.net/devices/my-device-01", KEY, EXPIRY),
      "Hub, " + name,
    );
    assert.is(
      hubSasToken(hubModule, KEY, EXPIRY, crypto),
      referenceToken("my-hub.azure-devices.net/devices/my-device-01/modules/filter", KEY, EXPIRY),
      "module, " + name,
    );
  }
});

test("the exact token shape: sr and sig URL-encoded, se, skn last", () => {
  const token = dpsSasToken(dps, KEY, EXPIRY);
  const match = /^SharedAccessSignature sr=([^&]+)&sig=([^&]+)&se=(\d+)&skn=registration$/.exec(token);
  assert.ok(match, token);
  assert.is(match![1], "0ne00000A0A%2Fregistrations%2Fmy-device-01");
  assert.ok(/^[A-Za-z0-9%]+$/.test(match![2]) && match![2].endsWith("%3D"), match![2]);
  assert.is(match![3], String(EXPIRY));
});

test("string-to-sign and a pre-made signature (secure element path) give the same token", () => {
  const uri = hubResourceUri(hubModule);
  const toSign = sasStringToSign(uri, EXPIRY);
  assert.is(toSign, "my-hub.azure-devices.net%2Fdevices%2Fmy-device-01%2Fmodules%2Ffilter\n" + EXPIRY);
  const signature = createHmac("sha256", Buffer.from(KEY, "base64")).update(toSign).digest("base64");
  assert.is(sasTokenFromSignature(uri, signature, EXPIRY), hubSasToken(hubModule, KEY, EXPIRY));
  assert.is(sasTokenFromSignature(dpsResourceUri(dps), signature, EXPIRY, "registration").endsWith("&skn=registration"), true);
  assert.is(sasToken(uri, KEY, EXPIRY), hubSasToken(hubModule, KEY, EXPIRY));
});

test("a resource URI with characters encodeURIComponent leaves alone is signed as it is sent", () => {
  const device = { hostName: "h.azure-devices.net", deviceId: "d(1)!*'" };
  const token = hubSasToken(device, KEY, EXPIRY);
  const sr = "h.azure-devices.net%2Fdevices%2Fd%281%29%21%2A%27";
  assert.ok(token.startsWith("SharedAccessSignature sr=" + sr + "&sig="), token);
  const sig = createHmac("sha256", Buffer.from(KEY, "base64")).update(sr + "\n" + EXPIRY).digest("base64");
  assert.ok(token.indexOf("&sig=" + encodeURIComponent(sig) + "&") > 0);
});

test("group enrollment: the public vector from PROTOCOL.md, on every crypto path", () => {
  const groupKey = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
  for (const [name, crypto] of providers) {
    assert.is(deriveDeviceKey(groupKey, "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6", crypto), "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=", name);
  }
  assert.is(codeOf(() => deriveDeviceKey(groupKey, "bad id")), "REGISTRATION_ID_INVALID");
});

test("expiry: now + TTL, whole seconds; a clock before 2020 is CLOCK_NOT_SET", () => {
  assert.is(sasExpiry(1700000000, 3600), 1700003600);
  assert.ok(sasToken("hub/devices/d", Buffer.alloc(32).toString("base64"), 1700000000, "my key&x").endsWith("&skn=my%20key%26x"), "a key name is URL-encoded");
  assert.is(sasExpiry(1700000000.1, 60), 1700000061, "rounded up: at least 60 s of life");
  assert.is(sasExpiry(1577836800, 1), 1577836801);
  for (const now of [0, 946684800, 1577836799, NaN, undefined as unknown as number]) {
    assert.is(codeOf(() => sasExpiry(now, 3600)), "CLOCK_NOT_SET", String(now));
  }
  for (const ttl of [0, -1, 1.5, NaN, Infinity]) {
    assert.is(codeOf(() => sasExpiry(1700000000, ttl)), "ARGUMENT_INVALID", String(ttl));
  }
  // An expiry that can only come from an unset clock (e.g. 0 + TTL) is refused at signing too.
  assert.is(codeOf(() => hubSasToken(hub, KEY, 3600)), "CLOCK_NOT_SET");
  assert.is(codeOf(() => sasStringToSign("x", 3600)), "CLOCK_NOT_SET");
  assert.is(codeOf(() => sasStringToSign("x", EXPIRY + 0.5)), "ARGUMENT_INVALID");
});

test("CLOCK_NOT_SET says the device has no time yet", () => {
  try {
    sasExpiry(0, 60);
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /no time/);
    assert.match((error as Error).message, /SNTP/);
  }
});

test("bad keys are KEY_INVALID and never appear in the message", () => {
  const badKeys = ["", "not base64!", "c2VjcmV0a2V5", "c2VjcmV0a2V5X", "c2VjcmV0a2V5+=", "c2Vj cmV0a2V5"];
  for (const key of badKeys) {
    for (const fn of [
      () => hubSasToken(hub, key, EXPIRY),
      () => dpsSasToken(dps, key, EXPIRY),
      () => deriveDeviceKey(key, "r"),
      () => decodeKey(key, "key"),
    ]) {
      let error: Error | undefined;
      try {
        fn();
      } catch (caught) {
        error = caught as Error;
      }
      if (key === "c2VjcmV0a2V5") {
        assert.is(error, undefined, "a valid key signs");
        continue;
      }
      assert.is((error as { code?: string }).code, "KEY_INVALID", JSON.stringify(key));
      if (key) assert.ok(error!.message.indexOf(key) < 0 && error!.message.indexOf("c2Vj") < 0, error!.message);
    }
  }
  assert.is(codeOf(() => decodeKey(undefined, "key")), "KEY_INVALID");
});

test("empty resource URI, signature or key name are ARGUMENT_INVALID", () => {
  assert.is(codeOf(() => sasStringToSign("", EXPIRY)), "ARGUMENT_INVALID");
  assert.is(codeOf(() => sasTokenFromSignature("x", "", EXPIRY)), "ARGUMENT_INVALID");
  assert.is(codeOf(() => sasTokenFromSignature("x", "c2ln", EXPIRY, "")), "ARGUMENT_INVALID");
  assert.is(codeOf(() => hubSasToken({ hostName: "", deviceId: "d" }, KEY, EXPIRY)), "ARGUMENT_INVALID");
  assert.is(codeOf(() => dpsSasToken({ idScope: "", registrationId: "r" }, KEY, EXPIRY)), "ARGUMENT_INVALID");
});

test.run();
