// `npm start`: the whole device journey with a readable timeline: provision through DPS, then
// connect to the assigned hub, send telemetry, report properties, take a desired change, answer a
// method and receive a cloud-to-device message. By default against the built-in
// simulator (real TLS on loopback); against real Azure when the variables of Azure's own samples
// are set: IOTHUB_DEVICE_DPS_ID_SCOPE, IOTHUB_DEVICE_DPS_DEVICE_ID, IOTHUB_DEVICE_DPS_DEVICE_KEY
// (and optionally IOTHUB_DEVICE_DPS_ENDPOINT).
import { randomBytes } from "node:crypto";
import { DpsClient, type DpsOptions, type DpsResult, type DpsStep } from "../core/dps";
import type { LiteError } from "../core/errors";
import { HubClient, type C2dMessage } from "../core/hub";
import { hubOptionsFromDps } from "../core/hub-dps";
import type { Platform } from "../core/platform";
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
  const azure = ["IOTHUB_DEVICE_DPS_ID_SCOPE", "IOTHUB_DEVICE_DPS_DEVICE_ID", "IOTHUB_DEVICE_DPS_DEVICE_KEY"];
  const missing = azure.filter((name) => !env[name]);
  if (missing.length > 0 && missing.length < azure.length) {
    // Some set, some not: a typo, most likely. Running the simulator instead would hide it.
    console.error("To run against Azure, also set " + missing.join(" and ") + " (or unset the others to run the simulator).");
    process.exit(2);
  }
  const endpoint = env.IOTHUB_DEVICE_DPS_ENDPOINT;
  if (endpoint && !/^[A-Za-z0-9.-]+$/.test(endpoint)) {
    console.error("IOTHUB_DEVICE_DPS_ENDPOINT is a host name (global.azure-devices-provisioning.net), not " + JSON.stringify(endpoint));
    process.exit(2);
  }
  if (missing.length === 0) {
    console.log("Provisioning against Azure (IOTHUB_DEVICE_DPS_* are set)\n");
    return {
      dps: {
        idScope: env.IOTHUB_DEVICE_DPS_ID_SCOPE as string,
        registrationId: env.IOTHUB_DEVICE_DPS_DEVICE_ID as string,
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

function waitFor<T>(register: (resolve: (value: T) => void) => void): Promise<T> {
  return new Promise(register);
}

/** The device's life on its hub, with the service side played by the simulator when there is one. */
async function liveOnHub(platform: Platform, setup: Setup, result: DpsResult): Promise<void> {
  const client = new HubClient(platform, hubOptionsFromDps(platform, setup.dps, result, { modelId: "dtmi:com:example:Thermostat;1" }));
  const desired = waitFor<number>((resolve) => client.on("desired", (patch, version, complete) => {
    line("desired", (complete ? "twin desired properties" : "desired patch") + " v" + version + ": " + JSON.stringify(patch));
    if (patch.targetTemperature !== undefined && version !== undefined) resolve(version);
  }));
  const c2d = waitFor<void>((resolve) => client.on("message", (message: C2dMessage) => {
    line("c2d", "received " + JSON.stringify(Buffer.from(message.payload).toString()) + " " + JSON.stringify(message.properties));
    resolve();
  }));
  client.onMethod("reboot", (request) => {
    line("method", "reboot called with " + Buffer.from(request.payload).toString() + ", answering 200");
    return { status: 200, payload: { rebooting: true } };
  });
  client.on("disconnected", (error: LiteError) => line("disconnected", error.code));
  line("hub", "connecting to " + result.assignedHub + " as " + result.deviceId);
  await client.connect();
  line("connected", "CONNACK + SUBACK (C2D, twin, desired, methods)");
  await client.sendTelemetry({ temperature: 21.5, humidity: 40 }, { properties: { unit: "celsius" } });
  line("telemetry", "sent {temperature: 21.5, humidity: 40}, PUBACK received");
  const version = await client.updateReported({ firmware: "1.0.0", serialNumber: "SN-0001" });
  line("reported", "reported firmware and serial number, twin reported version " + version);
  const sim = setup.sim;
  if (sim) {
    const hub = sim.hub(result.assignedHub);
    hub.patchDesired(result.deviceId, { targetTemperature: 22 });
    await desired;
    const answer = await hub.invokeMethod(result.deviceId, "reboot", { delaySeconds: 5 });
    line("service", "method answer seen by the service: " + JSON.stringify(answer));
    hub.sendC2D(result.deviceId, "set display: hello", { priority: "high" });
    await c2d;
  } else {
    line("waiting", "5 s for cloud-to-device messages, desired changes and method calls from Azure");
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
  await client.close();
  line("closed", "DISCONNECT sent, everything settled");
}

async function main(): Promise<void> {
  const setup = await setUp();
  try {
    const platform = nodePlatform(setup.platform);
    const dps = new DpsClient(platform, { ...setup.dps, onStep: (step) => line(step.step, describe(step)) });
    const result = await dps.register();
    console.log("\nDPS result: " + JSON.stringify(result) + "\n");
    await liveOnHub(platform, setup, result);
  } finally {
    if (setup.sim) await setup.sim.close();
  }
}

main().catch((error: LiteError) => {
  console.error("\nfailed: " + (error.code || "UNEXPECTED") + ": " + error.message);
  process.exit(1);
});
