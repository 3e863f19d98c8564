// One error factory for the whole library. Espruino breaks Error subclasses (no `.name`, lost
// `.message`, not `instanceof Error`), so every error is a plain Error carrying a stable `code`.
// Codes are SCREAMING_SNAKE strings, never renamed once shipped; README.md lists them with meanings.
// Messages name what was wrong and never contain keys, signatures or passwords.

/** Every code the library gives (README.md's "Errors" says what each means). A type only: nothing
 * of it reaches a device. test/core/error-codes.test.ts keeps it complete. */
export type LiteErrorCode =
  | "ARGUMENT_INVALID" | "KEY_INVALID" | "REGISTRATION_ID_INVALID" | "DEVICE_ID_INVALID" | "MODULE_ID_INVALID"
  | "CONNECTION_STRING_MALFORMED" | "CONNECTION_STRING_MISSING_PART" | "CONNECTION_STRING_DUPLICATE_PART"
  | "CONNECTION_STRING_EMPTY_PART" | "CONNECTION_STRING_UNKNOWN_PART" | "CONNECTION_STRING_CREDENTIAL"
  | "CLOCK_NOT_SET" | "BASE64_INVALID" | "URL_ENCODING_INVALID" | "UTF8_INVALID" | "CRYPTO_UNAVAILABLE"
  | "MQTT_BAD_TYPE" | "MQTT_BAD_FLAGS" | "MQTT_BAD_LENGTH" | "MQTT_TRUNCATED" | "MQTT_LENGTH_MISMATCH" | "MQTT_BAD_QOS"
  | "MQTT_BAD_PACKET_ID" | "MQTT_BAD_RETURN_CODE" | "MQTT_BAD_PROTOCOL" | "MQTT_BAD_TOPIC" | "MQTT_TOO_LARGE"
  | "MQTT_BAD_ARGUMENT" | "MQTT_BAD_CLIENT_ID" | "MQTT_FIELD_TOO_LONG" | "MQTT_PROTOCOL_ERROR"
  | "CONNECT_REFUSED_PROTOCOL" | "CONNECT_REFUSED_IDENTIFIER" | "CONNECT_REFUSED_UNAVAILABLE"
  | "CONNECT_REFUSED_BAD_CREDENTIALS" | "CONNECT_REFUSED_NOT_AUTHORIZED"
  | "CONNACK_TIMEOUT" | "SUBACK_TIMEOUT" | "PUBACK_TIMEOUT" | "PINGRESP_TIMEOUT" | "CONNECT_TIMEOUT"
  | "CONNECTION_LOST" | "CONNECTION_REFUSED" | "HOST_NOT_FOUND" | "SOCKET_ERROR" | "TLS_FAILED"
  | "TLS_CERTIFICATE_INVALID" | "TLS_CONFIG_INVALID" | "SUBSCRIBE_REFUSED"
  | "QUEUE_FULL" | "NOT_CONNECTED" | "ALREADY_CONNECTED" | "BUSY"
  | "DPS_UNAUTHORIZED" | "DPS_FORBIDDEN" | "DPS_NOT_FOUND" | "DPS_BAD_REQUEST" | "DPS_PRECONDITION_FAILED"
  | "DPS_THROTTLED" | "DPS_SERVICE_ERROR" | "DPS_UNEXPECTED_STATUS" | "DPS_FAILED" | "DPS_DISABLED"
  | "DPS_TIMEOUT" | "DPS_BAD_RESPONSE" | "CANCELLED" | "DPS_NO_MEMORY"
  | "TWIN_BAD_REQUEST" | "TWIN_THROTTLED" | "TWIN_SERVICE_ERROR" | "TWIN_UNEXPECTED_STATUS" | "TWIN_TIMEOUT" | "TWIN_BAD_RESPONSE"
  | "MESSAGE_TOO_LARGE" | "PROPERTY_INVALID" | "CLIENT_CLOSED" | "REPROVISIONED" | "SAS_RENEWAL" | "SAS_EXPIRED"
  | "HANDLER_FAILED" | "UNEXPECTED_TOPIC" | "HUB_BAD_MESSAGE" | "REPROVISION_FAILED" | "MODULE_MISMATCH" | "MODULE_MISSING";

export interface LiteError extends Error {
  /** A LiteErrorCode for the library's own errors; a hook given to it (reprovisioning, a
   * platform) may fail with any code of its own, which is passed on. */
  code: LiteErrorCode | (string & {});
  /** Azure/HTTP-like status when the service sent one (DPS 4xx/5xx, twin 400, ...). */
  status?: number;
  /** True when retrying the same request may succeed (throttling, 5xx, timeouts, dropped links). */
  retryable?: boolean;
  /** Service error code (DPS `errorCode`, e.g. 401002) when the service sent one. */
  errorCode?: number | string;
  /** Seconds the service asked to wait before retrying, when it said. */
  retryAfterSeconds?: number;
}

export interface LiteErrorDetails {
  status?: number;
  retryable?: boolean;
  errorCode?: number | string;
  retryAfterSeconds?: number;
}

export function liteError(code: string, message: string, details?: LiteErrorDetails): LiteError {
  return withDetails(new Error(message) as LiteError, code, details);
}

/** Sets `code` and the details given on `error` (the Espruino module makes its errors otherwise:
 * platform-espruino/native-errors.ts). */
export function withDetails(error: LiteError, code: string, details?: LiteErrorDetails): LiteError {
  error.code = code;
  if (details) {
    if (details.status !== undefined) error.status = details.status;
    if (details.retryable !== undefined) error.retryable = details.retryable;
    if (details.errorCode !== undefined) error.errorCode = details.errorCode;
    if (details.retryAfterSeconds !== undefined) error.retryAfterSeconds = details.retryAfterSeconds;
  }
  return error;
}

/** The text of something thrown, for a message: its `message`, else String() of it, else (an
 * object with no prototype, or whose toString throws) a fixed text. It runs where a throw would
 * escape into a socket's or a timer's callback, or leave a promise rejected with no one to hear. */
export function textOf(value: unknown): string {
  try {
    return String((value && (value as Error).message) || value);
  } catch {
    return "a value with no text";
  }
}

/** True for errors made by liteError (or anything else carrying a string `code`). */
export function isLiteError(value: unknown): value is LiteError {
  return typeof value === "object" && value !== null && typeof (value as LiteError).code === "string";
}
