// One device's (or module's) connection to a simulated hub (PROTOCOL.md §3): CONNECT judged
// exactly, only the documented subscriptions, and each PUBLISH routed by topic to telemetry, the
// twin or a method response. Anything the hub does not serve closes the connection, as Azure does
// ("AMQP returns errors for many conditions, while MQTT terminates the connection"). State that
// outlives the connection (the C2D session, the twin) belongs to the HubService.
import type { IConnectPacket, IPublishPacket, ISubscribePacket, Packet } from "mqtt-packet";
import { errorBody } from "./azure-errors";
import type { DeviceSession, TrackedC2d } from "./c2d-session";
import { clientIdOf, type DeviceIdentity } from "./devices";
import { judgeHubConnect } from "./hub-connect";
import { describeHubFault, type HubFaultAction, type HubStep } from "./hub-faults";
import type { HubService } from "./hub-service";
import { classifyFilter, parseHubPublishTopic, twinResponseTopic, type SubscriptionKind } from "./hub-topics";
import { closeIfAsked, interruptsAnswer } from "./fault-queue";
import { ConnackCode, type MqttServerConnection, type ServiceSession } from "./mqtt-connection";
import { decodePropertyBag } from "./property-bag";

const SUBACK_FAILURE = 0x80;
/** Azure's device-to-cloud limit. The simulator counts the payload and the property bag. */
export const TELEMETRY_MAX_BYTES = 256 * 1024;

/** Documented error codes where Azure has one; otherwise status x 1000, as the DPS side does. */
const ERROR_CODES: Record<number, number> = { 429: 429001, 500: 500001, 503: 503003, 504: 504101 };

export class HubConnection implements ServiceSession {
  readonly connection: MqttServerConnection;
  private readonly hub: HubService;
  private identity: DeviceIdentity | undefined;
  private clientId = "";
  private session: DeviceSession | undefined;
  private will: IConnectPacket["will"];
  /** Ends the connection when its SAS token expires, as IoT Hub does (a device must renew first). */
  private sasExpiry: ReturnType<typeof setTimeout> | undefined;
  /** QoS granted per subscription kind on this connection (the C2D one lives in the session). */
  private readonly granted = new Map<Exclude<SubscriptionKind, "c2d">, 0 | 1>();

  constructor(hub: HubService, connection: MqttServerConnection) {
    this.hub = hub;
    this.connection = connection;
  }

  get accepted(): boolean {
    return this.session !== undefined;
  }

  onConnect(packet: IConnectPacket): void {
    const record = this.connection.record;
    record.clientId = packet.clientId;
    if (packet.username !== undefined) record.username = packet.username;
    const verdict = judgeHubConnect(packet, {
      hub: this.hub.hostName,
      lookup: (clientId) => this.hub.identities.lookup(this.hub.hostName, clientId),
      nowSeconds: Math.floor(Date.now() / 1000),
      certificate:
        record.clientCertificateTrusted === undefined
          ? undefined
          : { commonName: record.clientCertificateCommonName, trusted: record.clientCertificateTrusted },
    });
    if (verdict.sas) record.sas = verdict.sas;
    if (!("identity" in verdict)) return this.refuse(verdict.returnCode, verdict.refusal);
    if (verdict.modelId !== undefined) record.modelId = verdict.modelId;
    this.clientId = clientIdOf(verdict.identity.deviceId, verdict.identity.moduleId);
    const fault = this.takeFault("connect");
    if (interruptsAnswer(this.connection, fault)) return;
    if (fault?.kind === "refuse") return this.refuse(fault.returnCode, "fault-refuse");
    this.identity = verdict.identity;
    this.will = packet.will;
    const { session, sessionPresent } = this.hub.attach(this, this.clientId, !packet.clean);
    this.session = session;
    record.sessionPresent = sessionPresent;
    this.connection.send({ cmd: "connack", returnCode: ConnackCode.ACCEPTED, sessionPresent });
    if (verdict.sas) this.dropAtExpiry(verdict.sas.expirySeconds * 1000);
    // MQTT-4.4.0-1: a resumed session re-sends what was never acknowledged, then what waited.
    for (const message of session.pending) this.deliverC2d(message);
    closeIfAsked(this.connection, fault);
  }

  onPacket(packet: Packet): void {
    if (packet.cmd === "subscribe") return this.onSubscribe(packet);
    if (packet.cmd === "publish") return this.onPublish(packet);
    if (packet.cmd === "puback") {
      this.session?.acknowledge(packet.messageId ?? 0);
      return;
    }
    if (packet.cmd === "unsubscribe") {
      for (const filter of packet.unsubscriptions) this.unsubscribe(filter);
      return this.connection.send({ cmd: "unsuback", messageId: packet.messageId ?? 0, granted: [] });
    }
    this.connection.drop("unexpected-packet-" + packet.cmd);
  }

  onClose(): void {
    if (this.sasExpiry) clearTimeout(this.sasExpiry);
    if (!this.session) return;
    const record = this.connection.record;
    const byDisconnect = record.closedBy === "client" && record.closeReason === "disconnect";
    // Azure: a will is forwarded when "the network connection is closed, but a DISCONNECT packet
    // wasn't previously received". A simulator shutting down is not the device's doing.
    if (this.will && !byDisconnect && record.closeReason !== "simulator-closed") {
      this.connection.note("will", "forwarded as telemetry: " + this.will.topic);
      this.hub.recordTelemetry(this.will.topic, Buffer.from(this.will.payload), this.identityOf(), {
        qos: (this.will.qos ?? 0) > 0 ? 1 : 0,
        dup: false,
        retain: !!this.will.retain,
        acknowledged: false,
        will: true,
        connectionId: record.id,
      });
    }
    this.hub.detach(this, this.clientId, this.session);
  }

  /** Publishes to the device when it is subscribed to `kind`; false (and noted) when it is not. */
  publish(kind: Exclude<SubscriptionKind, "c2d">, topic: string, body: Buffer): boolean {
    const qos = this.granted.get(kind);
    if (qos === undefined || !this.session) {
      this.connection.note("undelivered", topic);
      return false;
    }
    const packet: IPublishPacket = { cmd: "publish", topic, payload: body, qos, dup: false, retain: false };
    if (qos === 1) packet.messageId = this.session.nextPacketId();
    this.connection.send(packet);
    return true;
  }

  isSubscribed(kind: Exclude<SubscriptionKind, "c2d">): boolean {
    return this.granted.has(kind);
  }

  /** Sends one C2D message at the QoS granted on the C2D filter; a re-send carries DUP and the same packet id. */
  deliverC2d(message: TrackedC2d): void {
    const session = this.session;
    if (!session || session.c2dQos === undefined) return;
    const packet: IPublishPacket = {
      cmd: "publish",
      topic: message.topic,
      payload: message.payload,
      qos: session.c2dQos,
      dup: message.deliveries > 0 && session.c2dQos === 1,
      retain: false,
    };
    message.deliveries++;
    if (session.c2dQos === 0) {
      this.connection.send(packet);
      return session.settleUnacknowledged(message);
    }
    message.packetId ??= session.nextPacketId();
    packet.messageId = message.packetId;
    message.state = "in-flight";
    this.connection.send(packet);
  }

  /** Server-side close now, e.g. "fault-drop" or a newer connection taking over. */
  drop(reason: string): void {
    this.connection.drop(reason);
  }

  private identityOf(): { deviceId: string; moduleId?: string; clientId: string } {
    const identity = this.identity!;
    return identity.moduleId === undefined
      ? { deviceId: identity.deviceId, clientId: this.clientId }
      : { deviceId: identity.deviceId, moduleId: identity.moduleId, clientId: this.clientId };
  }

  /** IoT Hub closes a connection whose token has expired (with a few minutes' grace, observed;
   * none here, so a client that renews late is caught). Waited in legs: a month-long token is
   * past setTimeout's longest delay. */
  private dropAtExpiry(expiresAtMs: number): void {
    const left = expiresAtMs - Date.now();
    if (left <= 0) return this.connection.drop("sas-expired");
    this.sasExpiry = setTimeout(() => this.dropAtExpiry(expiresAtMs), Math.min(left, 2147483647));
    this.sasExpiry.unref();
  }

  private refuse(returnCode: number, refusal: string): void {
    this.connection.record.refusal = refusal;
    this.connection.send({ cmd: "connack", returnCode, sessionPresent: false });
    this.connection.close(refusal === "fault-refuse" ? "fault-refuse" : "refused");
  }

  private onSubscribe(packet: ISubscribePacket): void {
    const fault = this.takeFault("subscribe");
    if (interruptsAnswer(this.connection, fault)) return;
    const identity = this.identity!;
    const granted = packet.subscriptions.map((subscription) => {
      const kind = classifyFilter(subscription.topic, identity);
      if (kind === undefined) return SUBACK_FAILURE;
      // Azure grants at most QoS 1, also to a QoS 2 request.
      const qos = subscription.qos >= 1 ? 1 : 0;
      if (kind === "c2d") this.session!.c2dQos = qos;
      else this.granted.set(kind, qos);
      return qos;
    });
    this.connection.send({ cmd: "suback", messageId: packet.messageId ?? 0, granted });
    closeIfAsked(this.connection, fault);
  }

  private unsubscribe(filter: string): void {
    const kind = classifyFilter(filter, this.identity!);
    if (kind === "c2d") this.session!.c2dQos = undefined;
    else if (kind !== undefined) this.granted.delete(kind);
  }

  private onPublish(packet: IPublishPacket): void {
    // Azure: "If a device app publishes a message with QoS 2, IoT Hub closes the network connection."
    if (packet.qos === 2) return this.connection.drop("qos-2-publish");
    const request = parseHubPublishTopic(packet.topic, this.identity!);
    if (!request) return this.connection.drop("unsupported-topic");
    if (request.kind === "telemetry") return this.onTelemetry(packet, request.bag);
    if (request.kind === "method-response") {
      this.acknowledge(packet);
      const payload = Buffer.from(packet.payload);
      if (!this.hub.methods.settle(this.clientId, request.rid, request.status, payload)) {
        this.connection.note("late-response", `method response for $rid=${request.rid} matches no waiting invocation`);
      }
      return;
    }
    const fault = this.takeFault(request.kind);
    if (interruptsAnswer(this.connection, fault)) return;
    this.acknowledge(packet);
    if (fault?.kind === "error") {
      const body = errorBody(fault.errorCode ?? ERROR_CODES[fault.status] ?? fault.status * 1000, "Injected fault", new Date());
      this.publish("twin-responses", twinResponseTopic(fault.status, request.rid, undefined, fault.retryAfterSeconds), json(body));
    } else if (request.kind === "twin-get") {
      const twin = this.hub.twinOf(this.clientId).document();
      this.publish("twin-responses", twinResponseTopic(200, request.rid), json(twin));
    } else {
      this.patchReported(request.rid, packet.payload);
    }
    closeIfAsked(this.connection, fault);
  }

  private patchReported(rid: string, payload: string | Buffer): void {
    let patch: unknown;
    try {
      patch = JSON.parse(payload.toString());
    } catch {
      return this.twinError(rid, "Malformed JSON in the reported properties patch");
    }
    const result = this.hub.twinOf(this.clientId).patchReported(patch);
    if ("refusal" in result) return this.twinError(rid, result.refusal);
    this.publish("twin-responses", twinResponseTopic(204, rid, result.version), Buffer.alloc(0));
  }

  private twinError(rid: string, message: string): void {
    this.publish("twin-responses", twinResponseTopic(400, rid), json(errorBody(400000, message, new Date())));
  }

  private onTelemetry(packet: IPublishPacket, bag: string): void {
    const payload = Buffer.from(packet.payload);
    if (payload.length + Buffer.byteLength(bag) > TELEMETRY_MAX_BYTES) return this.connection.drop("telemetry-too-large");
    const decoded = decodePropertyBag(bag);
    if (typeof decoded === "string") return this.connection.drop("property-bag-" + decoded);
    if (decoded.rawPlus) this.connection.note("warning", "raw '+' in a property bag: Azure may read it as a space; send %2B or %20");
    const fault = this.takeFault("telemetry");
    if (fault?.kind === "silence") return this.connection.mute();
    if (fault?.kind === "drop") return this.connection.drop("fault-drop"); // lost before the hub took it
    const acknowledged = packet.qos === 1 && fault?.kind !== "no-ack";
    const message = this.hub.recordTelemetry(packet.topic, payload, this.identityOf(), {
      qos: packet.qos === 1 ? 1 : 0,
      dup: packet.dup,
      retain: packet.retain,
      packetId: packet.qos === 1 ? packet.messageId : undefined,
      acknowledged: false,
      will: false,
      connectionId: this.connection.record.id,
    });
    if (acknowledged) {
      this.acknowledge(packet);
      message.acknowledged = true;
    }
    closeIfAsked(this.connection, fault);
  }

  private acknowledge(packet: IPublishPacket): void {
    if (packet.qos === 1) this.connection.send({ cmd: "puback", messageId: packet.messageId ?? 0 });
  }

  private takeFault(step: HubStep): HubFaultAction | undefined {
    const fault = this.hub.faults.take(step, this.clientId);
    if (fault) this.connection.note("fault", describeHubFault(step, fault));
    return fault;
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}
