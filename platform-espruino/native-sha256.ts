// Stands in for core/sha256.ts in the Espruino module (see build.mjs). Every Espruino firmware
// that has TLS, which DPS and IoT Hub require, also has require("crypto").SHA256, and the
// platform hands that to the core's crypto seam; the pure SHA-256 (~1.5 KB and its JsVars) would
// never run there, so it stays out of the device's memory.
import { liteError } from "../core/errors";

export function sha256(): Uint8Array {
  throw liteError("CRYPTO_UNAVAILABLE", "this firmware has no require(\"crypto\").SHA256");
}
