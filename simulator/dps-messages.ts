// DPS topics and JSON bodies as PROTOCOL.md §2 describes them, shaped like the service's own
// (RegistrationOperationStatus, DeviceRegistrationResult, error bodies). Pure functions.
import { randomBytes, randomUUID } from "node:crypto";


export const DPS_RESPONSE_FILTER = "$dps/registrations/res/#";
const REGISTER_PREFIX = "$dps/registrations/PUT/iotdps-register/?";
const POLL_PREFIX = "$dps/registrations/GET/iotdps-get-operationstatus/?";

export type DpsRequest = { kind: "register"; rid: string } | { kind: "poll"; rid: string; operationId: string };

/** Reads a request topic; undefined for anything DPS does not serve (or a request without `$rid`). */
export function parseDpsRequestTopic(topic: string): DpsRequest | undefined {
  const prefix = topic.startsWith(REGISTER_PREFIX) ? REGISTER_PREFIX : topic.startsWith(POLL_PREFIX) ? POLL_PREFIX : "";
  if (!prefix) return undefined;
  const query = new URLSearchParams(topic.slice(prefix.length));
  const rid = query.get("$rid");
  if (!rid) return undefined;
  if (prefix === REGISTER_PREFIX) return { kind: "register", rid };
  const operationId = query.get("operationId");
  return operationId ? { kind: "poll", rid, operationId } : undefined;
}

/** `$dps/registrations/res/{status}/?$rid={rid}[&retry-after={seconds}]` */
export function responseTopic(status: number, rid: string, retryAfterSeconds: number | "omit"): string {
  const retryAfter = retryAfterSeconds === "omit" ? "" : `&retry-after=${retryAfterSeconds}`;
  return `$dps/registrations/res/${status}/?$rid=${rid}${retryAfter}`;
}

/** Shaped like Azure's: `{version}.{16 hex}.{uuid}`. */
export function newOperationId(): string {
  return `4.${randomBytes(8).toString("hex")}.${randomUUID()}`;
}

/** Azure's registration etags are base64 of a quoted id. */
export function newEtag(): string {
  return Buffer.from(`"${randomUUID()}"`, "utf8").toString("base64");
}

/** DeviceRegistrationResult; optional members are left out, not null, as the service does. */
export interface RegistrationState {
  registrationId: string;
  createdDateTimeUtc: string;
  assignedHub?: string;
  deviceId?: string;
  status: "assigned" | "failed" | "disabled";
  substatus?: "initialAssignment";
  errorCode?: number;
  errorMessage?: string;
  lastUpdatedDateTimeUtc: string;
  etag: string;
  payload?: unknown;
}

export interface RegistrationOperationStatus {
  operationId: string;
  status: "assigning" | "assigned" | "failed" | "disabled";
  registrationState?: RegistrationState;
}
