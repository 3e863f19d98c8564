// Native fast paths a platform may install, process-wide, the way it supplies native crypto.
// The core's own code is the reference and the fallback; an installed path must give exactly the
// same results (tests run the codec both ways). Node installs Buffer's text routines and a slab
// allocator (a fresh Uint8Array costs ~1 us on V8, a view on a slab ~50 ns); Espruino installs
// E.toString. Nothing here is required: with no path installed the core is complete on its own.

export interface NativePaths {
  /**
   * Strings hold bytes, one per char (0-255), as on Espruino builds without Unicode support
   * (the ESP32 firmware): text is then kept as its UTF-8 bytes, so encoding is a copy and
   * decoding validates the bytes and returns them as they are.
   */
  byteStrings?: boolean;
  /** bytes[start, end) as a string of one char per byte (only called for ASCII bytes). */
  latin1?: (bytes: Uint8Array, start: number, end: number) => string;
  /** UTF-8 byte length of `text`, or -1 when it contains any surrogate (the core then decides). */
  utf8Length?: (text: string) => number;
  /** Writes `text` (already accepted by utf8Length) as UTF-8 at out[offset]; returns bytes
   * written, or -1 to leave it to the core. */
  utf8Write?: (text: string, out: Uint8Array, offset: number) => number;
  /**
   * The text of bytes[start, end), which the core has checked is well-formed UTF-8, for runtimes
   * whose String.fromCharCode cannot make every character (Espruino with Unicode support).
   */
  utf8Text?: (bytes: Uint8Array, start: number, end: number) => string;
  /** A Uint8Array of `size` bytes for an outgoing or gathered packet. Its contents may be left
   * over from earlier use: the codec writes every byte of what it allocates. */
  allocate?: (size: number) => Uint8Array;
}

export const native: NativePaths = {};

/** Installs (or, with undefined members, removes) native paths. */
export function installNative(paths: NativePaths): void {
  native.byteStrings = paths.byteStrings;
  native.latin1 = paths.latin1;
  native.utf8Length = paths.utf8Length;
  native.utf8Write = paths.utf8Write;
  native.utf8Text = paths.utf8Text;
  native.allocate = paths.allocate;
}

export function allocate(size: number): Uint8Array {
  return native.allocate ? native.allocate(size) : new Uint8Array(size);
}
