// The public API of the main Espruino module. DPS and the hub live in their own Storage files
// (azure-iot-mqtt-lite-dps, azure-iot-mqtt-lite-hub) that use this one's globals for the shared
// core (build/espruino-globals.mjs), and are loaded on first use: a firmware that only provisions never loads the hub code, and a
// device unloads the DPS code once provisioned, so the two never take memory at the same time.
import type { DpsClient as DpsClientClass, DpsOptions } from "../core/dps";
import type { HubClient as HubClientClass } from "../core/hub";
import type { Assignment, Provisioning, ViaDps, ViaDpsOptions } from "../core/hub-dps";
import type { HubOptions } from "../core/hub-options";
import { liteError } from "../core/errors";
import type { Platform } from "../core/platform";
import { openSockets } from "./platform";

// Espruino's process (declared here, not globally: the Node code shares the type-check).
declare const process: {
  /** Garbage-collects, then counts JsVars (variables). */
  memory(): { free: number; usage: number; total: number };
};

const enum Memory {
  /** Free variables a provisioning needs (DPS module, client, TLS and the answer): measured on
   * 2v29 (modules in the root scope), it completes with 834 free before it starts and runs out
   * with 824. */
  DpsNeedsFree = 850,
}

export const enum Module {
  Dps = "azure-iot-mqtt-lite-dps",
  Hub = "azure-iot-mqtt-lite-hub",
}

/** The globals the DPS and the hub module's code defines (set by build.mjs: the modules' code runs
 * in the root scope, see build/espruino-globals.mjs). Strings, which the minifier writes where
 * they are used, so they stay text in flash until unload() runs (an object would be made at
 * load and held: ~35 variables, measured). */
declare const ESPRUINO_GLOBALS_DPS: string;
declare const ESPRUINO_GLOBALS_HUB: string;
/** The interpreter's root scope. */
declare const global: { [name: string]: unknown };
/** Set by build.mjs: the global the main module of this build defines, which the DPS and hub
 * modules' stubs read before their code runs (their code names the main module's globals, whose
 * names change from build to build: run against another build's, it would call the wrong functions
 * and overwrite some of them). */
declare const ESPRUINO_BUILD: string;

/** require(name) of a feature module, once its file is known to be of this build: its stub starts
 * by reading this build's global (another build's stub would fail there with a ReferenceError
 * naming its own, which says nothing of why). */
function load(name: string): any {
  // Compared as text: the minifier would fold ESPRUINO_BUILD.length from the placeholder that
  // build.mjs replaces afterwards (a build's global is 4 characters).
  const head = require("Storage").read(name, 0, 8);
  // (The interpreter's own "Module ... not found" has no code, and names no way out.)
  if (head === undefined) throw liteError("MODULE_MISSING", name + " is not in Storage (README: Install)");
  if (head.indexOf(ESPRUINO_BUILD + ";") !== 0) {
    throw liteError("MODULE_MISMATCH", name + " is from another build than azure-iot-mqtt-lite: install the three files of one build");
  }
  return require(name);
}

/** Frees a module's code and JsVars (it is loaded again on next use), then defragments memory:
 * typed arrays and flat strings need contiguous JsVars, and after a TLS session the free ones are
 * scattered (measured: the hub phase ran out of memory with 400 JsVars free in total); not while a
 * socket of this module is open (see openSockets). Only once nothing made by the module is in use:
 * its code is gone then. */
export function unload(name: string): void {
  try {
    Modules.removeCached(name);
  } catch {
    // not loaded (the interpreter throws "Module ... not found"): nothing to free
  }
  const names = (name === Module.Dps ? ESPRUINO_GLOBALS_DPS : name === Module.Hub ? ESPRUINO_GLOBALS_HUB : "").split(" ");
  for (let i = 0; i < names.length; i++) delete global[names[i]];
  if (E.defrag && !openSockets) E.defrag();
}

/** `new DpsClient(platform, options)`, with the DPS module loaded on first use. */
export function DpsClient(platform: Platform, options: DpsOptions): DpsClientClass {
  // Run out of memory halfway, the interpreter stops the firmware's code with an error nothing can
  // catch. Checked first instead, it is a typed error the firmware can act on: typically the hub
  // client is still loaded (it provisions again when the hub keeps refusing the device), and the
  // two do not fit a small board together, so close it (or restart) and provision then.
  const free = process.memory().free;
  if (free < Memory.DpsNeedsFree) {
    throw liteError("DPS_NO_MEMORY", "provisioning needs " + Memory.DpsNeedsFree + " free variables, " + free + " free: close the hub client or restart");
  }
  return new (load(Module.Dps).DpsClient)(platform, options);
}

/** `new HubClient(platform, options)`, with the hub module loaded on first use. */
export function HubClient(platform: Platform, options: HubOptions): HubClientClass {
  return new (load(Module.Hub).HubClient)(platform, options);
}

/** One registration with the DPS module, which is unloaded again once it is over. The client is
 * dropped then too: the callbacks still on the stack while the hub connects would otherwise keep
 * it, and through it the DPS code that unload() meant to free (measured on 2v29: the hub's TLS
 * connection then ran out of memory at 2,500 variables). It gives the assignment only: what a
 * device saves for its next start, what a hub client provisioning again reads, and a custom
 * allocation's data if any. The rest of the DPS answer (status, times, etag) would be held
 * through the hub connection's memory peak for nothing (about 40 variables); a firmware that
 * wants it runs DpsClient itself. Inline, not helper functions: each costs ~6 variables for as
 * long as the module is loaded. */
function provisioner(platform: Platform, dps: DpsOptions): Provisioning {
  let client: DpsClientClass | undefined = DpsClient(platform, dps);
  return {
    register: () =>
      (client as DpsClientClass).register().then(
        (result) => {
          client = undefined;
          unload(Module.Dps);
          const assignment: Assignment = { assignedHub: result.assignedHub, deviceId: result.deviceId };
          if (result.payload !== undefined) assignment.payload = result.payload;
          return assignment;
        },
        (error) => {
          client = undefined;
          unload(Module.Dps);
          throw error;
        },
      ),
    cancel: () => {
      if (client) client.cancel();
    },
  };
}

/** Provisions (unless `options.cached`) with the DPS module, unloads it, and only then loads the
 * hub module and connects: the two are never in memory together. DPS is loaded again only if the
 * hub keeps refusing the device and it must provision again. As few promises as each path allows:
 * on the interpreter each live one costs ~20 variables while the hub connects, at the memory peak
 * (measured peaks: with a cached assignment, ~30 fewer than inside one outer promise; after
 * provisioning, one outer promise ~20 fewer than chaining the connection onto register()). */
export function connectViaDps(platform: Platform, options: ViaDpsOptions): Promise<ViaDps> {
  const cached = options.cached;
  if (cached) {
    try {
      const hub = load(Module.Hub);
      const client: HubClientClass = hub.hubClientFor(platform, options, cached, provisioner);
      return client.connect().then(() => ({ client, provisioning: hub.assignmentOf(client, cached) }));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return new Promise<ViaDps>((resolve, reject) => {
    provisioner(platform, options.dps).register().then((provisioning) => {
      try {
        const hub = load(Module.Hub);
        const client: HubClientClass = hub.hubClientFor(platform, options, provisioning, provisioner);
        client.connect().then(() => resolve({ client, provisioning: hub.assignmentOf(client, provisioning) }), reject);
      } catch (error) {
        reject(error);
      }
    }, reject);
  });
}
