// One device's (or module's) twin: desired and reported properties, each with its `$version`,
// updated by JSON merge patches as Azure documents them (a member set to null is deleted, objects
// merge member by member, anything else replaces). Limits are Azure's documented ones
// (iot-hub-devguide-device-twins): keys up to 1 KB without control characters, `.`, `$` or space;
// string values up to 4 KB; nesting up to 10 levels; each of desired and reported at most 32 KB,
// measured Azure's way (keys and string values by UTF-8 length, numbers 8 bytes, booleans 4).
// Azure says it "rejects with an error" an update over the limit without naming the status over
// MQTT; the simulator answers 400, like every other invalid patch, and leaves the twin unchanged.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const TWIN_SECTION_LIMIT_BYTES = 32 * 1024;
const KEY_LIMIT_BYTES = 1024;
const STRING_VALUE_LIMIT_BYTES = 4 * 1024;
const MAX_DEPTH = 10;

export interface TwinDocument {
  desired: JsonObject & { $version: number };
  reported: JsonObject & { $version: number };
}

export type PatchResult = { version: number } | { refusal: string };

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

// C0 and C1 control characters, which Azure neither allows in keys nor counts in sizes.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const RESERVED_IN_KEYS = /[.$ ]/;

/** Why a patch is not acceptable, or undefined. */
export function patchRefusal(patch: unknown): string | undefined {
  if (!isObject(patch)) return "patch is not a JSON object";
  return checkMembers(patch, 1);
}

function checkMembers(object: JsonObject, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return `nesting deeper than ${MAX_DEPTH} levels`;
  for (const [key, value] of Object.entries(object)) {
    if (key === "" || utf8Length(key) > KEY_LIMIT_BYTES) return "property name empty or longer than 1 KB";
    if (RESERVED_IN_KEYS.test(key) || CONTROL_CHARACTER.test(key)) return `property name "${key}" holds '.', '$', a space or a control character`;
    if (typeof value === "string" && utf8Length(value) > STRING_VALUE_LIMIT_BYTES) return `value of "${key}" is longer than 4 KB`;
    if (isObject(value)) {
      const nested = checkMembers(value, depth + 1);
      if (nested) return nested;
    }
  }
  return undefined;
}

/** Azure's twin size: the sum over members of key length and value size. */
export function twinSectionSize(value: Json): number {
  if (value === null) return 0;
  if (typeof value === "boolean") return 4;
  if (typeof value === "number") return 8;
  if (typeof value === "string") return utf8Length(value.replace(CONTROL_CHARACTERS, ""));
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + twinSectionSize(item), 0);
  return Object.entries(value).reduce((sum, [key, member]) => sum + utf8Length(key) + twinSectionSize(member), 0);
}

/** A new object: `target` with `patch` merged in (null deletes, objects merge, the rest replaces). */
export function mergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const merged: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else if (isObject(value)) merged[key] = mergePatch(isObject(merged[key]) ? (merged[key] as JsonObject) : {}, value);
    else merged[key] = value;
  }
  return merged;
}

interface Section {
  properties: JsonObject;
  version: number;
}

export class Twin {
  // A new twin in Azure starts with both versions at 1.
  private desired: Section = { properties: {}, version: 1 };
  private reported: Section = { properties: {}, version: 1 };

  /** What a GET answers: deep copies, so later patches do not change a document already handed out. */
  document(): TwinDocument {
    return {
      desired: { ...clone(this.desired.properties), $version: this.desired.version },
      reported: { ...clone(this.reported.properties), $version: this.reported.version },
    };
  }

  patchDesired(patch: unknown): PatchResult {
    return applyPatch(this.desired, patch);
  }

  patchReported(patch: unknown): PatchResult {
    return applyPatch(this.reported, patch);
  }
}

function clone(object: JsonObject): JsonObject {
  return JSON.parse(JSON.stringify(object)) as JsonObject;
}

function applyPatch(section: Section, patch: unknown): PatchResult {
  const refusal = patchRefusal(patch);
  if (refusal) return { refusal };
  const merged = mergePatch(section.properties, patch as JsonObject);
  const size = twinSectionSize(merged);
  if (size > TWIN_SECTION_LIMIT_BYTES) return { refusal: `the result would be ${size} bytes, over the 32 KB limit` };
  section.properties = merged;
  section.version++;
  return { version: section.version };
}
