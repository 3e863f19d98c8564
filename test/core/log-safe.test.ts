// A client logged (console.log / util.inspect, JSON.stringify) shows who it is, never its key or
// connection string: loaded through the package's entry point, as an application does.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inspect } from "node:util";
import { DpsClient, HubClient } from "../../core/index";
import { FakePlatform } from "../helpers/fake-platform";
import { HOST, KEY } from "../helpers/hub-fake";

test("a hub client made from a connection string: inspect and JSON name the device, not the key", () => {
  const client = new HubClient(new FakePlatform(), { connectionString: "HostName=" + HOST + ";DeviceId=dev-1;SharedAccessKey=" + KEY });
  const shown = inspect(client, { depth: 10 });
  assert.not.ok(shown.includes(KEY), shown);
  assert.match(shown, "HubClient");
  assert.match(shown, "dev-1");
  assert.equal(JSON.parse(JSON.stringify({ client })), { client: { hostName: HOST, deviceId: "dev-1", connected: false } });
  assert.not.ok(inspect({ context: { client } }, { depth: 10 }).includes(KEY), "nested in a logged object too");
});

test("a DPS client: inspect and JSON name the registration, not the key", () => {
  const client = new DpsClient(new FakePlatform(), { idScope: "0ne00000001", registrationId: "dev-1", symmetricKey: KEY });
  assert.not.ok(inspect(client, { depth: 10 }).includes(KEY));
  assert.equal(JSON.parse(JSON.stringify(client)), { idScope: "0ne00000001", registrationId: "dev-1" });
});

test.run();
