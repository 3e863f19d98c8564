// azure-iot-mqtt-lite for Espruino: provision through DPS and live on IoT Hub from an ESP32.
// Installed as three Storage files (see README, "On an ESP32 with Espruino"); require() this one by name.
export { espruinoPlatform, type EspruinoPlatformOptions } from "./platform";
export { DpsClient, type DpsOptions, type DpsResult, type DpsStep } from "../core/dps";
export { HubClient, type C2dMessage, type MethodHandler, type MethodRequest, type MethodResponse, type TelemetryOptions, type Twin } from "../core/hub";
export type { HubOptions, HubWill } from "../core/hub-options";
export { connectViaDps } from "../core/connect-via-dps";
export type { Assignment, ViaDps, ViaDpsOptions } from "../core/hub-dps";
export { utf8Decode } from "../core/utf8";
export { parseJson } from "../core/json";
export { unload } from "./facade";
export type { LiteError } from "../core/errors";
