// IoT Hub's MQTT property bags (PROTOCOL.md §3): `key=value&key2=value2` at the end of a telemetry
// or cloud-to-device topic, each key and value URL-encoded "as in an HTTPS query string". Azure's
// documentation (Receiving cloud-to-device messages) adds: a null value is the bare `key`, an empty
// string is `key=`. System properties are the keys starting with `$.` (`$.mid`, `$.ct`, ...).
//
// Decoding is exact: percent-escapes only. A raw `+` is kept as `+` but reported, because a server
// that decodes like an HTML form would read it as a space: a client must send `%2B` or `%20`.

export type PropertyValue = string | null;

/** Key/value pairs in the order they appeared (or will appear) in the topic. */
export type PropertyEntries = Array<[string, PropertyValue]>;

export interface DecodedPropertyBag {
  /** Keys not starting with `$.`, decoded. */
  properties: Record<string, PropertyValue>;
  /** Keys starting with `$.` (kept with the prefix, e.g. "$.mid"), decoded. */
  systemProperties: Record<string, PropertyValue>;
  /** Set when the bag contained a raw `+`, whose meaning depends on the decoder. */
  rawPlus: boolean;
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Decodes a property bag; a string naming the problem when it is malformed (an empty key, a bad escape). */
export function decodePropertyBag(bag: string): DecodedPropertyBag | string {
  const decoded: DecodedPropertyBag = { properties: {}, systemProperties: {}, rawPlus: bag.includes("+") };
  if (bag === "") return decoded;
  for (const pair of bag.split("&")) {
    if (pair === "") continue; // `a=1&&b=2` or a trailing `&`: nothing to read
    const equals = pair.indexOf("=");
    const key = decode(equals < 0 ? pair : pair.slice(0, equals));
    const value = equals < 0 ? null : decode(pair.slice(equals + 1));
    if (key === undefined || value === undefined) return "bad-percent-escape";
    if (key === "") return "empty-property-name";
    if (key.startsWith("$.")) decoded.systemProperties[key] = value;
    else decoded.properties[key] = value;
  }
  return decoded;
}

/**
 * RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - . _ ~).
 * encodeURIComponent leaves ! ' ( ) * as they are; .NET's Uri.EscapeDataString, which Azure's
 * services are built on, escapes them, and so does this (a decoder reads both forms the same).
 */
export function encodeStrict(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

/** `key=value&...`; null values as the bare key, as the hub sends them. */
export function encodePropertyBag(entries: PropertyEntries): string {
  return entries.map(([key, value]) => (value === null ? encodeStrict(key) : `${encodeStrict(key)}=${encodeStrict(value)}`)).join("&");
}
