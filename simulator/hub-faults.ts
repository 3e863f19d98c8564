// The faults tests inject into a simulated hub, in the same one-shot style as the DPS side
// (./fault-queue.ts): each names the client step it attaches to and what happens instead.
import { FaultQueue } from "./fault-queue";

/** The client action a fault attaches to. */
export type HubStep = "connect" | "subscribe" | "telemetry" | "twin-get" | "twin-patch";

export type HubFaultAction =
  /** connect: a CONNACK with this non-zero return code, then close (5 = not authorized, as for a revoked key). */
  | { kind: "refuse"; returnCode: 1 | 2 | 3 | 4 | 5 }
  /**
   * twin-get / twin-patch: answer with this status and an error body. Azure sends a 429 on
   * `$iothub/twin/res/429/?$rid={rid}` with no retry-after (the SDKs read only $rid and $version from
   * twin responses); retryAfterSeconds adds `&retry-after=` for clients that want to honour one.
   */
  | { kind: "error"; status: number; errorCode?: number; retryAfterSeconds?: number }
  /**
   * telemetry: the hub takes the message (it is recorded) but its PUBACK never leaves, as when the
   * acknowledgement is lost: a client that re-sends with DUP produces a duplicate (at least once).
   */
  | { kind: "no-ack" }
  /** Close the socket instead of answering; a telemetry message dropped this way is not recorded (it was lost). */
  | { kind: "drop" }
  /** Answer normally, then close the socket. */
  | { kind: "drop-after-answer" }
  /** Never answer this packet, nor anything after it on this connection (PINGREQ included). */
  | { kind: "silence" };

export interface HubFault {
  step: HubStep;
  action: HubFaultAction;
  /** Only for this client: a device id, or `deviceId/moduleId`; default: any. */
  deviceId?: string;
  /** How many matching steps it hits before it is used up; default 1. Infinity = always. */
  times?: number;
}

/** Checks each fault as it is queued: a combination that cannot happen throws, so a test cannot silently test nothing. */
export class HubFaultPlan {
  private readonly queue = new FaultQueue<HubStep, HubFaultAction>();

  add(fault: HubFault): void {
    const { step, action } = fault;
    if (action.kind === "refuse" && step !== "connect") throw new Error(`a "refuse" fault applies to connect, not ${step}`);
    if (action.kind === "error" && step !== "twin-get" && step !== "twin-patch") {
      throw new Error(`an "error" fault applies to twin-get or twin-patch, not ${step}`);
    }
    if (action.kind === "no-ack" && step !== "telemetry") throw new Error(`a "no-ack" fault applies to telemetry, not ${step}`);
    this.queue.add({ step, action, target: fault.deviceId, times: fault.times });
  }

  clear(): void {
    this.queue.clear();
  }

  take(step: HubStep, clientId: string): HubFaultAction | undefined {
    return this.queue.take(step, clientId);
  }
}

export function describeHubFault(step: HubStep, action: HubFaultAction): string {
  if (action.kind === "error") return `${step}: error ${action.status}`;
  if (action.kind === "refuse") return `${step}: refuse ${action.returnCode}`;
  return `${step}: ${action.kind}`;
}
