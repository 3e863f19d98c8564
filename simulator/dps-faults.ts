// How the simulated DPS behaves (retry-after, number of 202s, final outcome) and the faults tests
// inject into it. Behaviour is set simulator-wide and per enrollment; faults are one-shot (or
// n-shot) events queued by tests (./fault-queue.ts), so "429 once, then success" needs no cleanup.
import { FaultQueue } from "./fault-queue";

export type DpsOutcome =
  | { status: "assigned" }
  /** A 200 whose registrationState says `failed`; errorCode defaults to 400209, as a failed custom allocation. */
  | { status: "failed"; errorCode?: number; errorMessage?: string }
  /** A 200 whose registrationState says `disabled`, as for a disabled enrollment. */
  | { status: "disabled" };

export interface DpsBehaviour {
  /** The retry-after on every 202, in seconds, or "omit" to leave the parameter out. Default 3, like Azure. */
  retryAfterSeconds?: number | "omit";
  /** How many polls are answered 202 `assigning` before the final 200. Default 0. */
  assigningPolls?: number;
  /** Default `{ status: "assigned" }`. */
  outcome?: DpsOutcome;
}

export const DEFAULT_DPS_BEHAVIOUR: Required<DpsBehaviour> = {
  retryAfterSeconds: 3,
  assigningPolls: 0,
  outcome: { status: "assigned" },
};

/** The client action a fault attaches to. */
export type DpsStep = "connect" | "subscribe" | "register" | "poll";

export type DpsFaultAction =
  /** register/poll: answer with this status and an error body (`{errorCode, trackingId, message, timestampUtc}`). */
  | { kind: "error"; status: number; errorCode?: number; retryAfterSeconds?: number | "omit" }
  /** connect: a CONNACK with this non-zero return code, then close. */
  | { kind: "refuse"; returnCode: 1 | 2 | 3 | 4 | 5 }
  /** Close the socket instead of answering. */
  | { kind: "drop" }
  /** Answer normally, then close the socket. */
  | { kind: "drop-after-answer" }
  /** Never answer this packet, nor anything after it on this connection (PINGREQ included). */
  | { kind: "silence" };

export interface DpsFault {
  step: DpsStep;
  action: DpsFaultAction;
  /** Only for this registration id; default: any device. */
  registrationId?: string;
  /** How many matching steps it hits before it is used up; default 1. Infinity = always. */
  times?: number;
}

/** Checks each fault as it is queued: a combination that cannot happen throws, so a test cannot silently test nothing. */
export class FaultPlan {
  private readonly queue = new FaultQueue<DpsStep, DpsFaultAction>();

  add(fault: DpsFault): void {
    const { step, action } = fault;
    if (action.kind === "error" && step !== "register" && step !== "poll") {
      throw new Error(`an "error" fault applies to register or poll, not ${step}`);
    }
    if (action.kind === "refuse" && step !== "connect") throw new Error(`a "refuse" fault applies to connect, not ${step}`);
    this.queue.add({ step, action, target: fault.registrationId, times: fault.times });
  }

  clear(): void {
    this.queue.clear();
  }

  take(step: DpsStep, registrationId: string): DpsFaultAction | undefined {
    return this.queue.take(step, registrationId);
  }
}

export function describeFault(step: DpsStep, action: DpsFaultAction): string {
  if (action.kind === "error") return `${step}: error ${action.status}`;
  if (action.kind === "refuse") return `${step}: refuse ${action.returnCode}`;
  return `${step}: ${action.kind}`;
}
