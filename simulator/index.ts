// The local Azure IoT simulator (dev-time only, Node, never shipped). One process, one loopback TLS
// port, a throw-away CA made at start; DPS and any number of IoT hubs. Tests and the demo use:
//
//   const sim = await startSimulator({ dps: { retryAfterSeconds: 1 } });
//   sim.dps.enrollIndividual({ registrationId: "dev-1", attestation: { type: "symmetricKey", primaryKey } });
//   const target = sim.resolve(sim.dpsHost); // { host: "127.0.0.1", port }: dial this, keep SNI = sim.dpsHost
//   ... connect with ca = sim.ca, provision, then connect to the assigned hub the same way ...
//   const hub = sim.hub();                   // the first hub; sim.hub(name) for another
//   const { connectionString } = hub.addDevice({ deviceId: "direct-1" }); // or use the DPS-assigned device
//   await hub.nextTelemetry("dev-1"); hub.sendC2D("dev-1", "hi"); await hub.invokeMethod("dev-1", "reboot", {});
//   await sim.close();
import { performance } from "node:perf_hooks";
import {
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
  type IssuedCertificate,
} from "./certificates";
import { DeviceRegistry, type AssignedDevice } from "./devices";
import type { DpsBehaviour } from "./dps-faults";
import { DpsService, type DpsControl } from "./dps-service";
import type { HubControl } from "./hub-control";
import { HubService } from "./hub-service";
import type { ConnectionRecord } from "./record";
import { TlsListener } from "./tls-server";

export type { IssuedCertificate } from "./certificates";
export type { AssignedDevice } from "./devices";
export type { DpsBehaviour, DpsFault, DpsFaultAction, DpsOutcome, DpsStep } from "./dps-faults";
export type { DpsControl } from "./dps-service";
export type {
  Attestation,
  CustomAllocation,
  DeviceCredential,
  GroupEnrollment,
  IndividualEnrollment,
} from "./enrollments";
export type { C2dMessage, C2dState, C2dSystemProperties } from "./c2d-session";
export type { HubFault, HubFaultAction, HubStep } from "./hub-faults";
export { MethodInvocationError, type MethodResult } from "./hub-methods";
export type { AddDeviceOptions, AddedDevice, HubControl, InvokeOptions } from "./hub-control";
export type { TelemetryMessage } from "./hub-telemetry";
export type { Json, TwinDocument } from "./twin-store";
export type { ConnectionEvent, ConnectionRecord, PacketRecord } from "./record";

export interface SimulatorOptions {
  /** Default "0ne000SIM01" (shaped like Azure's 0ne + 8 characters). */
  idScope?: string;
  /** The DPS device endpoint name. Default "sim-dps.azure-devices-provisioning.net"; "localhost" reaches DPS too. */
  dpsHost?: string;
  /** Hub host names the certificate covers and DPS may assign. Default ["sim-hub-1.azure-devices.net"]. */
  hubs?: string[];
  /** Simulator-wide DPS behaviour; see DpsBehaviour for defaults. */
  dps?: DpsBehaviour;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** A connection that sends no CONNECT within this many milliseconds is closed (record
   * closeReason "no-connect-in-time"). Default 30,000. */
  connectWaitMs?: number;
}

export interface Simulator {
  /** PEM of the throw-away root CA: the only `ca` a client needs. */
  readonly ca: string;
  readonly idScope: string;
  readonly dpsHost: string;
  readonly hubs: readonly string[];
  readonly port: number;
  /**
   * Where to dial a served host name: always 127.0.0.1 and the simulator's port. The TLS server name
   * (SNI, certificate check) must stay the name itself. Throws for a name the simulator does not serve.
   */
  resolve(host: string): { host: string; port: number };
  /**
   * For clients that send no SNI (the Espruino interpreter's TLS): an extra TLS port on 127.0.0.1
   * that serves `host` (DPS or a hub) whatever SNI arrives, or none. The same port for the same
   * name on every call. Records keep the SNI actually sent (undefined when none). Rejects for a
   * name the simulator does not serve.
   */
  openPortFor(host: string): Promise<number>;
  readonly dps: DpsControl;
  /** A hub by host name (any case); default the first. Throws for a name the simulator does not serve. */
  hub(hostName?: string): HubControl;
  /** Devices DPS has assigned, with the credential each proved (the hub side checks them). */
  assignedDevice(hub: string, deviceId: string): AssignedDevice | undefined;
  /** Every connection so far, in order, with every packet in and out; live objects that keep growing. */
  readonly connections: readonly ConnectionRecord[];
  /** A client certificate from the simulator's CA, for X.509 attestation (CN = registration id). */
  issueDeviceCertificate(commonName: string): IssuedCertificate;
  /** Ends every connection and the listener; the process can exit afterwards. */
  close(): Promise<void>;
}

const DEFAULT_ID_SCOPE = "0ne000SIM01";
const DEFAULT_DPS_HOST = "sim-dps.azure-devices-provisioning.net";
const DEFAULT_HUBS = ["sim-hub-1.azure-devices.net"];
const LOOPBACK = "127.0.0.1";

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const idScope = options.idScope ?? DEFAULT_ID_SCOPE;
  const dpsHost = (options.dpsHost ?? DEFAULT_DPS_HOST).toLowerCase();
  const hubs = (options.hubs ?? DEFAULT_HUBS).map((hub) => hub.toLowerCase());
  if (hubs.length === 0) throw new Error("the simulator needs at least one hub to assign devices to");
  const dpsNames = new Set([dpsHost, "localhost"]);
  const servedNames = new Set([...dpsNames, ...hubs]);

  const authority = createCertificateAuthority();
  const serverCertificate = issueServerCertificate(authority, { dnsNames: [...servedNames], ipAddresses: [LOOPBACK] });
  const devices = new DeviceRegistry();
  const dps = new DpsService(idScope, hubs, devices, options.dps);
  const startedAtMs = performance.now();
  const clock = () => performance.now() - startedAtMs;
  const hubServices = new Map(hubs.map((hub) => [hub, new HubService(hub, devices, clock)]));

  const listener = await TlsListener.start({
    certificatePem: serverCertificate.certificatePem,
    keyPem: serverCertificate.keyPem,
    caPem: authority.certificatePem,
    clock,
    port: options.port,
    connectWaitMs: options.connectWaitMs,
    route: (host) => {
      if (host !== undefined && dpsNames.has(host)) return { service: "dps", open: (c) => dps.open(c) };
      const hub = host === undefined ? undefined : hubServices.get(host);
      return hub ? { service: "hub", open: (c) => hub.open(c) } : undefined;
    },
  });
  const port = listener.port;
  const fixedPorts = new Map<string, Promise<number>>();

  return {
    ca: authority.certificatePem,
    idScope,
    dpsHost,
    hubs,
    port,
    resolve(host: string) {
      const name = host.toLowerCase();
      if (!servedNames.has(name) && name !== LOOPBACK) throw new Error(`the simulator does not serve ${host}`);
      return { host: LOOPBACK, port };
    },
    openPortFor(host: string) {
      const name = host.toLowerCase();
      if (!servedNames.has(name)) return Promise.reject(new Error(`the simulator does not serve ${host}`));
      let opened = fixedPorts.get(name);
      if (!opened) {
        opened = listener.listenFor(name);
        fixedPorts.set(name, opened);
      }
      return opened;
    },
    dps,
    hub(hostName?: string) {
      const hub = hubServices.get((hostName ?? hubs[0]).toLowerCase());
      if (!hub) throw new Error(`the simulator does not serve ${hostName}`);
      return hub;
    },
    assignedDevice: (hub, deviceId) => devices.find(hub, deviceId),
    connections: listener.connections,
    issueDeviceCertificate: (commonName) => issueClientCertificate(authority, commonName),
    async close() {
      for (const hub of hubServices.values()) hub.close();
      await listener.close();
    },
  };
}
