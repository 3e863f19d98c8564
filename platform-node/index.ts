// azure-iot-mqtt-lite for Node: the whole core, the Node platform (node:tls, node:crypto), and
// one-call helpers that pick the Node platform for you.
import { DpsClient, type DpsOptions, type DpsResult } from "../core/dps";
import { HubClient } from "../core/hub";
import { connectViaDps } from "../core/connect-via-dps";
import type { ViaDps, ViaDpsOptions } from "../core/hub-dps";
import type { HubOptions } from "../core/hub-options";
import { nodePlatform, type NodePlatformOptions } from "./platform";

export * from "../core/index";
export { nodePlatform, type NodePlatformOptions } from "./platform";

/** Provisions a device through DPS on Node. `platform` options reach the TLS adapter (resolve, ca). */
export function provisionDevice(options: DpsOptions, platform?: NodePlatformOptions): Promise<DpsResult> {
  return new DpsClient(nodePlatform(platform), options).register();
}

/** A hub client on the Node platform (call connect() on it). */
export function createHubClient(options: HubOptions, platform?: NodePlatformOptions): HubClient {
  return new HubClient(nodePlatform(platform), options);
}

/** Provisions through DPS (or uses `cached`), then connects to the assigned hub, on Node. */
export function connectDeviceViaDps(options: ViaDpsOptions, platform?: NodePlatformOptions): Promise<ViaDps> {
  return connectViaDps(nodePlatform(platform), options);
}
