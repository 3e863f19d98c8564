// `key=value&key2=value2` as Azure puts them in topics: the query after `?` in DPS, twin and
// method topics, and the property bag of telemetry and cloud-to-device topics (PROTOCOL.md 3).
import { liteError } from "./errors";
import { urlDecode } from "./url";

export interface Params {
  [key: string]: string;
}

/** Parses and URL-decodes a parameter string. Throws URL_ENCODING_INVALID / UTF8_INVALID on bad encoding. */
export function parseParams(text: string): Params {
  const params: Params = {};
  if (!text) return params;
  const pairs = text.split("&");
  for (let i = 0; i < pairs.length; i++) {
    if (!pairs[i]) continue;
    const at = pairs[i].indexOf("=");
    const key = urlDecode(at < 0 ? pairs[i] : pairs[i].substring(0, at));
    params[key] = at < 0 ? "" : urlDecode(pairs[i].substring(at + 1));
  }
  return params;
}

export interface StatusTopic {
  status: number;
  params: Params;
}

/**
 * Reads `{prefix}{status}/?{params}` (DPS and twin responses, PROTOCOL.md 2-3). Undefined when the
 * topic does not start with `prefix`; throws MQTT_BAD_TOPIC when it does but is malformed.
 */
export function parseStatusTopic(topic: string, prefix: string): StatusTopic | undefined {
  if (topic.indexOf(prefix) !== 0) return undefined;
  const rest = topic.substring(prefix.length);
  const slash = rest.indexOf("/");
  const status = parseInt(rest.substring(0, slash), 10);
  if (slash < 1 || !(status >= 100 && status <= 999) || rest.charAt(slash + 1) !== "?") {
    throw liteError("MQTT_BAD_TOPIC", "bad response topic " + topic);
  }
  return { status, params: parseParams(rest.substring(slash + 2)) };
}
