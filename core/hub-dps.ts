// From DPS to the hub, and back to DPS when the hub keeps refusing the device (PROTOCOL.md 4):
// provision (or reuse a cached assignment), connect to the assigned hub with the same credential,
// and let the client provision again after repeated refusals of its credentials. Provisioning is
// a function given in, so the hub code does not carry the DPS code (on Espruino they are separate
// modules); connect-via-dps.ts passes DpsClient for everyone else.
import type { DpsOptions, DpsResult } from "./dps";
import { HubClient, type Reprovision } from "./hub";
import { deviceKeyFor } from "./sas";
import type { HubOptions } from "./hub-options";
import type { Platform } from "./platform";

/** Where DPS placed the device: all a hub connection reads of a DPS result. A whole DpsResult
 * is one; so is `{ assignedHub: client.hostName, deviceId: client.deviceId }`. */
export type Assignment = Pick<DpsResult, "assignedHub" | "deviceId"> & Partial<DpsResult>;

export interface ViaDpsOptions {
  dps: DpsOptions;
  /** Hub settings other than identity and credential (model id, keep-alive, will, bounds...). */
  hub?: HubOptions;
  /** An assignment saved from an earlier run: connect to that hub without provisioning first. */
  cached?: Assignment;
  /** Consecutive credential refusals by the hub before provisioning again. Default 3. */
  reprovisionAfter?: number;
  /** Called with the client before it connects: attach listeners and method handlers here, so
   * nothing that arrives right after connecting (a method call, the twin resync) is missed. */
  setup?: (client: HubClient) => void;
}

/** Hub options for the device DPS assigned, with the credential it proved to DPS. */
export function hubOptionsFromDps(platform: Platform, dps: DpsOptions, result: Assignment, extra?: HubOptions): HubOptions {
  const options: HubOptions = {};
  if (extra) for (const name in extra) (options as { [name: string]: unknown })[name] = (extra as { [name: string]: unknown })[name];
  options.hostName = result.assignedHub;
  options.deviceId = result.deviceId;
  options.sharedAccessKey = deviceKeyFor(dps, platform.crypto);
  // The credential proved to DPS replaces any in `extra`; no member is made just to hold
  // undefined (each costs a variable or two on a device, for the client's life).
  if (options.cert !== dps.cert) options.cert = dps.cert;
  if (options.key !== dps.key) options.key = dps.key;
  if (options.ca === undefined && dps.ca !== undefined) options.ca = dps.ca;
  return options;
}

/** One DPS registration, as DpsClient runs it: its outcome, and cancel() to stop it. */
export interface Provisioning {
  /** The whole DpsResult, or (on Espruino, to spare memory) the assignment only. */
  register(): Promise<Assignment>;
  cancel(): void;
}

export interface ViaDps {
  client: HubClient;
  /** The assignment used: the whole DpsResult when fresh from DPS (on Espruino only assignedHub,
   * deviceId and a custom allocation's payload, to spare memory), else the cached one as given;
   * if the hub refused it and the client provisioned again while connecting, the assignment it
   * connected with ({ assignedHub, deviceId }). Save it for the next start. */
  provisioning: Assignment;
}

/** Runs one DPS registration: a plain function of the platform and the DPS options, so callers
 * can pass a top-level function and the client holds no closure over their scope. */
export type Provisioner = (platform: Platform, dps: DpsOptions) => Provisioning;

/**
 * The client for the hub `provisioning` assigned, not yet connected: it provisions again with
 * `provisioner` when the hub keeps refusing it, and `options.setup` has seen it.
 */
export function hubClientFor(platform: Platform, options: ViaDpsOptions, provisioning: Assignment, provisioner: Provisioner): HubClient {
  const client = new HubClient(platform, hubOptionsFromDps(platform, options.dps, provisioning, options.hub));
  client.reprovisionAfter = options.reprovisionAfter || 3;
  client.reprovision = reprovisionWith(platform, options.dps, options.hub, provisioner);
  if (options.setup) options.setup(client);
  return client;
}

/** The client's reprovision hook, made here so that the closure it keeps for the client's whole
 * life holds these four values only: the interpreter keeps a closure's entire enclosing scope,
 * and one made in hubClientFor kept the caller's promises and the first DPS result too (measured
 * on Espruino: ~240 variables for as long as the client lived); the options object would keep a
 * cached assignment and the setup function. */
function reprovisionWith(platform: Platform, dps: DpsOptions, hub: HubOptions | undefined, provisioner: Provisioner): Reprovision {
  return () => {
    const run = provisioner(platform, dps);
    return { result: run.register().then((fresh) => hubOptionsFromDps(platform, dps, fresh, hub)), cancel: () => run.cancel() };
  };
}

/** What to save for the next start once `client` connected: `provisioning`, unless the client
 * provisioned again on the way (a cached hub that refused the device). */
export function assignmentOf(client: HubClient, provisioning: Assignment): Assignment {
  return client.hostName === provisioning.assignedHub && client.deviceId === provisioning.deviceId ? provisioning : { assignedHub: client.hostName, deviceId: client.deviceId };
}

/** Provisions with `provisioner` (unless a cached result is given), then connects to the assigned hub. */
export function connectProvisioned(platform: Platform, options: ViaDpsOptions, provisioner: Provisioner): Promise<ViaDps> {
  const start = options.cached ? Promise.resolve(options.cached) : provisioner(platform, options.dps).register();
  return start.then((provisioning) => {
    const client = hubClientFor(platform, options, provisioning, provisioner);
    return client.connect().then(() => ({ client, provisioning: assignmentOf(client, provisioning) }));
  });
}
