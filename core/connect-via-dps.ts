// Provision through DPS, then live on the assigned hub: connectProvisioned with the DPS client.
import { DpsClient } from "./dps";
import { connectProvisioned, type ViaDps, type ViaDpsOptions } from "./hub-dps";
import type { DpsOptions } from "./dps";
import type { Platform } from "./platform";

function provisionWithDps(platform: Platform, dps: DpsOptions): DpsClient {
  return new DpsClient(platform, dps);
}

/** Provisions (unless `options.cached` is given), then connects to the assigned hub. */
export function connectViaDps(platform: Platform, options: ViaDpsOptions): Promise<ViaDps> {
  return connectProvisioned(platform, options, provisionWithDps);
}
