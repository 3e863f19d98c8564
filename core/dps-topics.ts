// DPS over MQTT as pure functions (PROTOCOL.md 2): the topics a device publishes to, and the
// reading of a response topic and body into a typed record. No state, no IO.
import { liteError, type LiteError } from "./errors";
import { parseStatusTopic } from "./params";
import { urlEncode } from "./url";
import { parseJson } from "./json";

/** The response filter and prefix (a const enum: inlined, no variables on a device). */
export const enum DpsTopic {
  Responses = "$dps/registrations/res/#",
  ResponsePrefix = "$dps/registrations/res/",
}

export function dpsRegisterTopic(rid: string): string {
  return "$dps/registrations/PUT/iotdps-register/?$rid=" + rid;
}

export function dpsPollTopic(rid: string, operationId: string): string {
  return "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=" + rid + "&operationId=" + urlEncode(operationId);
}

/** DeviceRegistrationResult, as DPS returns it in `registrationState`. */
export interface DpsRegistrationState {
  registrationId?: string;
  createdDateTimeUtc?: string;
  assignedHub?: string;
  deviceId?: string;
  status?: string;
  substatus?: string;
  errorCode?: number;
  errorMessage?: string;
  lastUpdatedDateTimeUtc?: string;
  etag?: string;
  payload?: unknown;
}

export interface DpsResponse {
  status: number;
  rid: string;
  /** From the topic's retry-after, in seconds, when present. */
  retryAfterSeconds?: number;
  /** The parsed JSON body (RegistrationOperationStatus, or an error body for 4xx/5xx). */
  body: {
    operationId?: string;
    status?: string;
    registrationState?: DpsRegistrationState;
    errorCode?: number;
    message?: string;
    trackingId?: string;
  };
}

function badResponse(message: string): LiteError {
  return liteError("DPS_BAD_RESPONSE", message);
}

/**
 * Reads a message from DPS. Undefined for a topic that is not a DPS response; throws
 * DPS_BAD_RESPONSE for a response that cannot be read.
 */
/** Throws DPS_BAD_RESPONSE unless each field named in `fields` ("name types name types ...", a
 * type by its first letter: s string, n number) is absent, null, or of one of its types. */
function checkTypes(object: { [key: string]: unknown }, fields: string): void {
  const list = fields.split(" ");
  for (let i = 0; i < list.length; i += 2) {
    const value = object[list[i]];
    if (value != null && list[i + 1].indexOf((typeof value).charAt(0)) < 0) throw badResponse("DPS response with a bad " + list[i]);
  }
}

export function parseDpsResponse(topic: string, payload: Uint8Array): DpsResponse | undefined {
  let parsed;
  try {
    parsed = parseStatusTopic(topic, DpsTopic.ResponsePrefix);
  } catch (error) {
    throw badResponse("unreadable DPS response topic");
  }
  if (!parsed) return undefined;
  const rid = parsed.params["$rid"];
  if (!rid) throw badResponse("DPS response without $rid");
  const retryAfter = parsed.params["retry-after"];
  let body: DpsResponse["body"] = {};
  if (payload.length) {
    try {
      body = parseJson(payload);
    } catch (error) {
      throw badResponse("DPS response body is not JSON (status " + parsed.status + ")");
    }
    if (typeof body !== "object" || body === null) throw badResponse("DPS response body is not an object");
    // What is later built into text or a topic must be what DPS sends: an object there would run
    // its own toString (or throw where no one catches it).
    checkTypes(body as { [key: string]: unknown }, "operationId s message s errorCode ns");
    const state = body.registrationState;
    if (state) checkTypes(state as { [key: string]: unknown }, "assignedHub s deviceId s errorMessage s errorCode ns");
  }
  const response: DpsResponse = { status: parsed.status, rid, body };
  if (retryAfter !== undefined) {
    const seconds = parseInt(retryAfter, 10);
    if (seconds >= 0) response.retryAfterSeconds = seconds;
  }
  return response;
}

/** The typed error for a 4xx/5xx DPS response; `retryable` for 429 and 5xx. */
export function dpsStatusError(response: DpsResponse): LiteError {
  const status = response.status;
  // Status codes that end the flow, each with its own stable code (PROTOCOL.md 2: 401/403/404 are
  // not retriable with the same credentials; 429 and 5xx are transient). Made here, when a
  // provisioning fails, not held at module level for as long as the module is loaded.
  const codes: { [status: number]: string } = {
    400: "DPS_BAD_REQUEST",
    401: "DPS_UNAUTHORIZED",
    403: "DPS_FORBIDDEN",
    404: "DPS_NOT_FOUND",
    412: "DPS_PRECONDITION_FAILED",
    429: "DPS_THROTTLED",
  };
  const code = codes[status] || (status >= 500 ? "DPS_SERVICE_ERROR" : "DPS_UNEXPECTED_STATUS");
  const body = response.body;
  let message = "DPS answered " + status;
  if (body.errorCode) message += " (" + body.errorCode + ")";
  if (body.message) message += ": " + body.message;
  return liteError(code, message, {
    status,
    errorCode: body.errorCode,
    retryable: status === 429 || status >= 500,
    retryAfterSeconds: response.retryAfterSeconds,
  });
}
