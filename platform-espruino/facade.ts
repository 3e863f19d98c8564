// The public API of the main Espruino module. DPS and the hub live in their own Storage files
// (azure-iot-mqtt-lite-dps, azure-iot-mqtt-lite-hub) that require this one for the shared core,
// and are loaded on first use: a firmware that only provisions never loads the hub code, and a
// device unloads the DPS code once provisioned, so the two never take memory at the same time.
import type { DpsClient as DpsClientClass, DpsOptions, DpsResult } from "../core/dps";
import type { HubClient as HubClientClass } from "../core/hub";
import type { Provisioning, ViaDps, ViaDpsOptions } from "../core/hub-dps";
import type { HubOptions } from "../core/hub-options";
import type { Platform } from "../core/platform";

export const enum Module {
  Dps = "azure-iot-mqtt-lite-dps",
  Hub = "azure-iot-mqtt-lite-hub",
}

/** Frees a module's code and JsVars (it is loaded again on next use), then defragments memory:
 * typed arrays and flat strings need contiguous JsVars, and after a TLS session the free ones are
 * scattered (measured: the hub phase ran out of memory with 400 JsVars free in total). */
export function unload(name: string): void {
  Modules.removeCached(name);
  if (E.defrag) E.defrag();
}

/** `new DpsClient(platform, options)`, with the DPS module loaded on first use. */
export function DpsClient(platform: Platform, options: DpsOptions): DpsClientClass {
  const Real = require(Module.Dps).DpsClient;
  return new Real(platform, options);
}

/** `new HubClient(platform, options)`, with the hub module loaded on first use. */
export function HubClient(platform: Platform, options: HubOptions): HubClientClass {
  const Real = require(Module.Hub).HubClient;
  return new Real(platform, options);
}

/** One registration with the DPS module, which is unloaded again once it is over. */
function provisioner(platform: Platform, dps: DpsOptions): Provisioning {
  const client = DpsClient(platform, dps);
  return {
    register: () =>
      client.register().then(
        (result) => {
          unload(Module.Dps);
          return result;
        },
        (error) => {
          unload(Module.Dps);
          throw error;
        },
      ),
    cancel: () => client.cancel(),
  };
}

/** Provisions (unless `options.cached`) with the DPS module, unloads it, and only then loads the
 * hub module and connects: the two are never in memory together. DPS is loaded again only if the
 * hub keeps refusing the device and it must provision again. One promise for the whole journey:
 * on the interpreter each chained promise costs ~40 JsVars while the hub connects (measured). */
export function connectViaDps(platform: Platform, options: ViaDpsOptions): Promise<ViaDps> {
  return new Promise<ViaDps>((resolve, reject) => {
    const connect = (provisioning: DpsResult) => {
      try {
        const client: HubClientClass = require(Module.Hub).hubClientFor(platform, options, provisioning, provisioner);
        client.connect().then(() => resolve({ client, provisioning }), reject);
      } catch (error) {
        reject(error);
      }
    };
    if (options.cached) connect(options.cached);
    else provisioner(platform, options.dps).register().then(connect, reject);
  });
}
