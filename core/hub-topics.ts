// IoT Hub's device topics as pure functions (PROTOCOL.md 3): the topics a device publishes and
// subscribes to, property bags, and the reading of what arrives into typed records.
import { liteError } from "./errors";
import { parseParams, type Params } from "./params";
import type { HubIdentity } from "./identity";
import { urlEncode } from "./url";

/** Topic filters and prefixes (a const enum: inlined, no variables on a device). */
export const enum HubTopic {
  TwinResponses = "$iothub/twin/res/#",
  Desired = "$iothub/twin/PATCH/properties/desired/#",
  Methods = "$iothub/methods/POST/#",
  TwinResponsePrefix = "$iothub/twin/res/",
  DesiredPrefix = "$iothub/twin/PATCH/properties/desired/",
  MethodPrefix = "$iothub/methods/POST/",
}

/** MethodPrefix.length, which the minifier does not fold (the prefix would be written twice). */
export const enum HubTopicLength {
  MethodPrefix = 21,
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

// The topics the hub client uses once each (the C2D filter, a method response, reading a twin
// response) are written where they are used, and the property bags inside the two functions
// that need them: on a device each function here is variables held for as long as the hub
// module is loaded.

/** `devices/{id}` or `devices/{id}/modules/{moduleId}`. */
export function identityPath(identity: HubIdentity): string {
  return "devices/" + identity.deviceId + (identity.moduleId === undefined ? "" : "/modules/" + identity.moduleId);
}

/**
 * `devices/{id}/messages/events/{bag}`: application properties then system properties, each key
 * and value URL-encoded. Application keys may not start with `$.` (reserved for the system).
 */
export function telemetryTopic(identity: HubIdentity, properties?: Params, system?: SystemProperties): string {
  const pairs: string[] = [];
  if (properties) {
    for (const key in properties) {
      const value = properties[key];
      if (!key || key.indexOf("$.") === 0 || typeof value !== "string") {
        throw liteError("PROPERTY_INVALID", "bad property " + JSON.stringify(key));
      }
      pairs.push(key, value);
    }
  }
  if (system) {
    const keys = systemKeys();
    for (let i = 0; i < keys.length; i += 2) {
      const value = (system as { [field: string]: string | undefined })[keys[i]];
      if (value !== undefined) pairs.push(keys[i + 1], String(value));
    }
  }
  // `key=value&...`, each URL-encoded, in order.
  let bag = "";
  for (let i = 0; i < pairs.length; i += 2) bag += (i ? "&" : "") + urlEncode(pairs[i]) + "=" + urlEncode(pairs[i + 1]);
  return identityPath(identity) + "/messages/events/" + bag;
}

export function twinGetTopic(rid: string): string {
  return "$iothub/twin/GET/?$rid=" + rid;
}

export function twinPatchTopic(rid: string): string {
  return "$iothub/twin/PATCH/properties/reported/?$rid=" + rid;
}

export interface BagMessage {
  properties: Params;
  systemProperties: SystemProperties;
}

/** The property bag of a cloud-to-device topic, split into application properties and known
 * system properties; undefined for another topic. */
export function readC2dTopic(identity: HubIdentity, topic: string): BagMessage | undefined {
  const prefix = identityPath(identity) + "/messages/devicebound/";
  if (topic.indexOf(prefix) !== 0) return undefined;
  const params = parseParams(topic.substring(prefix.length));
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
