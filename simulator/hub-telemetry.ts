// Device-to-cloud messages as the hub received them, decoded, in arrival order, and a way for tests
// to wait for the next one from a given device without polling.
import type { PropertyValue } from "./property-bag";

export interface TelemetryMessage {
  hub: string;
  deviceId: string;
  moduleId?: string;
  /** `{deviceId}` or `{deviceId}/{moduleId}`. */
  clientId: string;
  /** Id of the connection record it arrived on (see `sim.connections`). */
  connectionId: number;
  topic: string;
  payload: Buffer;
  /** Application properties, URL-decoded; a bare key has the value null. */
  properties: Record<string, PropertyValue>;
  /** `$.mid`, `$.cid`, `$.ct`, `$.ce`, `$.ctime`, `$.sub`, ... as sent, URL-decoded. */
  systemProperties: Record<string, PropertyValue>;
  qos: 0 | 1;
  dup: boolean;
  retain: boolean;
  /** The MQTT packet id of a QoS 1 message: a re-send carries the same one. */
  packetId?: number;
  receivedAtMs: number;
  /** True once its PUBACK went out (QoS 1 only). */
  acknowledged: boolean;
  /** True for a will the hub forwarded after the connection dropped without DISCONNECT. */
  will: boolean;
}

interface Waiter {
  resolve: (message: TelemetryMessage) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class TelemetryLog {
  readonly all: TelemetryMessage[] = [];
  private readonly byClient = new Map<string, TelemetryMessage[]>();
  /** How many of each client's messages nextTelemetry has handed out. */
  private readonly cursors = new Map<string, number>();
  private readonly waiters = new Map<string, Waiter[]>();
  private closed = false;

  add(message: TelemetryMessage): void {
    this.all.push(message);
    const list = this.byClient.get(message.clientId) ?? [];
    list.push(message);
    this.byClient.set(message.clientId, list);
    const waiter = this.waiters.get(message.clientId)?.shift();
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.cursors.set(message.clientId, (this.cursors.get(message.clientId) ?? 0) + 1);
    waiter.resolve(message);
  }

  of(clientId: string): readonly TelemetryMessage[] {
    return this.byClient.get(clientId) ?? [];
  }

  /** The oldest message from this client not yet handed out by next(); waits up to timeoutMs for one. */
  next(clientId: string, timeoutMs: number): Promise<TelemetryMessage> {
    const cursor = this.cursors.get(clientId) ?? 0;
    const ready = this.of(clientId)[cursor];
    if (ready) {
      this.cursors.set(clientId, cursor + 1);
      return Promise.resolve(ready);
    }
    if (this.closed) return Promise.reject(new Error("the simulator is closed"));
    return new Promise((resolve, reject) => {
      const queue = this.waiters.get(clientId) ?? [];
      this.waiters.set(clientId, queue);
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(waiter), 1);
          reject(new Error(`no telemetry from ${clientId} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      queue.push(waiter);
    });
  }

  /** Rejects every waiter and clears its timer, so close() leaves nothing behind. */
  close(): void {
    this.closed = true;
    for (const queue of this.waiters.values()) {
      for (const waiter of queue.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error("the simulator is closed"));
      }
    }
  }
}
