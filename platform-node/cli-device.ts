// `azure-iot-mqtt-lite device`: connect (from a connection string, or through DPS), send telemetry,
// answer every direct method with 200 and the request payload echoed, acknowledge cloud-to-device
// messages, and print everything that happens as one JSON line each, until --duration or Ctrl-C.
import { HubClient, type C2dMessage, type MethodRequest } from "../core/hub";
import { connectViaDps } from "../core/connect-via-dps";
import type { HubOptions } from "../core/hub-options";
import { liteError, type LiteError } from "../core/errors";
import { dpsOptionsFrom, flag, numberFlag, platformOptionsFrom, printError, readText, secret, usageError, type Flags } from "./cli-args";
import { nodePlatform } from "./platform";

function print(line: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(line) + "\n");
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8");
}

function properties(flags: Flags): Record<string, string> {
  const bag: Record<string, string> = {};
  for (const pair of (flags.property as string[] | undefined) || []) {
    const eq = pair.indexOf("=");
    if (eq < 1) usageError("--property needs NAME=VALUE, got " + pair);
    bag[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return bag;
}

function listen(client: HubClient): void {
  client.on("connected", () => print({ event: "connected", hub: client.hostName, deviceId: client.deviceId }));
  client.on("disconnected", (error: LiteError) => print({ event: "disconnected", code: error.code, message: error.message }));
  client.on("error", (error: LiteError) => print({ event: "error", code: error.code, message: error.message }));
  client.on("message", (message: C2dMessage) => print({ event: "c2d", payload: text(message.payload), properties: message.properties, systemProperties: message.systemProperties }));
  client.on("desired", (desired, version, complete) => print({ event: "desired", version, complete, desired }));
  client.onMethod("*", (request: MethodRequest) => {
    print({ event: "method", name: request.name, payload: text(request.payload) });
    return { status: 200, payload: request.payload };
  });
}

async function sendTelemetry(client: HubClient, flags: Flags): Promise<void> {
  const count = numberFlag(flags, "send", 0, 1e9) || 0;
  const intervalMs = numberFlag(flags, "interval", 0, 2147483647) ?? 1000;
  const bag = properties(flags);
  for (let seq = 1; seq <= count; seq++) {
    if (seq > 1) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const sent = client.sendTelemetry({ seq, sentAt: new Date().toISOString() }, { properties: bag });
    sent.then(
      () => print({ event: "telemetry", seq, status: "acknowledged" }),
      (error: LiteError) => print({ event: "telemetry", seq, status: "failed", code: error.code }),
    );
  }
}

export async function runDevice(flags: Flags): Promise<void> {
  const platform = nodePlatform(platformOptionsFrom(flags));
  const hub: HubOptions = { modelId: flag(flags, "model-id"), port: numberFlag(flags, "port", 1, 65535) };
  // Checked now, and counted from now: connecting (or failing to, with retries) is part of the run.
  const duration = numberFlag(flags, "duration", 0, 2147483);
  numberFlag(flags, "send", 0, 1e9);
  numberFlag(flags, "interval", 0, 2147483647);
  let client: HubClient | undefined;
  // A run that never got connected failed: exit 1 with the last reason, not 0.
  let connectedOnce = false;
  let lastFailure: LiteError | undefined;
  const stop = () =>
    (client ? client.close() : Promise.resolve()).then(() => {
      if (connectedOnce) process.exit(0);
      printError(lastFailure || liteError("NOT_CONNECTED", "never connected"));
    });
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  if (duration !== undefined) setTimeout(stop, duration * 1000);
  if (flag(flags, "ca")) hub.ca = readText(flag(flags, "ca") as string, "CA");
  const connectionString = secret(flags, "connection-string");
  const watch = (hubClient: HubClient) => {
    hubClient.on("connected", () => (connectedOnce = true));
    hubClient.on("disconnected", (error) => (lastFailure = error));
  };
  if (connectionString) {
    client = new HubClient(platform, { ...hub, connectionString, gatewayHostName: flag(flags, "host") });
    listen(client);
    watch(client);
    await client.connect();
  } else {
    const connected = await connectViaDps(platform, {
      dps: dpsOptionsFrom(flags),
      hub,
      setup: (hubClient: HubClient) => {
        client = hubClient; // from here on, stopping closes it
        listen(hubClient);
        watch(hubClient);
      },
    });
    print({ event: "provisioned", assignedHub: connected.provisioning.assignedHub, deviceId: connected.provisioning.deviceId });
  }
  await sendTelemetry(client as HubClient, flags);
}
