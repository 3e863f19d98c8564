// IoT Hub's device topics as pure functions (PROTOCOL.md 3): the topics a device publishes and
// subscribes to, property bags, and the reading of what arrives into typed records.
import { liteError } from "./errors";
import { parseParams, parseStatusTopic, type Params, type StatusTopic } from "./params";
import type { HubIdentity } from "./identity";
import { urlEncode } from "./url";

/** URL-encodes keys and values into `key=value&...`, in insertion order (the property bags of
 * telemetry topics; here, not in params.ts, so only the hub module carries it on a device). */
export function formatParams(params: Params): string {
  let text = "";
  for (const key in params) {
    if (params[key] === undefined) continue;
    text += (text ? "&" : "") + urlEncode(key) + "=" + urlEncode(String(params[key]));
  }
  return text;
}

/** Topic filters and prefixes (a const enum: inlined, no variables on a device). */
export const enum HubTopic {
  TwinResponses = "$iothub/twin/res/#",
  Desired = "$iothub/twin/PATCH/properties/desired/#",
  Methods = "$iothub/methods/POST/#",
  TwinResponsePrefix = "$iothub/twin/res/",
  DesiredPrefix = "$iothub/twin/PATCH/properties/desired/",
  MethodPrefix = "$iothub/methods/POST/",
}

/** Message properties IoT Hub carries as `$.` system properties in a property bag. */
export interface SystemProperties {
  messageId?: string;
  correlationId?: string;
  contentType?: string;
  contentEncoding?: string;
  /** ISO 8601 creation time. */
  creationTime?: string;
  /** IoT Plug and Play component name. */
  component?: string;
  /** Cloud-to-device only: the destination (`$.to`) and expiry (`$.exp`), as the hub sends them. */
  to?: string;
  expiry?: string;
}

/** Our field names and the bag keys IoT Hub uses for them, in pairs. Made when used: a table kept
 * at the top level would be variables on a device for good. */
function systemKeys(): string[] {
  return "messageId $.mid correlationId $.cid contentType $.ct contentEncoding $.ce creationTime $.ctime component $.sub to $.to expiry $.exp".split(" ");
}

/** `devices/{id}` or `devices/{id}/modules/{moduleId}`. */
function identityPath(identity: HubIdentity): string {
  return "devices/" + identity.deviceId + (identity.moduleId === undefined ? "" : "/modules/" + identity.moduleId);
}

export function c2dFilter(identity: HubIdentity): string {
  return identityPath(identity) + "/messages/devicebound/#";
}

/**
 * `devices/{id}/messages/events/{bag}`: application properties then system properties, each key
 * and value URL-encoded. Application keys may not start with `$.` (reserved for the system).
 */
export function telemetryTopic(identity: HubIdentity, properties?: Params, system?: SystemProperties): string {
  const bag: Params = {};
  if (properties) {
    for (const key in properties) {
      const value = properties[key];
      if (!key || key.indexOf("$.") === 0 || typeof value !== "string") {
        throw liteError("PROPERTY_INVALID", "bad property " + JSON.stringify(key));
      }
      bag[key] = value;
    }
  }
  if (system) {
    const keys = systemKeys();
    for (let i = 0; i < keys.length; i += 2) {
      const value = (system as { [field: string]: string | undefined })[keys[i]];
      if (value !== undefined) bag[keys[i + 1]] = value;
    }
  }
  return identityPath(identity) + "/messages/events/" + formatParams(bag);
}

export function twinGetTopic(rid: string): string {
  return "$iothub/twin/GET/?$rid=" + rid;
}

export function twinPatchTopic(rid: string): string {
  return "$iothub/twin/PATCH/properties/reported/?$rid=" + rid;
}

export function methodResponseTopic(status: number, rid: string): string {
  return "$iothub/methods/res/" + status + "/?$rid=" + rid;
}

export interface BagMessage {
  properties: Params;
  systemProperties: SystemProperties;
}

/** Splits a property bag into application properties and known system properties. */
export function readPropertyBag(bag: string): BagMessage {
  const params = parseParams(bag);
  const properties: Params = {};
  const systemProperties: { [field: string]: string } = {};
  const keys = systemKeys();
  for (const key in params) {
    const at = key.indexOf("$.") === 0 ? keys.indexOf(key) : -1;
    if (at > 0) systemProperties[keys[at - 1]] = params[key];
    else properties[key] = params[key];
  }
  return { properties, systemProperties };
}

/** The property bag of a cloud-to-device topic, or undefined for another topic. */
export function readC2dTopic(identity: HubIdentity, topic: string): BagMessage | undefined {
  const prefix = identityPath(identity) + "/messages/devicebound/";
  return topic.indexOf(prefix) === 0 ? readPropertyBag(topic.substring(prefix.length)) : undefined;
}

/** `$iothub/twin/res/{status}/?$rid=..[&$version=..]`, or undefined for another topic. */
export function readTwinResponseTopic(topic: string): StatusTopic | undefined {
  return parseStatusTopic(topic, HubTopic.TwinResponsePrefix);
}

/** The `$version` of a desired-properties notification, or undefined for another topic. */
export function readDesiredTopic(topic: string): number | undefined {
  if (topic.indexOf(HubTopic.DesiredPrefix) !== 0) return undefined;
  const query = topic.substring(HubTopic.DesiredPrefix.length);
  const version = parseInt(parseParams(query.charAt(0) === "?" ? query.substring(1) : query)["$version"], 10);
  if (!(version >= 0)) throw liteError("MQTT_BAD_TOPIC", "no $version in " + topic);
  return version;
}

/** `$iothub/methods/POST/{name}/?$rid={rid}` as {name, rid}, or undefined for another topic. */
export function readMethodTopic(topic: string): { name: string; rid: string } | undefined {
  if (topic.indexOf(HubTopic.MethodPrefix) !== 0) return undefined;
  const rest = topic.substring(HubTopic.MethodPrefix.length);
  const end = rest.indexOf("/?");
  const rid = end > 0 ? parseParams(rest.substring(end + 2))["$rid"] : undefined;
  if (!rid) throw liteError("MQTT_BAD_TOPIC", "bad method topic " + topic);
  return { name: rest.substring(0, end), rid };
}
