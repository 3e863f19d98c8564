// The core files the DPS and hub modules share, built once into the main Espruino module. In
// the DPS and hub modules, imports of these files become the main module's globals (see build.mjs
// and build/espruino-globals.mjs), so each shared function exists once on the device.
export * from "../core/errors";
export * from "../core/native";
export * from "../core/utf8";
export * from "../core/url";
export * from "../core/params";
export * from "../core/json";
export * from "../core/retry";
export * from "../core/crypto";
export * from "../core/base64";
export * from "../core/sas";
export * from "../core/identity";
export * from "../core/mqtt-encode";
export * from "../core/mqtt-decode";
export * from "../core/session";
export * from "../core/driver";
