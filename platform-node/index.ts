// azure-iot-mqtt-lite for Node: the whole core, the Node platform (node:tls, node:crypto), and
// one-call helpers that pick the Node platform for you.
import { DpsClient, type DpsOptions, type DpsResult } from "../core/dps";
import { HubClient } from "../core/hub";
import { connectViaDps } from "../core/connect-via-dps";
import { connectProvisioned, type ViaDps, type ViaDpsOptions } from "../core/hub-dps";
import type { HubOptions } from "../core/hub-options";
import { nodePlatform, type NodePlatformOptions } from "./platform";

export * from "../core/index";
export { nodePlatform, type NodePlatformOptions } from "./platform";

/** The Node helpers' own option: a signal that stops the work. Provisioning then rejects with
 * CANCELLED; a hub client still connecting is closed (CLIENT_CLOSED). Once the promise has
 * settled the signal does nothing: close() the client to end its life. */
export interface Abortable {
  signal?: AbortSignal;
}

function untilAborted<T>(signal: AbortSignal | undefined, stop: () => void, work: Promise<T>): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    stop();
    return work;
  }
  signal.addEventListener("abort", stop, { once: true });
  return work.finally(() => signal.removeEventListener("abort", stop));
}

/** Provisions a device through DPS on Node. `platform` options reach the TLS adapter (resolve, ca). */
export function provisionDevice(options: DpsOptions & Abortable, platform?: NodePlatformOptions): Promise<DpsResult> {
  const client = new DpsClient(nodePlatform(platform), options);
  return untilAborted(options.signal, () => client.cancel(), client.register());
}

/** A hub client on the Node platform (call connect() on it; close() ends it, and a connect() still
 * retrying, with CLIENT_CLOSED). */
export function createHubClient(options: HubOptions, platform?: NodePlatformOptions): HubClient {
  return new HubClient(nodePlatform(platform), options);
}

/** Provisions through DPS (or uses `cached`), then connects to the assigned hub, on Node. */
export function connectDeviceViaDps(options: ViaDpsOptions & Abortable, platform?: NodePlatformOptions): Promise<ViaDps> {
  if (!options.signal) return connectViaDps(nodePlatform(platform), options);
  let provisioning: DpsClient | undefined;
  let client: HubClient | undefined;
  const setup = options.setup;
  const work = connectProvisioned(
    nodePlatform(platform),
    {
      ...options,
      setup: (hub) => {
        client = hub;
        if (setup) setup(hub);
        // Aborted between provisioning's end and this client: it never connects.
        if (options.signal && options.signal.aborted) hub.close();
      },
    },
    (on, dps) => (provisioning = new DpsClient(on, dps)),
  );
  return untilAborted(
    options.signal,
    () => {
      if (provisioning) provisioning.cancel();
      if (client) client.close();
    },
    work,
  );
}
