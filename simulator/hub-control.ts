// What tests and the demo may do to a simulated hub while it runs (`sim.hub(name)`):
//
//   const hub = sim.hub();
//   const { connectionString } = hub.addDevice({ deviceId: "dev-1" });       // or a DPS-assigned device
//   const message = await hub.nextTelemetry("dev-1");                        // decoded, with properties
//   const c2d = hub.sendC2D("dev-1", "hi", { color: "red" }, { contentType: "text/plain" });
//   await c2d.settled;                                                        // "acknowledged" | "discarded"
//   hub.patchDesired("dev-1", { interval: 5 });                               // { version, notified }
//   const { status, payload } = await hub.invokeMethod("dev-1", "reboot", { delay: 1 }, { timeoutMs: 5000 });
//   hub.injectFault({ step: "twin-patch", action: { kind: "error", status: 429 } });
//
// Targets are named as MQTT client ids: a device id, or `deviceId/moduleId` for a module.
import type { C2dMessage, C2dSystemProperties } from "./c2d-session";
import type { HubFault } from "./hub-faults";
import type { MethodResult } from "./hub-methods";
import type { TelemetryMessage } from "./hub-telemetry";
import type { PropertyValue } from "./property-bag";
import type { Json, TwinDocument } from "./twin-store";

export interface AddDeviceOptions {
  deviceId: string;
  /** Registers a module identity of this device instead of the device itself. */
  moduleId?: string;
  /** Base64 key; default a new random 32-byte key (unless x509). */
  primaryKey?: string;
  secondaryKey?: string;
  /** Authenticate with a client certificate from `sim.issueDeviceCertificate(deviceId)` instead of a key. */
  x509?: boolean;
}

export interface AddedDevice {
  clientId: string;
  primaryKey?: string;
  /** `HostName=…;DeviceId=…[;ModuleId=…];SharedAccessKey=…` (or `;x509=true`), as the portal gives it. */
  connectionString: string;
}

export interface InvokeOptions {
  /** How long to wait for the device's answer; default 30 s, Azure's default. */
  timeoutMs?: number;
}

/** What tests and the demo may do to a simulated hub while it runs. */
export interface HubControl {
  readonly hostName: string;
  addDevice(options: AddDeviceOptions): AddedDevice;
  /** Gives the identity a new random key, so tokens signed with the old one are refused (CONNACK 5); returns it. */
  revokeKeys(target: string): string;
  /** Disables (every CONNECT refused with 5, the live connection dropped) or enables an identity. */
  setEnabled(target: string, enabled: boolean): void;
  isConnected(target: string): boolean;
  /** Drops the live connection now ("fault-drop", no DISCONNECT: a will is forwarded); false if none. */
  dropConnection(target: string): boolean;
  injectFault(fault: HubFault): void;
  clearFaults(): void;
  /** Every telemetry message (wills included) in arrival order. */
  readonly telemetry: readonly TelemetryMessage[];
  telemetryOf(target: string): readonly TelemetryMessage[];
  /** The oldest message from `target` not yet returned by nextTelemetry; rejects after timeoutMs (default 2000). */
  nextTelemetry(target: string, timeoutMs?: number): Promise<TelemetryMessage>;
  /**
   * Sends a C2D message (at most 64 KB) to a device's session: delivered now when connected, kept for a
   * CleanSession 0 session, discarded ("no-subscription") when the device has no C2D subscription.
   * Follow it with the returned C2dMessage (state, deliveries, settled).
   */
  sendC2D(deviceId: string, payload: Buffer | string, properties?: Record<string, PropertyValue>, system?: C2dSystemProperties): C2dMessage;
  /** Merges the patch into desired properties and notifies the device if it is connected and subscribed. */
  patchDesired(target: string, patch: Record<string, Json>): { version: number; notified: boolean };
  /** The twin as a GET would answer it: desired and reported, each with its `$version`. */
  twin(target: string): TwinDocument;
  /**
   * Publishes `$iothub/methods/POST/{name}/?$rid={rid}` (body: the payload as JSON, empty when
   * undefined) and resolves with the device's status and JSON body. Rejects with a
   * MethodInvocationError: 404103 at once when the target is not connected and subscribed to
   * methods, 504101 after timeoutMs without an answer.
   */
  invokeMethod(target: string, methodName: string, payload?: Json, options?: InvokeOptions): Promise<MethodResult>;
}
