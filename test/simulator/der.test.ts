import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  bitString,
  explicit,
  implicitPrimitive,
  objectIdentifier,
  octetString,
  sequence,
  smallInteger,
  time,
  unsignedInteger,
} from "../../simulator/der";

const hex = (bytes: Buffer) => bytes.toString("hex");

test("lengths use the short form below 128 and the long form from 128", () => {
  assert.is(hex(octetString(Buffer.alloc(127))).slice(0, 4), "047f");
  assert.is(hex(octetString(Buffer.alloc(128))).slice(0, 6), "048180");
  assert.is(hex(octetString(Buffer.alloc(256))).slice(0, 8), "04820100");
});

test("object identifiers: first two arcs in one byte, the rest base-128", () => {
  // ecdsa-with-SHA256, as every X.509 dump shows it
  assert.is(hex(objectIdentifier("1.2.840.10045.4.3.2")), "06082a8648ce3d040302");
  assert.is(hex(objectIdentifier("2.5.29.19")), "0603551d13");
});

test("integers are minimal and stay positive", () => {
  assert.is(hex(smallInteger(2)), "020102");
  assert.is(hex(smallInteger(0)), "020100");
  assert.is(hex(unsignedInteger(Buffer.from([0x00, 0x00, 0x7f]))), "02017f");
  assert.is(hex(unsignedInteger(Buffer.from([0x80]))), "02020080");
});

test("times: UTCTime through 2049, GeneralizedTime from 2050", () => {
  assert.is(time(new Date("2049-12-31T23:59:59.999Z")).toString("latin1"), "\x17\x0d491231235959Z");
  assert.is(time(new Date("2050-01-01T00:00:00Z")).toString("latin1"), "\x18\x0f20500101000000Z");
});

test("bit strings, context tags and sequences", () => {
  assert.is(hex(bitString(Buffer.from([0x06]), 1)), "03020106");
  assert.is(hex(explicit(0, smallInteger(2))), "a003020102");
  assert.is(hex(implicitPrimitive(2, Buffer.from("a"))), "820161");
  assert.is(hex(sequence()), "3000");
});

test.run();
