// UTF-8 of our own for JavaScript's UTF-16 strings (no TextEncoder/TextDecoder is assumed).
// Strict both ways (RFC 3629): a lone surrogate cannot be encoded, and ill-formed bytes
// (overlong forms, encoded surrogates, > U+10FFFF, truncation) are refused rather than replaced,
// because MQTT 3.1.1 (1.5.3) requires closing on them. The Espruino module replaces this file
// with platform-espruino/native-utf8.ts (the firmware holds text as bytes), which shares the
// validation below.
import { liteError } from "./errors";
import { native } from "./native";

function loneSurrogate(index: number) {
  return liteError("UTF8_INVALID", "lone surrogate at " + index);
}

/** Bytes needed to encode `text` as UTF-8. Throws UTF8_INVALID on a lone surrogate. */
export function utf8Length(text: string): number {
  if (native.utf8Length) {
    const nativeLength = native.utf8Length(text);
    if (nativeLength >= 0) return nativeLength;
  }
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (unit >= 0xd800 && unit <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) throw loneSurrogate(i);
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}

/** Writes `text` as UTF-8 into `out` at `offset`; returns the offset after it. The caller has
 * sized `out` with utf8Length, which also rejected lone surrogates. */
export function utf8Write(text: string, out: Uint8Array, offset: number): number {
  if (native.utf8Write) return offset + native.utf8Write(text, out, offset);
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      out[offset++] = code;
      continue;
    }
    if (code < 0x800) {
      out[offset++] = 0xc0 | (code >> 6);
    } else {
      if (code >= 0xd800 && code <= 0xdbff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
        out[offset++] = 0xf0 | (code >> 18);
        out[offset++] = 0x80 | ((code >> 12) & 0x3f);
      } else {
        out[offset++] = 0xe0 | (code >> 12);
      }
      out[offset++] = 0x80 | ((code >> 6) & 0x3f);
    }
    out[offset++] = 0x80 | (code & 0x3f);
  }
  return offset;
}

export function utf8Encode(text: string): Uint8Array {
  const out = new Uint8Array(utf8Length(text));
  utf8Write(text, out, 0);
  return out;
}

// String.fromCharCode.apply takes at most 256 arguments on Espruino, so text is built in chunks.
const enum Chunk {
  Units = 256,
}

function illFormed(offset: number) {
  return liteError("UTF8_INVALID", "bad UTF-8 at byte " + offset);
}

/**
 * Checks that bytes[start, end) are well-formed UTF-8, and with `forbidNul` free of U+0000 (MQTT
 * strings may not contain it); throws UTF8_INVALID where they are not. Returns true when they are
 * all ASCII. Runtimes whose strings hold the bytes themselves need nothing more (Espruino).
 */
export function utf8Validate(bytes: Uint8Array, start: number, end: number, forbidNul?: boolean): boolean {
  let ascii = true;
  let i = start;
  while (i < end) {
    const at = i;
    const lead = bytes[i++];
    if (lead < 0x80) {
      if (lead === 0 && forbidNul) throw liteError("UTF8_INVALID", "U+0000 at byte " + at);
      continue;
    }
    ascii = false;
    let count: number;
    let code: number;
    let min: number;
    if (lead >= 0xc2 && lead <= 0xdf) { count = 1; code = lead & 0x1f; min = 0x80; }
    else if (lead >= 0xe0 && lead <= 0xef) { count = 2; code = lead & 0x0f; min = 0x800; }
    else if (lead >= 0xf0 && lead <= 0xf4) { count = 3; code = lead & 0x07; min = 0x10000; }
    else throw illFormed(at);
    if (i + count > end) throw illFormed(at);
    for (let k = 0; k < count; k++) {
      const next = bytes[i++];
      if ((next & 0xc0) !== 0x80) throw illFormed(at);
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw illFormed(at);
  }
  return ascii;
}

/**
 * Decodes bytes[start, end) as UTF-8: validated first (utf8Validate, same errors), so the
 * decoding itself only reads what each lead byte announces.
 */
export function utf8Decode(bytes: Uint8Array, start: number, end: number, forbidNul?: boolean): string {
  if (utf8Validate(bytes, start, end, forbidNul)) return bytesToString(bytes, start, end);
  let text = "";
  let units: number[] = [];
  let i = start;
  while (i < end) {
    const lead = bytes[i++];
    const count = lead < 0x80 ? 0 : lead < 0xe0 ? 1 : lead < 0xf0 ? 2 : 3;
    let code = count ? lead & (0x3f >> count) : lead;
    for (let k = 0; k < count; k++) code = (code << 6) | (bytes[i++] & 0x3f);
    if (code >= 0x10000) {
      code -= 0x10000;
      units.push(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff));
    } else units.push(code);
    if (units.length >= Chunk.Units - 1) {
      text += String.fromCharCode.apply(null, units);
      units = [];
    }
  }
  return text + String.fromCharCode.apply(null, units);
}

/** One char per byte, natively when the platform can. */
function bytesToString(bytes: Uint8Array, start: number, end: number): string {
  if (native.latin1) return native.latin1(bytes, start, end);
  let text = "";
  for (let at = start; at < end; at += Chunk.Units) {
    text += String.fromCharCode.apply(null, bytes.subarray(at, Math.min(end, at + Chunk.Units)) as unknown as number[]);
  }
  return text;
}
