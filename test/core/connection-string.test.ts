import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseConnectionString } from "../../core/connection-string";

const KEY = "dGhpcyBpcyBhIDMyIGJ5dGUgc2hhcmVkIGtleSEhISE=";
const SAS = "SharedAccessSignature sr=h.azure-devices.net%2Fdevices%2Fd&sig=c2VjcmV0c2lnbmF0dXJlMTIz%3D&se=1893456000";

function failure(text: string): { code?: string; message: string } {
  try {
    parseConnectionString(text);
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("parsed: " + text);
}

test("a device connection string with a shared access key", () => {
  assert.equal(parseConnectionString("HostName=h.azure-devices.net;DeviceId=dev-1;SharedAccessKey=" + KEY), {
    hostName: "h.azure-devices.net",
    deviceId: "dev-1",
    sharedAccessKey: KEY,
  });
});

test("module, gateway, any part order, surrounding whitespace and a trailing ';'", () => {
  assert.equal(
    parseConnectionString(" SharedAccessKey=" + KEY + ";ModuleId=filter;GatewayHostName=edge.local;DeviceId=d;HostName=h;\n"),
    { hostName: "h", deviceId: "d", moduleId: "filter", gatewayHostName: "edge.local", sharedAccessKey: KEY },
  );
});

test("x509=true and a pre-made SharedAccessSignature are credentials too", () => {
  assert.equal(parseConnectionString("HostName=h;DeviceId=d;x509=true"), { hostName: "h", deviceId: "d", x509: true });
  assert.equal(parseConnectionString("HostName=h;DeviceId=d;x509=True"), { hostName: "h", deviceId: "d", x509: true });
  assert.equal(parseConnectionString("HostName=h;DeviceId=d;SharedAccessSignature=" + SAS), {
    hostName: "h",
    deviceId: "d",
    sharedAccessSignature: SAS,
  });
});

test("a missing part is CONNECTION_STRING_MISSING_PART and named", () => {
  let error = failure("DeviceId=d;SharedAccessKey=" + KEY);
  assert.is(error.code, "CONNECTION_STRING_MISSING_PART");
  assert.match(error.message, "HostName");
  error = failure("HostName=h;SharedAccessKey=" + KEY);
  assert.is(error.code, "CONNECTION_STRING_MISSING_PART");
  assert.match(error.message, "DeviceId");
});

test("a duplicated part is CONNECTION_STRING_DUPLICATE_PART and named", () => {
  const error = failure("HostName=h;DeviceId=d;DeviceId=e;SharedAccessKey=" + KEY);
  assert.is(error.code, "CONNECTION_STRING_DUPLICATE_PART");
  assert.match(error.message, "DeviceId");
  assert.is(failure("HostName=h;DeviceId=d;SharedAccessKey=" + KEY + ";SharedAccessKey=" + KEY).code, "CONNECTION_STRING_DUPLICATE_PART");
});

test("an empty part is CONNECTION_STRING_EMPTY_PART and named", () => {
  const error = failure("HostName=;DeviceId=d;SharedAccessKey=" + KEY);
  assert.is(error.code, "CONNECTION_STRING_EMPTY_PART");
  assert.match(error.message, "HostName");
  assert.is(failure("HostName=h;DeviceId=d;SharedAccessKey=").code, "CONNECTION_STRING_EMPTY_PART");
});

test("an unknown or mis-cased part is CONNECTION_STRING_UNKNOWN_PART and named", () => {
  let error = failure("HostName=h;DeviceId=d;SharedAccessKeyName=iothubowner;SharedAccessKey=" + KEY);
  assert.is(error.code, "CONNECTION_STRING_UNKNOWN_PART");
  assert.match(error.message, "SharedAccessKeyName");
  error = failure("hostname=h;DeviceId=d;SharedAccessKey=" + KEY);
  assert.is(error.code, "CONNECTION_STRING_UNKNOWN_PART");
  assert.match(error.message, "hostname");
});

test("an unknown part that is no known name is named by position: it may be a key's tail after a stray ';'", () => {
  // The key "c2VjcmV0LWtleS1ieXRlcy0wMTIzNDU2Nzg5YWJjZGVm" with a ';' typed into it.
  const error = failure("HostName=h;DeviceId=d;SharedAccessKey=c2VjcmV0LWtleS1ieXRlcy0w;MTIzNDU2Nzg5YWJjZGVm=");
  assert.is(error.code, "CONNECTION_STRING_UNKNOWN_PART");
  assert.is(error.message, "unknown part number 4");
});

test("malformed text is CONNECTION_STRING_MALFORMED", () => {
  for (const text of [
    "",
    ";",
    "HostName=h;;DeviceId=d;SharedAccessKey=" + KEY,
    "HostName=h;DeviceId=d;SharedAccessKey",
    "=h;DeviceId=d;SharedAccessKey=" + KEY,
    "HostName=h;DeviceId=d;x509=false",
    "HostName=h;DeviceId=d;x509=yes",
    "HostName=h;DeviceId=d;SharedAccessSignature=sr=x&sig=y&se=1",
  ]) {
    assert.is(failure(text).code, "CONNECTION_STRING_MALFORMED", JSON.stringify(text));
  }
  assert.is(failure(undefined as unknown as string).code, "CONNECTION_STRING_MALFORMED");
});

test("no credential, or more than one, is CONNECTION_STRING_CREDENTIAL", () => {
  for (const text of [
    "HostName=h;DeviceId=d",
    "HostName=h;DeviceId=d;x509=true;SharedAccessKey=" + KEY,
    "HostName=h;DeviceId=d;SharedAccessSignature=" + SAS + ";SharedAccessKey=" + KEY,
    "HostName=h;DeviceId=d;SharedAccessSignature=" + SAS + ";x509=true",
  ]) {
    assert.is(failure(text).code, "CONNECTION_STRING_CREDENTIAL", text);
  }
});

test("identity parts are checked: bad device or module ids are DEVICE_ID_INVALID / MODULE_ID_INVALID", () => {
  assert.is(failure("HostName=h;DeviceId=a/b;SharedAccessKey=" + KEY).code, "DEVICE_ID_INVALID");
  assert.is(failure("HostName=h;DeviceId=d;ModuleId=a#b;SharedAccessKey=" + KEY).code, "MODULE_ID_INVALID");
});

test("the key must decode from base64 (KEY_INVALID)", () => {
  for (const key of ["abc", "not-base64", "c2VjcmV0a2V5Zm9ybWFsZm9ybWVk!!=="]) {
    assert.is(failure("HostName=h;DeviceId=d;SharedAccessKey=" + key).code, "KEY_INVALID", key);
  }
});

test("no error message ever contains the key or the signature", () => {
  const secretKey = "U2VjcmV0S2V5VGhhdE11c3ROb3RMZWFrMTIzNDU2Nzg="; // valid base64, 32 bytes
  const brokenKey = secretKey.slice(0, -2) + "!=";
  const sig = "c2VjcmV0c2lnbmF0dXJlMTIz";
  const sas = "SharedAccessSignature sr=h%2Fdevices%2Fd&sig=" + sig + "&se=1893456000";
  const cases = [
    "HostName=h;DeviceId=d;SharedAccessKey=" + brokenKey,
    "HostName=h;DeviceId=d;SharedAccessKey=" + secretKey + ";SharedAccessKey=" + secretKey,
    "HostName=h;DeviceId=d;SharedAccessKey=" + secretKey + ";x509=true",
    "HostName=h;DeviceId=a/b;SharedAccessKey=" + secretKey,
    "DeviceId=d;SharedAccessKey=" + secretKey,
    "HostName=h;DeviceId=d;Key=" + secretKey,
    "HostName=h;DeviceId=d;" + secretKey, // a pasted bare key: its '=' padding makes it look like a part
    "HostName=h;DeviceId=d;" + secretKey.slice(0, 22) + "==", // a 16-byte key's length
    "HostName=h;DeviceId=d;" + secretKey.slice(0, 30), // no '=' at all
    "HostName=h;DeviceId=d;SharedAccessSignature=" + sas + ";SharedAccessKey=" + secretKey,
    "HostName=h;DeviceId=d;SharedAccessSignature=" + sig,
    "HostName=h;DeviceId=d;SharedAccessSignature=" + sas + ";SharedAccessSignature=" + sas,
    "HostName=h;DeviceId=d;" + sas,
  ];
  for (const text of cases) {
    const error = failure(text);
    assert.ok(error.code, text);
    for (const secret of [secretKey.slice(0, 12), sig.slice(0, 12), brokenKey.slice(-12)]) {
      assert.ok(error.message.indexOf(secret) < 0, error.code + ": " + error.message);
    }
  }
});

test.run();
