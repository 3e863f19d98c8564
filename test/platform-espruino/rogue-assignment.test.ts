// On Espruino the interpreter's TLS checks no certificate, so whoever intercepts provisioning can
// answer as DPS. The shipped modules then take only IoT Hub names as an assignment: a device is
// never sent to another host with its SAS tokens. Here the simulator's DPS assigns a hub named
// outside Azure (as an impersonator would), over real TLS, in the stripped Espruino realm.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { startSimulator, type Simulator } from "../../simulator/index";
import { EspruinoEnvironment, shippedStorage } from "./espruino-environment";

const ROGUE = "rogue-hub.example.com";

/** Runs `body` with the shipped library, a DPS that assigns the rogue hub, and its options for `registrationId`. */
async function withRogueDps(registrationId: string, body: (lib: any, dps: object, sim: Simulator, env: EspruinoEnvironment) => Promise<void>): Promise<void> {
  const sim = await startSimulator({ dps: { retryAfterSeconds: 0 }, hubs: [ROGUE] });
  const env = new EspruinoEnvironment({ storage: shippedStorage(), lookup: (host) => sim.resolve(host), ca: sim.ca });
  try {
    const key = randomBytes(32).toString("base64");
    sim.dps.enrollIndividual({ registrationId, attestation: { type: "symmetricKey", primaryKey: key } });
    await body(env.require("azure-iot-mqtt-lite"), { idScope: sim.idScope, registrationId, symmetricKey: key, host: sim.dpsHost, timeoutMs: 5000 }, sim, env);
  } finally {
    env.dispose();
    await sim.close();
  }
}

test("connectViaDps refuses an assigned host that is no IoT hub name: DPS_BAD_RESPONSE, retryable, and no connection to it", () =>
  withRogueDps("rogue-1", async (lib, dps, sim, env) => {
    const outcome = await lib.connectViaDps(lib.espruinoPlatform(), { dps }).then(
      () => "connected",
      (error: { code?: string; message?: string; retryable?: boolean }) => [error.code, error.message, error.retryable],
    );
    assert.equal(outcome, ["DPS_BAD_RESPONSE", 'assigned "' + ROGUE + '", not an IoT hub name', true]);
    assert.ok(sim.assignedDevice(ROGUE, "rogue-1"), "DPS did assign it there");
    assert.equal(env.stats.dialled.map((d: { host: string }) => d.host), [sim.dpsHost], "DPS dialled, the assigned host never");
    assert.is(sim.connections.filter((c) => c.service !== "dps").length, 0, "no connection reached the rogue hub");
  }));

test("DpsClient run directly refuses it too: the platform says its TLS checks no certificate", () =>
  withRogueDps("rogue-2", async (lib, dps) => {
    const outcome = await lib.DpsClient(lib.espruinoPlatform(), dps).register().then(
      () => "assigned",
      (error: { code?: string; message?: string }) => [error.code, error.message],
    );
    assert.equal(outcome, ["DPS_BAD_RESPONSE", 'assigned "' + ROGUE + '", not an IoT hub name']);
  }));

test.run();
