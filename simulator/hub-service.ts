// One simulated IoT hub: who may connect (./devices.ts), the one live connection per client id,
// MQTT sessions with their C2D messages, twins, telemetry and method invocations, plus the control
// surface tests and the demo use (`sim.hub(name)`, described in ./hub-control.ts). Each connection
// gets a HubConnection (./hub-connection.ts) that reads the device's packets and calls back in here.
import { randomBytes } from "node:crypto";
import { buildC2dMessage, DeviceSession, type C2dMessage, type C2dSystemProperties } from "./c2d-session";
import type { AddDeviceOptions, AddedDevice, HubControl, InvokeOptions } from "./hub-control";
import { clientIdOf, type DeviceIdentity, type DeviceRegistry } from "./devices";
import { HubConnection } from "./hub-connection";
import { HubFaultPlan, type HubFault } from "./hub-faults";
import { deviceNotOnline, METHOD_PAYLOAD_MAX_BYTES, MethodInvocationError, PendingMethods, type MethodResult } from "./hub-methods";
import { TelemetryLog, type TelemetryMessage } from "./hub-telemetry";
import { desiredPatchTopic, methodRequestTopic } from "./hub-topics";
import type { MqttServerConnection, ServiceSession } from "./mqtt-connection";
import { decodePropertyBag, type PropertyValue } from "./property-bag";
import { Twin, type Json, type TwinDocument } from "./twin-store";

const DEFAULT_METHOD_TIMEOUT_MS = 30_000;
const DEFAULT_TELEMETRY_WAIT_MS = 2000;

interface TelemetryFacts {
  qos: 0 | 1;
  dup: boolean;
  retain: boolean;
  packetId?: number;
  acknowledged: boolean;
  will: boolean;
  connectionId: number;
}

export class HubService implements HubControl {
  readonly hostName: string;
  readonly identities: DeviceRegistry;
  readonly faults = new HubFaultPlan();
  readonly methods = new PendingMethods();
  private readonly telemetryLog = new TelemetryLog();
  private readonly clock: () => number;
  private readonly live = new Map<string, HubConnection>();
  private readonly sessions = new Map<string, DeviceSession>();
  private readonly twins = new Map<string, Twin>();

  constructor(hostName: string, identities: DeviceRegistry, clock: () => number) {
    this.hostName = hostName.toLowerCase();
    this.identities = identities;
    this.clock = clock;
  }

  open(connection: MqttServerConnection): ServiceSession {
    return new HubConnection(this, connection);
  }

  // --- called by HubConnection ------------------------------------------------------------

  /**
   * A CONNECT was accepted. Azure allows one connection per device: a newer one drops the older
   * (logging 400027 ConnectionForcefullyClosedOnNewConnection). CleanSession 1 discards any stored
   * session; CleanSession 0 resumes it (sessionPresent) or starts one that will outlive the connection.
   */
  attach(connection: HubConnection, clientId: string, persistent: boolean): { session: DeviceSession; sessionPresent: boolean } {
    this.live.get(clientId)?.drop("400027 ConnectionForcefullyClosedOnNewConnection");
    let session = this.sessions.get(clientId);
    const sessionPresent = persistent && session !== undefined && session.persistent;
    if (!sessionPresent) {
      session?.discardAll("clean-session");
      session = new DeviceSession(persistent);
      this.sessions.set(clientId, session);
    }
    this.live.set(clientId, connection);
    return { session: session!, sessionPresent };
  }

  detach(connection: HubConnection, clientId: string, session: DeviceSession): void {
    if (this.live.get(clientId) === connection) this.live.delete(clientId);
    if (session.persistent) return session.suspend();
    session.discardAll("session-ended");
    if (this.sessions.get(clientId) === session) this.sessions.delete(clientId);
  }

  twinOf(clientId: string): Twin {
    let twin = this.twins.get(clientId);
    if (!twin) this.twins.set(clientId, (twin = new Twin()));
    return twin;
  }

  recordTelemetry(
    topic: string,
    payload: Buffer,
    from: { deviceId: string; moduleId?: string; clientId: string },
    facts: TelemetryFacts,
  ): TelemetryMessage {
    const bag = topic.slice(topic.indexOf("/messages/events/") + "/messages/events/".length);
    const decoded = decodePropertyBag(bag);
    const properties = typeof decoded === "string" ? {} : { ...decoded.properties };
    // Azure: RETAIN is not stored; the message gets an `mqtt-retain` application property instead.
    if (facts.retain) properties["mqtt-retain"] = "true";
    if (facts.will) properties["iothub-MessageType"] = "Will";
    const message: TelemetryMessage = {
      hub: this.hostName,
      ...from,
      topic,
      payload,
      properties,
      systemProperties: typeof decoded === "string" ? {} : decoded.systemProperties,
      receivedAtMs: this.clock(),
      ...facts,
    };
    if (message.packetId === undefined) delete message.packetId;
    this.telemetryLog.add(message);
    return message;
  }

  // --- the control surface ------------------------------------------------------------------

  addDevice(options: AddDeviceOptions): AddedDevice {
    const clientId = clientIdOf(options.deviceId, options.moduleId);
    const hostPart = `HostName=${this.hostName};DeviceId=${options.deviceId}` + (options.moduleId ? `;ModuleId=${options.moduleId}` : "");
    const identity: DeviceIdentity = { hub: this.hostName, deviceId: options.deviceId, enabled: true, credential: { type: "x509", commonName: options.deviceId } };
    if (options.moduleId !== undefined) identity.moduleId = options.moduleId;
    if (options.x509) {
      if (options.moduleId !== undefined) throw new Error("the simulator authenticates modules by key only");
      this.identities.register(identity);
      return { clientId, connectionString: `${hostPart};x509=true` };
    }
    const primaryKey = options.primaryKey ?? randomBytes(32).toString("base64");
    const keys = options.secondaryKey ? [primaryKey, options.secondaryKey] : [primaryKey];
    this.identities.register({ ...identity, credential: { type: "symmetricKey", keys } });
    return { clientId, primaryKey, connectionString: `${hostPart};SharedAccessKey=${primaryKey}` };
  }

  revokeKeys(target: string): string {
    const identity = this.identity(target);
    const primaryKey = randomBytes(32).toString("base64");
    this.identities.register({ ...identity, credential: { type: "symmetricKey", keys: [primaryKey] } });
    return primaryKey;
  }

  setEnabled(target: string, enabled: boolean): void {
    this.identities.register({ ...this.identity(target), enabled });
    if (!enabled) this.live.get(target)?.drop("device-disabled");
  }

  isConnected(target: string): boolean {
    return this.live.has(target);
  }

  dropConnection(target: string): boolean {
    const connection = this.live.get(target);
    if (!connection) return false;
    connection.connection.note("fault", "dropped by the test");
    connection.drop("fault-drop");
    return true;
  }

  injectFault(fault: HubFault): void {
    this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  get telemetry(): readonly TelemetryMessage[] {
    return this.telemetryLog.all;
  }

  telemetryOf(target: string): readonly TelemetryMessage[] {
    return this.telemetryLog.of(target);
  }

  nextTelemetry(target: string, timeoutMs = DEFAULT_TELEMETRY_WAIT_MS): Promise<TelemetryMessage> {
    return this.telemetryLog.next(target, timeoutMs);
  }

  sendC2D(
    deviceId: string,
    payload: Buffer | string,
    properties?: Record<string, PropertyValue>,
    system?: C2dSystemProperties,
  ): C2dMessage {
    const identity = this.identity(deviceId);
    if (identity.moduleId !== undefined) throw new Error("modules have no cloud-to-device queue");
    const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
    const message = buildC2dMessage(deviceId, body, properties, system);
    const session = this.sessions.get(deviceId);
    // Azure delivers only messages sent while the device had a C2D subscription (live, or kept by a CleanSession 0 session).
    if (!session || session.c2dQos === undefined) {
      message.discard("no-subscription");
      return message;
    }
    session.enqueue(message);
    this.live.get(deviceId)?.deliverC2d(message);
    return message;
  }

  patchDesired(target: string, patch: Record<string, Json>): { version: number; notified: boolean } {
    this.identity(target);
    const result = this.twinOf(target).patchDesired(patch);
    if ("refusal" in result) throw new Error("desired patch refused: " + result.refusal);
    // Azure sends the patch itself with the new `$version` added, and only to a connected device.
    const body = Buffer.from(JSON.stringify({ ...patch, $version: result.version }), "utf8");
    const connection = this.live.get(target);
    const notified = connection?.isSubscribed("twin-desired") === true && connection.publish("twin-desired", desiredPatchTopic(result.version), body);
    return { version: result.version, notified };
  }

  twin(target: string): TwinDocument {
    this.identity(target);
    return this.twinOf(target).document();
  }

  invokeMethod(target: string, methodName: string, payload?: Json, options: InvokeOptions = {}): Promise<MethodResult> {
    const body = payload === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(payload), "utf8");
    if (body.length > METHOD_PAYLOAD_MAX_BYTES) {
      return Promise.reject(new MethodInvocationError(400, undefined, "method payload over the 128 KB limit"));
    }
    const connection = this.live.get(target);
    // Online, for a method, means connected and subscribed to `$iothub/methods/POST/#`.
    if (!connection?.isSubscribed("methods")) return Promise.reject(deviceNotOnline());
    return this.methods.start(target, options.timeoutMs ?? DEFAULT_METHOD_TIMEOUT_MS, (rid) => {
      connection.publish("methods", methodRequestTopic(methodName, rid), body);
    });
  }

  /** Settles everything pending (method invocations, telemetry waiters) and clears their timers. */
  close(): void {
    this.methods.close();
    this.telemetryLog.close();
  }

  private identity(target: string): DeviceIdentity {
    const identity = this.identities.lookup(this.hostName, target);
    if (!identity) throw new Error(`${target} is not a device or module on ${this.hostName}`);
    return identity;
  }
}
