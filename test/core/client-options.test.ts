// Options the hub and DPS clients share are checked when the client is made, before anything is
// sent: a number given as text (as environment variables are) is refused, not joined to another
// (a SAS expiry in thousands of years, every deadline at once), and a key given as sasToken is
// refused instead of going out as the password. No message repeats a secret.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { HubClient } from "../../core/hub";
import { DpsClient } from "../../core/dps";
import { MqttSession } from "../../core/session";
import { sasExpiry } from "../../core/sas";
import { FakePlatform } from "../helpers/fake-platform";
import { errorOf } from "../helpers/errors";
import { HOST, KEY } from "../helpers/hub-fake";

const HUB_NUMBERS = ["port", "sasTtlSeconds", "requestTimeoutMs", "keepAliveSeconds", "reconnectMinMs", "reconnectMaxMs", "maxQueuedMessages", "maxQueuedBytes", "maxInflight", "maxPacketBytes"];
const DPS_NUMBERS = ["port", "sasTtlSeconds", "requestTimeoutMs", "timeoutMs", "maxRetries", "defaultRetryAfterSeconds"];
const hub = (extra: object) => new HubClient(new FakePlatform(), { hostName: HOST, deviceId: "dev-1", sharedAccessKey: KEY, ...extra });
const dps = (extra: object) => new DpsClient(new FakePlatform(), { idScope: "0ne00000001", registrationId: "dev-1", symmetricKey: KEY, ...extra });

test("each numeric hub option as text, negative or NaN: ARGUMENT_INVALID naming it, at construction", () => {
  for (const name of HUB_NUMBERS) {
    for (const bad of ["3600", -1, NaN, null, "64k"]) {
      const error = errorOf(() => hub({ [name]: bad }));
      assert.is(error.code, "ARGUMENT_INVALID", name + " = " + String(bad));
      assert.match(error.message, name);
    }
    assert.not.throws(() => hub({ [name]: 3600 }), name + " as a number");
  }
});

test("each numeric DPS option as text, negative or NaN: ARGUMENT_INVALID naming it, at construction", () => {
  for (const name of DPS_NUMBERS) {
    for (const bad of ["3600", -5, NaN]) {
      const error = errorOf(() => dps({ [name]: bad }));
      assert.is(error.code, "ARGUMENT_INVALID", name + " = " + String(bad));
      assert.match(error.message, name);
    }
    assert.not.throws(() => dps({ [name]: 30 }), name + " as a number");
  }
});

test("a key given as sasToken is refused, and not repeated in the message; a token is taken", () => {
  const token = "SharedAccessSignature sr=" + HOST + "%2Fdevices%2Fdev-1&sig=abc&se=2000000000";
  for (const make of [(t: unknown) => new HubClient(new FakePlatform(), { hostName: HOST, deviceId: "dev-1", sasToken: t as string }), (t: unknown) => new DpsClient(new FakePlatform(), { idScope: "0ne00000001", registrationId: "dev-1", sasToken: t as string })]) {
    const error = errorOf(() => make(KEY));
    assert.is(error.code, "ARGUMENT_INVALID");
    assert.match(error.message, "sasToken");
    assert.not.match(error.message, KEY);
    assert.is(errorOf(() => make(42)).code, "ARGUMENT_INVALID");
    assert.not.throws(() => make(token));
  }
});

test("no options object at all: ARGUMENT_INVALID, not a TypeError", () => {
  for (const missing of [undefined, null, "HostName=x"]) {
    assert.is(errorOf(() => new HubClient(new FakePlatform(), missing as never)).code, "ARGUMENT_INVALID");
    assert.is(errorOf(() => new DpsClient(new FakePlatform(), missing as never)).code, "ARGUMENT_INVALID");
  }
});

test("the session and sasExpiry refuse text numbers too (they are exported)", () => {
  assert.is(errorOf(() => new MqttSession({ clientId: "c", keepAliveSeconds: "60" as never })).code, "ARGUMENT_INVALID");
  assert.is(errorOf(() => new MqttSession({ clientId: "c", ackTimeoutMs: "30000" as never })).code, "ARGUMENT_INVALID");
  assert.is(errorOf(() => sasExpiry(2000000000, "3600" as never)).code, "ARGUMENT_INVALID");
  assert.is(sasExpiry(2000000000, 3600), 2000003600);
});

test.run();
