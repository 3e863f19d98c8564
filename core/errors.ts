// One error factory for the whole library. Espruino breaks Error subclasses (no `.name`, lost
// `.message`, not `instanceof Error`), so every error is a plain Error carrying a stable `code`.
// Codes are SCREAMING_SNAKE strings, never renamed once shipped; README.md lists them with meanings.
// Messages name what was wrong and never contain keys, signatures or passwords.

export interface LiteError extends Error {
  code: string;
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
  const error = new Error(message) as LiteError;
  error.code = code;
  if (details) {
    if (details.status !== undefined) error.status = details.status;
    if (details.retryable !== undefined) error.retryable = details.retryable;
    if (details.errorCode !== undefined) error.errorCode = details.errorCode;
    if (details.retryAfterSeconds !== undefined) error.retryAfterSeconds = details.retryAfterSeconds;
  }
  return error;
}

/** True for errors made by liteError (or anything else carrying a string `code`). */
export function isLiteError(value: unknown): value is LiteError {
  return typeof value === "object" && value !== null && typeof (value as LiteError).code === "string";
}
