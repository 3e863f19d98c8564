// JSON in and out. toJson: JSON.stringify, with undefined sent as null. parseJson: an incoming
// payload (strict UTF-8) parsed. The Espruino module replaces this file with
// platform-espruino/native-json.ts, which also makes the ESP32 firmware's JSON keep text as UTF-8
// bytes both ways.
import { utf8Decode } from "./utf8";

export function toJson(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

/** Parses a JSON payload: throws UTF8_INVALID for bad UTF-8, and JSON.parse's error for bad JSON. */
export function parseJson(payload: Uint8Array): any {
  return JSON.parse(utf8Decode(payload, 0, payload.length));
}
