// Node's fast paths for the core (see core/native.ts): Buffer's native text routines, which work
// on any Uint8Array, and a slab allocator like Buffer's own pool, because a fresh Uint8Array costs
// about 1 us on V8 while a view on a shared ArrayBuffer costs about 50 ns.
import { installNative, type NativePaths } from "../core/native";

const utf8WriteNative = Buffer.prototype.utf8Write as (this: Uint8Array, text: string, offset: number, length: number) => number;
const latin1SliceNative = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;
const SURROGATE = /[\ud800-\udfff]/;

// Packets up to SLAB_MAX bytes are carved from 64 KB slabs; a slab is freed when no packet
// carved from it is referenced any more. Slabs are never reused, so no packet can see another's
// bytes.
const SLAB_BYTES = 65536;
const SLAB_MAX = 4096;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabOffset = 0;

function allocate(size: number): Uint8Array {
  // Large packets skip the zero fill: every encoder and the decoder's gathering write every byte
  // of the buffers they allocate (the codec tests compare every byte with mqtt-packet's).
  if (size > SLAB_MAX) {
    const large = Buffer.allocUnsafeSlow(size);
    return new Uint8Array(large.buffer, large.byteOffset, size);
  }
  if (slabOffset + size > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabOffset = 0;
  }
  const bytes = new Uint8Array(slab, slabOffset, size);
  slabOffset = (slabOffset + size + 7) & ~7;
  return bytes;
}

export const nodeNativePaths: NativePaths = {
  latin1: (bytes, start, end) => latin1SliceNative.call(bytes, start, end),
  // Strings with any surrogate go to the core, which refuses lone ones (Buffer would silently
  // write U+FFFD for them).
  utf8Length: (text) => (SURROGATE.test(text) ? -1 : Buffer.byteLength(text, "utf8")),
  utf8Write: (text, out, offset) => utf8WriteNative.call(out, text, offset, out.length - offset),
  allocate,
};

export function installNodeNativePaths(): void {
  installNative(nodeNativePaths);
}
