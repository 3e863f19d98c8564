// One device's DPS conversation (PROTOCOL.md §2): CONNECT judged exactly, only the response filter
// may be subscribed, register → 202 with an operation id, polls → 202 until the outcome is
// revealed with a 200. Faults queued by tests replace or follow the normal answer at each step.
import type { IConnectPacket, IPublishPacket, ISubscribePacket, Packet } from "mqtt-packet";
import { judgeDpsConnect } from "./dps-connect";
import { describeFault, type DpsFaultAction, type DpsStep } from "./dps-faults";
import { errorBody } from "./azure-errors";
import { DPS_RESPONSE_FILTER, parseDpsRequestTopic, responseTopic, type DpsRequest } from "./dps-messages";
import type { DpsService } from "./dps-service";
import type { EnrollmentMatch } from "./enrollments";
import { closeIfAsked, interruptsAnswer } from "./fault-queue";
import { ConnackCode, type MqttServerConnection, type ServiceSession } from "./mqtt-connection";

const SUBACK_FAILURE = 0x80;
const MAX_GRANTED_QOS = 1; // DPS grants at most QoS 1

interface Answer {
  status: number;
  body: unknown;
  retryAfterSeconds: number | "omit";
}

export class DpsSession implements ServiceSession {
  private readonly service: DpsService;
  private readonly connection: MqttServerConnection;
  private registrationId = "";
  private match: EnrollmentMatch | undefined;
  /** QoS granted on the response filter; undefined while the client is not subscribed. */
  private responseQos: number | undefined;

  constructor(service: DpsService, connection: MqttServerConnection) {
    this.service = service;
    this.connection = connection;
  }

  onConnect(packet: IConnectPacket): void {
    const record = this.connection.record;
    record.clientId = packet.clientId;
    if (packet.username !== undefined) record.username = packet.username;
    const certificate =
      record.clientCertificateTrusted === undefined
        ? undefined
        : { commonName: record.clientCertificateCommonName, trusted: record.clientCertificateTrusted };
    const verdict = judgeDpsConnect(packet, {
      idScope: this.service.idScope,
      enrollments: this.service.enrollments,
      nowSeconds: Math.floor(Date.now() / 1000),
      certificate,
    });
    if (verdict.sas) record.sas = verdict.sas;
    if (!("match" in verdict)) {
      record.refusal = verdict.refusal;
      this.connection.send({ cmd: "connack", returnCode: verdict.returnCode, sessionPresent: false });
      return this.connection.close("refused");
    }
    this.registrationId = verdict.registrationId;
    this.match = verdict.match;
    const fault = this.takeFault("connect");
    if (interruptsAnswer(this.connection, fault)) return;
    if (fault?.kind === "refuse") {
      this.connection.send({ cmd: "connack", returnCode: fault.returnCode, sessionPresent: false });
      return this.connection.close("fault-refuse");
    }
    // DPS keeps no session whatever CleanSession says (PROTOCOL.md §2), so sessionPresent is always 0.
    this.connection.send({ cmd: "connack", returnCode: ConnackCode.ACCEPTED, sessionPresent: false });
    closeIfAsked(this.connection, fault);
  }

  onPacket(packet: Packet): void {
    if (packet.cmd === "subscribe") return this.onSubscribe(packet);
    if (packet.cmd === "publish") return this.onPublish(packet);
    if (packet.cmd === "unsubscribe") {
      if (packet.unsubscriptions.includes(DPS_RESPONSE_FILTER)) this.responseQos = undefined;
      return this.connection.send({ cmd: "unsuback", messageId: packet.messageId ?? 0, granted: [] });
    }
    if (packet.cmd === "puback") return; // acknowledges one of our responses; the record keeps it
    this.connection.drop("unexpected-packet-" + packet.cmd);
  }

  private onSubscribe(packet: ISubscribePacket): void {
    const fault = this.takeFault("subscribe");
    if (interruptsAnswer(this.connection, fault)) return;
    const granted = packet.subscriptions.map((subscription) => {
      if (subscription.topic !== DPS_RESPONSE_FILTER) return SUBACK_FAILURE;
      this.responseQos = Math.min(subscription.qos, MAX_GRANTED_QOS);
      return this.responseQos;
    });
    this.connection.send({ cmd: "suback", messageId: packet.messageId ?? 0, granted });
    closeIfAsked(this.connection, fault);
  }

  private onPublish(packet: IPublishPacket): void {
    // The service never agreed to QoS 2; as the hub does (PROTOCOL.md §3), it hangs up.
    if (packet.qos === 2) return this.connection.drop("qos-2-publish");
    const request = parseDpsRequestTopic(packet.topic);
    if (!request) return this.connection.drop("unsupported-topic");
    const fault = this.takeFault(request.kind);
    if (interruptsAnswer(this.connection, fault)) return;
    if (packet.qos === 1) this.connection.send({ cmd: "puback", messageId: packet.messageId ?? 0 });
    const answer = fault?.kind === "error" ? this.errorAnswer(fault) : this.answer(request, packet.payload);
    this.respond(request.rid, answer);
    closeIfAsked(this.connection, fault);
  }

  private answer(request: DpsRequest, payload: string | Buffer): Answer {
    if (request.kind === "poll") return this.answerPoll(request.operationId);
    let body: unknown;
    try {
      body = JSON.parse(payload.toString());
    } catch {
      return this.plainError(400, "Request body is not JSON");
    }
    const registrationId = (body as { registrationId?: unknown } | null)?.registrationId;
    if (registrationId !== this.registrationId || !this.match) {
      return this.plainError(400, "registrationId in the body does not match the connection");
    }
    const operation = this.service.startOperation(this.registrationId, this.match, (body as { payload?: unknown }).payload);
    return {
      status: 202,
      body: { operationId: operation.operationId, status: "assigning" },
      retryAfterSeconds: operation.retryAfterSeconds,
    };
  }

  private answerPoll(operationId: string): Answer {
    const operation = this.service.findOperation(operationId, this.registrationId);
    if (!operation) return this.plainError(404, "Operation not found");
    if (operation.assigningPollsLeft > 0) {
      operation.assigningPollsLeft--;
      return {
        status: 202,
        body: { operationId, status: "assigning" },
        retryAfterSeconds: operation.retryAfterSeconds,
      };
    }
    return { status: 200, body: operation.final, retryAfterSeconds: "omit" };
  }

  /** Errors the simulator itself raises carry errorCode = status x 1000, e.g. 404000. */
  private plainError(status: number, message: string): Answer {
    return { status, body: errorBody(status * 1000, message, new Date()), retryAfterSeconds: "omit" };
  }

  private errorAnswer(fault: Extract<DpsFaultAction, { kind: "error" }>): Answer {
    return {
      status: fault.status,
      body: errorBody(fault.errorCode ?? fault.status * 1000, "Injected fault", new Date()),
      retryAfterSeconds: fault.retryAfterSeconds ?? "omit",
    };
  }

  /** Publishes on the response topic; with no subscription to the filter, MQTT delivers nothing. */
  private respond(rid: string, answer: Answer): void {
    const topic = responseTopic(answer.status, rid, answer.retryAfterSeconds);
    if (this.responseQos === undefined) return this.connection.note("undelivered", topic);
    const qos = this.responseQos === 1 ? 1 : 0;
    const packet: IPublishPacket = {
      cmd: "publish",
      topic,
      payload: Buffer.from(JSON.stringify(answer.body), "utf8"),
      qos,
      dup: false,
      retain: false,
    };
    if (qos === 1) packet.messageId = this.connection.nextMessageId();
    this.connection.send(packet);
  }

  private takeFault(step: DpsStep): DpsFaultAction | undefined {
    const fault = this.service.faults.take(step, this.registrationId);
    if (fault) this.connection.note("fault", describeFault(step, fault));
    return fault;
  }
}
