// Native fast paths a platform may install, process-wide, the way it supplies native crypto.
// The core's own code is the reference and the fallback; an installed path must give exactly the
// same results (tests run the codec both ways). Node installs Buffer's text routines and a slab
// allocator (a fresh Uint8Array costs ~1 us on V8, a view on a slab ~50 ns). (The Espruino
// module replaces whole files instead: see build.mjs.) Nothing here is required: with no path
// installed the core is complete on its own.

export interface NativePaths {
  /** bytes[start, end) as a string of one char per byte (only called for ASCII bytes). */
  latin1?: (bytes: Uint8Array, start: number, end: number) => string;
  /** UTF-8 byte length of `text`, or -1 when it contains any surrogate (the core then decides). */
  utf8Length?: (text: string) => number;
  /** Writes `text` (already accepted by utf8Length) as UTF-8 at out[offset]; returns bytes written. */
  utf8Write?: (text: string, out: Uint8Array, offset: number) => number;
  /** A Uint8Array of `size` bytes for an outgoing or gathered packet. Its contents may be left
   * over from earlier use: the codec writes every byte of what it allocates. */
  allocate?: (size: number) => Uint8Array;
}

export const native: NativePaths = {};

/** Installs (or, with undefined members, removes) native paths. */
export function installNative(paths: NativePaths): void {
  native.latin1 = paths.latin1;
  native.utf8Length = paths.utf8Length;
  native.utf8Write = paths.utf8Write;
  native.allocate = paths.allocate;
}

export function allocate(size: number): Uint8Array {
  return native.allocate ? native.allocate(size) : new Uint8Array(size);
}
