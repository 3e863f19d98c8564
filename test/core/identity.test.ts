import { test } from "uvu";
import * as assert from "uvu/assert";
import { errorCode as codeOf } from "../helpers/errors";
import { dpsUsername } from "../../core/dps-credentials";
import { checkHubId, hubClientId, hubUsername } from "../../core/hub-credentials";
import { checkNonEmpty, checkRegistrationId } from "../../core/identity";

const hub = { hostName: "my-hub.azure-devices.net", deviceId: "dev-1" };
const hubModule = { hostName: "my-hub.azure-devices.net", deviceId: "dev-1", moduleId: "filter" };

test("DPS username, default and configured api-version", () => {
  const identity = { idScope: "0ne00000A0A", registrationId: "sn-007:a.b_c" };
  assert.is(dpsUsername(identity), "0ne00000A0A/registrations/sn-007:a.b_c/api-version=2019-03-31");
  assert.is(dpsUsername(identity, "2021-06-01"), "0ne00000A0A/registrations/sn-007:a.b_c/api-version=2021-06-01");
});

test("Hub client id and username for a device and a module", () => {
  assert.is(hubClientId(hub), "dev-1");
  assert.is(hubClientId(hubModule), "dev-1/filter");
  assert.is(hubUsername(hub), "my-hub.azure-devices.net/dev-1/?api-version=2021-04-12");
  assert.is(hubUsername(hubModule), "my-hub.azure-devices.net/dev-1/filter/?api-version=2021-04-12");
  assert.is(hubUsername(hub, undefined, "2020-09-30"), "my-hub.azure-devices.net/dev-1/?api-version=2020-09-30");
});

test("Hub username with a Plug and Play model id, URL-encoded", () => {
  assert.is(
    hubUsername(hub, "dtmi:com:example:Thermostat;1"),
    "my-hub.azure-devices.net/dev-1/?api-version=2021-04-12&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1",
  );
  assert.is(codeOf(() => hubUsername(hub, "")), "ARGUMENT_INVALID");
});

test("registration ids: 1-128 of A-Z a-z 0-9 : . _ -, the last alphanumeric or - (REGISTRATION_ID_INVALID otherwise)", () => {
  for (const id of ["a", "A-z.0_9:x", "x".repeat(128), "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6", "dev-", "-"]) {
    assert.is(checkRegistrationId(id), id);
  }
  for (const id of ["", "x".repeat(129), "a b", "a/b", "a+b", "a#b", "ü", "a%b", "dev_", "dev.", "dev:", "_", undefined, 42]) {
    assert.is(codeOf(() => checkRegistrationId(id)), "REGISTRATION_ID_INVALID", String(id));
  }
  assert.is(codeOf(() => dpsUsername({ idScope: "0ne", registrationId: "bad id" })), "REGISTRATION_ID_INVALID");
});

test("device and module ids: 1-128 of ASCII alphanumerics and - . % _ * ? ! ( ) , : = @ $ '", () => {
  for (const id of ["d", "-.%_*?!(),:=@$'", "Dev1", "x".repeat(128)]) {
    assert.is(checkHubId(id), id);
    assert.is(checkHubId(id, true), id);
  }
  // + and # are MQTT wildcards, ; splits connection strings, / splits topics.
  for (const id of ["", "x".repeat(129), "a+b", "a#b", "a;b", "a/b", "a b", "ü", "a&b", undefined]) {
    assert.is(codeOf(() => checkHubId(id)), "DEVICE_ID_INVALID", String(id));
    assert.is(codeOf(() => checkHubId(id, true)), "MODULE_ID_INVALID", String(id));
  }
  assert.is(codeOf(() => hubClientId({ hostName: "h", deviceId: "a/b" })), "DEVICE_ID_INVALID");
  assert.is(codeOf(() => hubUsername({ hostName: "h", deviceId: "d", moduleId: "" })), "MODULE_ID_INVALID");
});

test("empty idScope and hostName are ARGUMENT_INVALID", () => {
  assert.is(codeOf(() => dpsUsername({ idScope: "", registrationId: "r" })), "ARGUMENT_INVALID");
  assert.is(codeOf(() => hubUsername({ hostName: "", deviceId: "d" })), "ARGUMENT_INVALID");
  assert.is(codeOf(() => hubClientId({ deviceId: "d" } as never)), "ARGUMENT_INVALID");
  assert.is(codeOf(() => checkNonEmpty(null, "x")), "ARGUMENT_INVALID");
});

test.run();
