// JSON in and out. toJson: JSON.stringify, with undefined sent as null. parseJson: an incoming
// payload (strict UTF-8) parsed. The Espruino module replaces this file with
// platform-espruino/native-json.ts, which also makes the ESP32 firmware's JSON keep text as UTF-8
// bytes both ways.
import { liteError } from "./errors";
import { utf8Decode } from "./utf8";

/** JSON text of `value`; ARGUMENT_INVALID for what JSON cannot carry (a cycle, a BigInt, a function, binary data). */
export function toJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (error) {
    throw liteError("ARGUMENT_INVALID", "not JSON: " + (error as Error).message);
  }
  // Binary (an ArrayBuffer, a DataView, a typed array) stringifies to {} or an object of
  // indexes: the data lost or garbled, and sent as if it were the value meant.
  if (value instanceof ArrayBuffer || (value && (value as DataView).buffer instanceof ArrayBuffer)) throw liteError("ARGUMENT_INVALID", "not JSON: binary data (give a Uint8Array)");
  if (typeof text !== "string") throw liteError("ARGUMENT_INVALID", "not JSON: a " + typeof value);
  return text;
}

/** Parses a JSON payload: throws UTF8_INVALID for bad UTF-8, and JSON.parse's error for bad JSON. */
export function parseJson(payload: Uint8Array): any {
  return JSON.parse(utf8Decode(payload, 0, payload.length));
}
