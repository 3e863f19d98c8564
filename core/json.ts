// JSON text for what the library sends: JSON.stringify, with undefined sent as null. The Espruino
// module replaces this file with platform-espruino/native-json.ts, which also undoes what the
// ESP32 firmware's JSON.stringify does to UTF-8 bytes.
export function toJson(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}
