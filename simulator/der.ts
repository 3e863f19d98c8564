// The handful of DER (ITU-T X.690) encodings an X.509 v3 certificate needs, written by hand so the
// simulator can mint its throw-away CA with nothing but node:crypto: no openssl CLI, no npm package.
// Every function returns one complete TLV (tag, length, value).

const TAG_BOOLEAN = 0x01;
const TAG_INTEGER = 0x02;
const TAG_BIT_STRING = 0x03;
const TAG_OCTET_STRING = 0x04;
const TAG_OID = 0x06;
const TAG_UTF8_STRING = 0x0c;
const TAG_SEQUENCE = 0x30;
const TAG_SET = 0x31;
const TAG_UTC_TIME = 0x17;
const TAG_GENERALIZED_TIME = 0x18;
const CLASS_CONTEXT = 0x80;
const CONSTRUCTED = 0x20;

/** Definite-length form: short (one byte) below 128, else 0x80 | count followed by big-endian bytes. */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}

export function sequence(...items: Buffer[]): Buffer {
  return tlv(TAG_SEQUENCE, Buffer.concat(items));
}

/** A SET OF; DER wants its members sorted, so callers pass a single member (all we need for names). */
export function set(item: Buffer): Buffer {
  return tlv(TAG_SET, item);
}

export function booleanTrue(): Buffer {
  return tlv(TAG_BOOLEAN, Buffer.from([0xff]));
}

/** A non-negative INTEGER from its big-endian magnitude: minimal bytes, plus a 0x00 when the top bit is set. */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const value = trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return tlv(TAG_INTEGER, value.length === 0 ? Buffer.from([0]) : value);
}

export function smallInteger(value: number): Buffer {
  return unsignedInteger(Buffer.from([value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff]));
}

/** OBJECT IDENTIFIER from dotted form: the first two arcs share a byte (40 * a + b), the rest are base-128. */
export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const bytes: number[] = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const group: number[] = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) group.unshift(0x80 | (rest & 0x7f));
    bytes.push(...group);
  }
  return tlv(TAG_OID, Buffer.from(bytes));
}

export function utf8String(text: string): Buffer {
  return tlv(TAG_UTF8_STRING, Buffer.from(text, "utf8"));
}

export function octetString(bytes: Buffer): Buffer {
  return tlv(TAG_OCTET_STRING, bytes);
}

/** BIT STRING: the first content byte counts the unused low bits of the last byte. */
export function bitString(bytes: Buffer, unusedBits = 0): Buffer {
  return tlv(TAG_BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, both in whole seconds with `Z`. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "") + "Z";
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(TAG_UTC_TIME, Buffer.from(digits.slice(2), "ascii"));
  return tlv(TAG_GENERALIZED_TIME, Buffer.from(digits, "ascii"));
}

/** [n] EXPLICIT: a constructed context tag wrapping one complete TLV. */
export function explicit(tagNumber: number, inner: Buffer): Buffer {
  return tlv(CLASS_CONTEXT | CONSTRUCTED | tagNumber, inner);
}

/** [n] IMPLICIT over a primitive type: the context tag replaces the type's own tag. */
export function implicitPrimitive(tagNumber: number, value: Buffer): Buffer {
  return tlv(CLASS_CONTEXT | tagNumber, value);
}
