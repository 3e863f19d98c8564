// LiteErrorCode (core/errors.ts) and README's error table list every code the library gives: the
// codes are read off the sources (literal codes, and the ones built from parts), so a new code
// added without its type member and its README row fails here.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = process.cwd();
const sources = ["core", "platform-node", "platform-espruino"].flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts") && !name.startsWith("cli"))
    .map((name) => readFileSync(join(root, dir, name), "utf8")),
);

function codesInSources(): Set<string> {
  const codes = new Set<string>();
  for (const text of sources) {
    for (const [, code] of text.matchAll(/liteError\(\s*"([A-Z][A-Z0-9_]+)"/g)) codes.add(code);
    // Codes picked from a table or a condition before the call: every SCREAMING_SNAKE literal
    // that ends like a code does.
    for (const [, code] of text.matchAll(/"([A-Z][A-Z0-9]+(?:_[A-Z0-9]+)*_(?:INVALID|REFUSED|TIMEOUT|FAILED|ERROR|STATUS|REQUEST|RESPONSE|THROTTLED|FORBIDDEN|FOUND|UNAUTHORIZED|DISABLED|MEMORY|PART|CREDENTIAL|MALFORMED|MESSAGE))"/g)) codes.add(code);
  }
  // Built from parts: timeout(what) in the session, CONNACK codes by number.
  for (const what of ["CONNACK", "SUBACK", "PUBACK", "PINGRESP"]) codes.add(what + "_TIMEOUT");
  for (const reason of ["PROTOCOL", "IDENTIFIER", "UNAVAILABLE", "BAD_CREDENTIALS", "NOT_AUTHORIZED"]) codes.add("CONNECT_REFUSED_" + reason);
  codes.delete("CONNECT_REFUSED_");
  return codes;
}

function codesInType(): Set<string> {
  const text = readFileSync(join(root, "core/errors.ts"), "utf8");
  const union = text.slice(text.indexOf("export type LiteErrorCode"), text.indexOf(";", text.indexOf("export type LiteErrorCode")));
  return new Set([...union.matchAll(/"([A-Z0-9_]+)"/g)].map((match) => match[1]));
}

test("every code the sources give is a member of LiteErrorCode, and every member is given", () => {
  const given = codesInSources();
  const typed = codesInType();
  assert.equal([...given].filter((code) => !typed.has(code)).sort(), [], "given but not in LiteErrorCode");
  assert.equal([...typed].filter((code) => !given.has(code)).sort(), [], "in LiteErrorCode but never given");
});

test("every code in LiteErrorCode has a row in README's error table", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const table = readme.slice(readme.indexOf("## Errors"), readme.indexOf("## On an ESP32"));
  const missing = [...codesInType()].filter((code) => {
    if (table.includes("`" + code + "`")) return false;
    // Rows that share a prefix: `CONNECTION_STRING_MALFORMED` / `_MISSING_PART` ...
    const at = code.indexOf("_", code.indexOf("_") + 1);
    return !(at > 0 && table.includes("`" + code.slice(at) + "`"));
  });
  assert.equal(missing, []);
});

test.run();
