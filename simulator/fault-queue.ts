import type { MqttServerConnection } from "./mqtt-connection";

// One-shot (or n-shot) faults queued by tests, shared by the DPS and hub sides: "429 once, then
// success" needs no cleanup, and a fault aimed at one device never touches another. Each service
// defines its own steps and actions and checks which pairs make sense before queueing.

export interface QueuedFault<Step extends string, Action> {
  step: Step;
  action: Action;
  /** Only for this device (DPS: registration id; hub: device id); default: any device. */
  target?: string;
  /** How many matching steps it hits before it is used up; default 1. Infinity = always. */
  times?: number;
}

interface PendingFault<Step extends string, Action> {
  fault: QueuedFault<Step, Action>;
  remaining: number;
}

export class FaultQueue<Step extends string, Action> {
  private pending: PendingFault<Step, Action>[] = [];

  add(fault: QueuedFault<Step, Action>): void {
    const remaining = fault.times ?? 1;
    if (!(remaining >= 1)) throw new Error("fault times must be at least 1");
    this.pending.push({ fault, remaining });
  }

  clear(): void {
    this.pending = [];
  }

  /** The first queued fault for this step and device, used up by one; faults fire in the order they were added. */
  take(step: Step, target: string): Action | undefined {
    const index = this.pending.findIndex(
      (entry) => entry.fault.step === step && (entry.fault.target ?? target) === target,
    );
    if (index < 0) return undefined;
    const entry = this.pending[index];
    entry.remaining--;
    if (entry.remaining <= 0) this.pending.splice(index, 1);
    return entry.fault.action;
  }
}

/** The fault kinds both services share, which act on the connection rather than on an answer. */
interface ConnectionFault {
  kind: string;
}

/** Applies a fault that replaces the answer entirely (silence, drop); true when nothing more should happen. */
export function interruptsAnswer(connection: MqttServerConnection, fault: ConnectionFault | undefined): boolean {
  if (fault?.kind === "silence") {
    connection.mute();
    return true;
  }
  if (fault?.kind === "drop") {
    connection.drop("fault-drop");
    return true;
  }
  return false;
}

/** After an answer went out: closes the connection if the fault asked for it. */
export function closeIfAsked(connection: MqttServerConnection, fault: ConnectionFault | undefined): void {
  if (fault?.kind === "drop-after-answer") connection.close("fault-drop-after-answer");
}
