// The few Espruino globals the adapter uses (https://www.espruino.com/Reference).
declare const E: {
  /** Bytes of a byte string (native, any size). */
  toUint8Array(text: string): Uint8Array;
  /** A byte string of the bytes of its arguments (arrays, typed arrays, strings), joined in one
   * new string; one typed array alone may come back as its own storage, not a copy. */
  toString(...parts: (Uint8Array | unknown[] | string)[]): string;
  /** Unicode firmware: the string, read as UTF-8 (throws on firmware without Unicode support). */
  asUTF8(bytes: string): string;
  /** 32 random bits from the hardware. */
  hwRand(): number;
  /** Compacts memory so free JsVars are contiguous again (absent from some slim firmware builds). */
  defrag?(): void;
};
declare function require(name: string): any;
declare function atob(base64: string): string;
declare function btoa(binary: string): string;
declare function setTimeout(fire: () => void, ms: number): unknown;
declare function clearTimeout(handle: unknown): void;
declare const module: { exports: unknown };
declare const Modules: {
  /** Forgets a loaded module, freeing its JsVars; require() loads it again. */
  removeCached(name: string): void;
};
