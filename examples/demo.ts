// `npm start`: the whole device journey with a readable timeline. By default against the built-in
// simulator (real TLS on loopback); against real Azure when the variables of Azure's own samples
// are set: IOTHUB_DEVICE_DPS_ID_SCOPE, IOTHUB_DEVICE_DPS_DEVICE_ID, IOTHUB_DEVICE_DPS_DEVICE_KEY
// (and optionally IOTHUB_DEVICE_DPS_ENDPOINT).
import { randomBytes } from "node:crypto";
import { DpsClient, type DpsOptions, type DpsStep } from "../core/dps";
import type { LiteError } from "../core/errors";
import { nodePlatform, type NodePlatformOptions } from "../platform-node/platform";
import { startSimulator, type Simulator } from "../simulator/index";

const started = performance.now();
let last = started;

function line(what: string, detail: string): void {
  const now = performance.now();
  const total = ("+" + Math.round(now - started) + " ms").padStart(10);
  const step = ("(" + Math.round(now - last) + " ms)").padStart(10);
  last = now;
  console.log(total + step + "  " + what.padEnd(12) + " " + detail);
}

function describe(step: DpsStep): string {
  switch (step.step) {
    case "connect": return "opening MQTT over TLS to " + step.host;
    case "connected": return "CONNACK accepted";
    case "subscribed": return "SUBACK for $dps/registrations/res/#";
    case "register": return "PUBLISH iotdps-register";
    case "assigning": return "202 assigning, operation " + step.operationId + ", retry-after " + step.retryAfterSeconds + " s";
    case "poll": return "PUBLISH iotdps-get-operationstatus";
    case "retry": return "transient " + step.reason + ", retrying in " + step.delayMs + " ms";
    case "assigned": return "assigned to hub " + step.assignedHub + " as device " + step.deviceId;
  }
  return "";
}

interface Setup {
  dps: DpsOptions;
  platform: NodePlatformOptions;
  sim?: Simulator;
}

async function setUp(): Promise<Setup> {
  const env = process.env;
  if (env.IOTHUB_DEVICE_DPS_ID_SCOPE && env.IOTHUB_DEVICE_DPS_DEVICE_ID && env.IOTHUB_DEVICE_DPS_DEVICE_KEY) {
    console.log("Provisioning against Azure (IOTHUB_DEVICE_DPS_* are set)\n");
    return {
      dps: {
        idScope: env.IOTHUB_DEVICE_DPS_ID_SCOPE,
        registrationId: env.IOTHUB_DEVICE_DPS_DEVICE_ID,
        symmetricKey: env.IOTHUB_DEVICE_DPS_DEVICE_KEY,
        host: env.IOTHUB_DEVICE_DPS_ENDPOINT || undefined,
      },
      platform: {},
    };
  }
  const sim = await startSimulator({ dps: { retryAfterSeconds: 1, assigningPolls: 1 } });
  const key = randomBytes(32).toString("base64");
  const registrationId = "demo-thermostat-01";
  sim.dps.enrollIndividual({
    registrationId,
    attestation: { type: "symmetricKey", primaryKey: key },
    customAllocation: (request) => ({ payload: { welcome: "hello " + registrationId, asked: request.payload } }),
  });
  console.log("Provisioning against the built-in simulator (real TLS on 127.0.0.1:" + sim.port + ", throw-away CA)");
  console.log("Set IOTHUB_DEVICE_DPS_ID_SCOPE, IOTHUB_DEVICE_DPS_DEVICE_ID and IOTHUB_DEVICE_DPS_DEVICE_KEY to use Azure.\n");
  return {
    dps: { idScope: sim.idScope, registrationId, symmetricKey: key, host: sim.dpsHost, payload: { firmware: "1.0.0" } },
    platform: { resolve: (host) => sim.resolve(host), ca: sim.ca },
    sim,
  };
}

async function main(): Promise<void> {
  const setup = await setUp();
  try {
    const platform = nodePlatform(setup.platform);
    const dps = new DpsClient(platform, { ...setup.dps, onStep: (step) => line(step.step, describe(step)) });
    const result = await dps.register();
    console.log("\nDPS result:\n" + JSON.stringify(result, null, 2));
  } finally {
    if (setup.sim) await setup.sim.close();
  }
}

main().catch((error: LiteError) => {
  console.error("\nfailed: " + (error.code || "UNEXPECTED") + ": " + error.message);
  process.exit(1);
});
