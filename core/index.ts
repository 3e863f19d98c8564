// azure-iot-mqtt-lite/core: the platform-free library. Bring a Platform (platform-node,
// platform-espruino, or your own) and use DpsClient and, after it, the hub client.
export { liteError, isLiteError, type LiteError, type LiteErrorDetails } from "./errors";
export type { Platform, PlatformSocket, SocketHandlers, SocketTarget, TlsOptions } from "./platform";
export type { CryptoProvider } from "./crypto";
export { installNative, type NativePaths } from "./native";
export { DpsClient, DPS_GLOBAL_HOST, type DpsOptions, type DpsResult, type DpsStep } from "./dps";
export { parseConnectionString, type ConnectionString } from "./connection-string";
export { deriveDeviceKey, sasExpiry, sasStringToSign, sasToken, sasTokenFromSignature } from "./sas";
export { dpsResourceUri, dpsSasToken, dpsUsername } from "./dps-credentials";
export { hubClientId, hubResourceUri, hubSasToken, hubUsername } from "./hub-credentials";
export type { DpsIdentity, HubIdentity } from "./identity";
export { MqttSession, type SessionEvent, type SessionOptions } from "./session";
export { SessionDriver, type DriverOptions } from "./driver";
export { MqttDecoder, type DecoderOptions } from "./mqtt-decode";
export { encodeConnect, encodePublish, encodePuback, encodeSubscribe, encodeUnsubscribe, encodePingreq, encodeDisconnect } from "./mqtt-encode";
export type { MqttPacket, ConnectPacket, ConnackPacket, PublishPacket, SubscribePacket, SubackPacket, UnsubscribePacket, AckPacket, QoS, Subscription, WillMessage } from "./mqtt-packets";
export { sha256 } from "./sha256";
export { hmacSha256 } from "./crypto";
export { base64Encode, base64Decode } from "./base64";
export { urlEncode, urlDecode } from "./url";
export { utf8Encode, utf8Decode } from "./utf8";
export { parseJson, toJson } from "./json";
export { HubClient, type C2dMessage, type MethodHandler, type MethodRequest, type MethodResponse, type TelemetryOptions, type Twin } from "./hub";
export type { HubOptions, HubWill } from "./hub-options";
export type { SystemProperties } from "./hub-topics";
export { connectProvisioned, hubOptionsFromDps, type Assignment, type Provisioner, type Provisioning, type ViaDps, type ViaDpsOptions } from "./hub-dps";
export { connectViaDps } from "./connect-via-dps";
export { deviceKeyFor } from "./sas";
