// What Azure's services (DPS and IoT Hub alike) put in an error body and how they write times,
// e.g. the hub's 404103 for a method to an offline device:
// {"errorCode":404103,"trackingId":"…","message":"Timed out waiting for device to connect.","timestampUtc":"…"}.
import { randomUUID } from "node:crypto";

/** Azure writes UTC times with seven fractional digits (.NET ticks), e.g. 2019-06-17T14:25:14.7183582Z. */
export function azureTimestamp(date: Date): string {
  return date.toISOString().replace("Z", "0000Z");
}

export interface ErrorBody {
  errorCode: number;
  trackingId: string;
  message: string;
  timestampUtc: string;
}

export function errorBody(errorCode: number, message: string, now: Date): ErrorBody {
  return { errorCode, trackingId: randomUUID(), message, timestampUtc: azureTimestamp(now) };
}

