// Direct-method invocations from the service side, waiting for the device's answer on
// `$iothub/methods/res/{status}/?$rid={rid}`. Failures carry Azure's status and error code as its
// service API reports them: 404103 DeviceNotOnline ("Timed out waiting for device to connect.")
// when the device is not connected and subscribed to `$iothub/methods/POST/#` (Azure answers that
// at once, whatever the connect timeout), 504101 GatewayTimeout when it does not answer in time.
import type { Json } from "./twin-store";

/** Azure's limit on a method payload, request or response. */
export const METHOD_PAYLOAD_MAX_BYTES = 128 * 1024;

export interface MethodResult {
  status: number;
  /** The device's JSON body, parsed; null for an empty body. */
  payload: Json;
}

export class MethodInvocationError extends Error {
  readonly status: number;
  readonly errorCode: number | undefined;

  constructor(status: number, errorCode: number | undefined, message: string) {
    super(errorCode === undefined ? message : `${errorCode}: ${message}`);
    this.name = "MethodInvocationError";
    this.status = status;
    this.errorCode = errorCode;
  }
}

export function deviceNotOnline(): MethodInvocationError {
  return new MethodInvocationError(404, 404103, "Timed out waiting for device to connect.");
}

interface Pending {
  resolve: (result: MethodResult) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class PendingMethods {
  private lastRid = 0;
  private readonly pending = new Map<string, Pending>();

  /** Allocates a request id (decimal, per hub, as Azure's look), hands it to `send`, and waits for the answer. */
  start(clientId: string, timeoutMs: number, send: (rid: string) => void): Promise<MethodResult> {
    const rid = String(++this.lastRid);
    const key = `${clientId}\n${rid}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new MethodInvocationError(504, 504101, "Timed out waiting for the response from device."));
      }, timeoutMs);
      this.pending.set(key, { resolve, reject, timer });
      send(rid);
    });
  }

  /** Settles the invocation this response answers; false when none is waiting (unknown or late `$rid`). */
  settle(clientId: string, rid: string, status: number, body: Buffer): boolean {
    const key = `${clientId}\n${rid}`;
    const pending = this.pending.get(key);
    if (!pending) return false;
    this.pending.delete(key);
    clearTimeout(pending.timer);
    if (body.length > METHOD_PAYLOAD_MAX_BYTES) {
      pending.reject(new MethodInvocationError(413, undefined, "the device's response is over the 128 KB method payload limit"));
      return true;
    }
    let payload: Json = null;
    try {
      if (body.length > 0) payload = JSON.parse(body.toString("utf8")) as Json;
    } catch {
      pending.reject(new MethodInvocationError(400, undefined, "the device's response body is neither JSON nor empty"));
      return true;
    }
    pending.resolve({ status, payload });
    return true;
  }

  close(): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new MethodInvocationError(503, undefined, "the simulator is closed"));
    }
    this.pending.clear();
  }
}
