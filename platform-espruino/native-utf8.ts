// Stands in for core/utf8.ts in the Espruino module (see build.mjs). The firmware holds text as
// bytes already (firmware.ts): on the ESP32 a string is its UTF-8 bytes, and on Unicode firmware
// E.toUint8Array gives the UTF-8 of a string held as characters. So encoding is the firmware's
// own copy, and decoding is the core's strict validation and then the bytes as a string, read as
// UTF-8 on Unicode firmware (String.fromCharCode keeps 8 bits there too, so the core's way of
// making text cannot be used).
import { utf8Validate } from "../core/utf8";
import { BYTE_STRINGS } from "./firmware";

export function utf8Encode(text: string): Uint8Array {
  return E.toUint8Array(text);
}

export function utf8Length(text: string): number {
  return BYTE_STRINGS ? text.length : E.toUint8Array(text).length;
}

export function utf8Write(text: string, out: Uint8Array, offset: number): number {
  // A short text (a topic, an id, a SAS token) is copied byte by byte on byte-string firmware:
  // E.toUint8Array would allocate a copy first, and the SUBSCRIBE a device sends at its
  // connection's memory peak is made of such texts. Longer ones (payloads) take the native copy,
  // faster than a loop in the interpreter.
  if (BYTE_STRINGS && text.length <= 256) {
    for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
    return offset + text.length;
  }
  const bytes = E.toUint8Array(text);
  out.set(bytes, offset);
  return offset + bytes.length;
}

export function utf8Decode(bytes: Uint8Array, start: number, end: number, forbidNul?: boolean): string {
  const ascii = utf8Validate(bytes, start, end, forbidNul);
  // A copy, made once: for one whole array E.toString hands back the array's own storage, and the
  // text would change with it (measured on 2v29); given a second (empty) part, it joins them anew.
  const text = start === end ? "" : E.toString(bytes.subarray(start, end), []);
  return ascii || BYTE_STRINGS ? text : E.asUTF8(text);
}
