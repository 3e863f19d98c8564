// The published package as a consumer sees it: every target of package.json's exports map exists
// after the build, and every relative import inside the emitted declarations (.d.ts for ESM,
// .d.cts for CommonJS consumers) names a file that exists, so types resolve under node16.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const root = process.cwd();
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

function targets(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Object.values(value as Record<string, unknown>).flatMap(targets);
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
}

test("every exports target exists, types included, for import and require", () => {
  const all = Object.values(pkg.exports).flatMap(targets);
  assert.ok(all.some((t) => t.endsWith(".d.cts")) && all.some((t) => t.endsWith(".d.ts")), "types for both module systems");
  for (const target of all) assert.ok(existsSync(join(root, target)), target);
  assert.ok(existsSync(join(root, pkg.bin["azure-iot-mqtt-lite"])), "the CLI");
});

test("every relative import in the declarations resolves to an emitted file", () => {
  const declarations = [...files(join(root, "dist/types")), ...files(join(root, "dist/types-cjs"))].filter((f) => /\.d\.c?ts$/.test(f));
  assert.ok(declarations.length > 20);
  for (const file of declarations) {
    const cjs = file.endsWith(".d.cts");
    for (const [, specifier] of readFileSync(file, "utf8").matchAll(/(?:from\s+|import\s+|import\()["'](\.{1,2}\/[^"']+)["']/g)) {
      assert.ok(specifier.endsWith(cjs ? ".cjs" : ".js"), file + " imports " + specifier);
      const target = join(dirname(file), specifier.replace(/\.c?js$/, cjs ? ".d.cts" : ".d.ts"));
      assert.ok(existsSync(target), file + " imports " + specifier + ", which was not emitted");
    }
  }
});

test("the root entry and /core share one core, in each format: one HubClient class, and nodePlatform's fast paths reach both", async () => {
  const esmRoot = await import(pathToFileURL(join(root, "dist/node/index.mjs")).href);
  const esmCore = await import(pathToFileURL(join(root, "dist/core/index.mjs")).href);
  assert.is(esmRoot.HubClient, esmCore.HubClient);
  assert.is(esmRoot.installNative, esmCore.installNative);
  const require = createRequire(import.meta.url);
  const cjsRoot = require(join(root, "dist/node/index.cjs"));
  const cjsCore = require(join(root, "dist/core/index.cjs"));
  assert.is(cjsRoot.HubClient, cjsCore.HubClient);
  assert.type(cjsRoot.provisionDevice, "function");
  // The Node entry is the adapter only: the core is not bundled into it a second time.
  assert.ok(statSync(join(root, "dist/node/index.mjs")).size < statSync(join(root, "dist/core/index.mjs")).size / 4);
});

test.run();
