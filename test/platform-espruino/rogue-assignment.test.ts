// On Espruino the interpreter's TLS checks no certificate, so whoever intercepts provisioning can
// answer as DPS. The shipped modules then take only IoT Hub names as an assignment: a device is
// never sent to another host with its SAS tokens. Here the simulator's DPS assigns a hub named
// outside Azure (as an impersonator would), over real TLS, in the stripped Espruino realm.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { startSimulator } from "../../simulator/index";
import { EspruinoEnvironment, shippedStorage } from "./espruino-environment";

test("connectViaDps refuses an assigned host that is no IoT hub name: DPS_BAD_RESPONSE, retryable, and no connection to it", async () => {
  const sim = await startSimulator({ dps: { retryAfterSeconds: 0 }, hubs: ["rogue-hub.example.com"] });
  const env = new EspruinoEnvironment({ storage: shippedStorage(), lookup: (host) => sim.resolve(host), ca: sim.ca });
  try {
    const key = randomBytes(32).toString("base64");
    sim.dps.enrollIndividual({ registrationId: "rogue-1", attestation: { type: "symmetricKey", primaryKey: key } });
    const lib = env.require("azure-iot-mqtt-lite");
    const outcome = await lib.connectViaDps(lib.espruinoPlatform(), { dps: { idScope: sim.idScope, registrationId: "rogue-1", symmetricKey: key, host: sim.dpsHost, timeoutMs: 5000 } }).then(
      () => "connected",
      (error: { code?: string; message?: string; retryable?: boolean }) => [error.code, error.message, error.retryable],
    );
    assert.equal(outcome, ["DPS_BAD_RESPONSE", 'assigned "rogue-hub.example.com", not an IoT hub name', true]);
    assert.ok(sim.assignedDevice("rogue-hub.example.com", "rogue-1"), "DPS did assign it there");
    assert.equal(env.stats.dialled.map((d: { host: string }) => d.host), [sim.dpsHost], "DPS dialled, the assigned host never");
    assert.is(sim.connections.filter((c) => c.service !== "dps").length, 0, "no connection reached the rogue hub");
  } finally {
    env.dispose();
    await sim.close();
  }
});

test("DpsClient run directly refuses it too: the platform says its TLS checks no certificate", async () => {
  const sim = await startSimulator({ dps: { retryAfterSeconds: 0 }, hubs: ["rogue-hub.example.com"] });
  const env = new EspruinoEnvironment({ storage: shippedStorage(), lookup: (host) => sim.resolve(host), ca: sim.ca });
  try {
    const key = randomBytes(32).toString("base64");
    sim.dps.enrollIndividual({ registrationId: "rogue-2", attestation: { type: "symmetricKey", primaryKey: key } });
    const lib = env.require("azure-iot-mqtt-lite");
    const client = lib.DpsClient(lib.espruinoPlatform(), { idScope: sim.idScope, registrationId: "rogue-2", symmetricKey: key, host: sim.dpsHost, timeoutMs: 5000 });
    const outcome = await client.register().then(
      () => "assigned",
      (error: { code?: string; message?: string }) => [error.code, error.message],
    );
    assert.equal(outcome, ["DPS_BAD_RESPONSE", 'assigned "rogue-hub.example.com", not an IoT hub name']);
  } finally {
    env.dispose();
    await sim.close();
  }
});

test.run();
