// azure-iot-mqtt-lite for Node: the whole core, the Node platform (node:tls, node:crypto), and
// one-call helpers that pick the Node platform for you.
import { DpsClient, type DpsOptions, type DpsResult } from "../core/dps";
import { nodePlatform, type NodePlatformOptions } from "./platform";

export * from "../core/index";
export { nodePlatform, type NodePlatformOptions } from "./platform";

/** Provisions a device through DPS on Node. `platform` options reach the TLS adapter (resolve, ca). */
export function provisionDevice(options: DpsOptions, platform?: NodePlatformOptions): Promise<DpsResult> {
  return new DpsClient(nodePlatform(platform), options).register();
}
