// IoT Hub's device-side topics and filters (PROTOCOL.md §3, Azure's "Communicate with an IoT hub
// using MQTT"), read relative to the identity that is connected: device ids may hold `$ ? = % ( )`,
// so topics are matched against the known id rather than picked apart with a pattern. Pure functions.

/** What a subscription filter is for; undefined = not a filter the hub supports (SUBACK 0x80). */
export type SubscriptionKind = "c2d" | "twin-responses" | "twin-desired" | "methods" | "module-inbound";

export const TWIN_RESPONSE_FILTER = "$iothub/twin/res/#";
export const TWIN_DESIRED_FILTER = "$iothub/twin/PATCH/properties/desired/#";
export const METHODS_FILTER = "$iothub/methods/POST/#";

export interface TopicOwner {
  deviceId: string;
  moduleId?: string;
}

/** `devices/{id}/` or `devices/{id}/modules/{mid}/`: where the identity's own topics start. */
function ownPrefix(owner: TopicOwner): string {
  return owner.moduleId === undefined ? `devices/${owner.deviceId}/` : `devices/${owner.deviceId}/modules/${owner.moduleId}/`;
}

/**
 * The filters Azure documents, exactly: C2D is for devices only (modules have no cloud-to-device
 * queue); a module may subscribe to `devices/{id}/modules/{mid}/#`, where IoT Edge routes its inputs
 * (the simulator has no Edge routing, so nothing ever arrives there). Twin and method filters are
 * the same for devices and modules.
 */
export function classifyFilter(filter: string, owner: TopicOwner): SubscriptionKind | undefined {
  if (filter === TWIN_RESPONSE_FILTER) return "twin-responses";
  if (filter === TWIN_DESIRED_FILTER) return "twin-desired";
  if (filter === METHODS_FILTER) return "methods";
  if (owner.moduleId === undefined && filter === `${ownPrefix(owner)}messages/devicebound/#`) return "c2d";
  if (owner.moduleId !== undefined && filter === `${ownPrefix(owner)}#`) return "module-inbound";
  return undefined;
}

export type HubRequest =
  /** `bag` is everything after `messages/events/`, still encoded. */
  | { kind: "telemetry"; bag: string }
  | { kind: "twin-get"; rid: string }
  | { kind: "twin-patch"; rid: string }
  | { kind: "method-response"; status: number; rid: string };

/** The query of a request topic as raw (still encoded) name/value strings; `$rid` is echoed back exactly as sent. */
function rawQuery(query: string): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const pair of query.split("&")) {
    const equals = pair.indexOf("=");
    if (equals > 0) parameters.set(pair.slice(0, equals), pair.slice(equals + 1));
  }
  return parameters;
}

function requestId(query: string): string | undefined {
  const rid = rawQuery(query).get("$rid");
  return rid === undefined || rid === "" ? undefined : rid;
}

const TWIN_GET = "$iothub/twin/GET/?";
const TWIN_PATCH_REPORTED = "$iothub/twin/PATCH/properties/reported/?";
const METHOD_RESPONSE = /^\$iothub\/methods\/res\/(-?\d{1,9})\/\?(.*)$/;

/** Reads a PUBLISH topic from the device; undefined for anything the hub does not serve (it then closes). */
export function parseHubPublishTopic(topic: string, owner: TopicOwner): HubRequest | undefined {
  const telemetry = `${ownPrefix(owner)}messages/events/`;
  if (topic.startsWith(telemetry)) return { kind: "telemetry", bag: topic.slice(telemetry.length) };
  let rid: string | undefined;
  if (topic.startsWith(TWIN_GET)) {
    rid = requestId(topic.slice(TWIN_GET.length));
    return rid === undefined ? undefined : { kind: "twin-get", rid };
  }
  if (topic.startsWith(TWIN_PATCH_REPORTED)) {
    rid = requestId(topic.slice(TWIN_PATCH_REPORTED.length));
    return rid === undefined ? undefined : { kind: "twin-patch", rid };
  }
  const method = METHOD_RESPONSE.exec(topic);
  rid = method ? requestId(method[2]) : undefined;
  return method && rid !== undefined ? { kind: "method-response", status: Number(method[1]), rid } : undefined;
}

/** `$iothub/twin/res/{status}/?$rid={rid}[&$version={n}][&retry-after={s}]` */
export function twinResponseTopic(status: number, rid: string, version?: number, retryAfterSeconds?: number): string {
  const versionPart = version === undefined ? "" : `&$version=${version}`;
  const retryPart = retryAfterSeconds === undefined ? "" : `&retry-after=${retryAfterSeconds}`;
  return `$iothub/twin/res/${status}/?$rid=${rid}${versionPart}${retryPart}`;
}

export function desiredPatchTopic(version: number): string {
  return `$iothub/twin/PATCH/properties/desired/?$version=${version}`;
}

export function methodRequestTopic(name: string, rid: string): string {
  return `$iothub/methods/POST/${name}/?$rid=${rid}`;
}

/** `devices/{id}/messages/devicebound/` plus the encoded property bag. */
export function c2dTopic(deviceId: string, encodedBag: string): string {
  return `devices/${deviceId}/messages/devicebound/${encodedBag}`;
}
