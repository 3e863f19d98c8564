// Builds everything from the TypeScript sources with esbuild (and tsc for declarations):
//   dist/node/      the Node package: index.mjs + index.cjs, and the command line (cli.mjs)
//   dist/core/      the platform-free core: index.mjs + index.cjs
//   dist/types/     .d.ts for both
//   dist/espruino/  the Espruino module, one minified file to install in Storage
//   .build/         dev-only bundles: the demo (npm start) and the simulator it starts
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));
const at = (path) => join(root, path);

rmSync(at("dist"), { recursive: true, force: true });

const nodeLibrary = { bundle: true, platform: "node", target: "node18", logLevel: "warning", legalComments: "none" };

async function dualFormat(entry, outBase) {
  await build({ ...nodeLibrary, entryPoints: [at(entry)], format: "esm", outfile: at(outBase + ".mjs") });
  await build({ ...nodeLibrary, entryPoints: [at(entry)], format: "cjs", outfile: at(outBase + ".cjs") });
}

await dualFormat("platform-node/index.ts", "dist/node/index");
await dualFormat("core/index.ts", "dist/core/index");
await build({
  ...nodeLibrary,
  entryPoints: [at("platform-node/cli.ts")],
  format: "esm",
  outfile: at("dist/node/cli.mjs"),
  banner: { js: "#!/usr/bin/env node" },
});

// Declarations: tsc writes one .d.ts per source file. Their relative imports carry no extension,
// which "moduleResolution": "node16" consumers cannot follow, so ".js" is added to each.
const declarations = spawnSync(process.execPath, [at("node_modules/typescript/bin/tsc"), "-p", at("tsconfig.types.json")], { stdio: "inherit" });
if (declarations.status !== 0) process.exit(declarations.status ?? 1);
function addExtensions(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) addExtensions(path);
    else if (name.endsWith(".d.ts")) {
      const text = readFileSync(path, "utf8").replace(/(from\s+|import\()(["'])(\.{1,2}\/[^"']+?)(\2)/g, "$1$2$3.js$4");
      writeFileSync(path, text);
    }
  }
}
addExtensions(at("dist/types"));

// Espruino: one file, no module helpers, only syntax the interpreter has (checked by the gate in
// test/platform-espruino). Top-level code, not an IIFE: wrapped in one function the module ran
// out of memory at 2,500 variables when loaded from Storage (measured). The entry has no ES
// exports (it assigns module.exports), so esbuild adds no helpers; require("tls"|"net"|"crypto")
// stay calls to the interpreter's own modules.
// On Espruino the core's pure SHA-256 and base64 give way to the firmware's natives.
const espruinoNatives = {
  name: "espruino-natives",
  setup(build) {
    const natives = { "./sha256": "platform-espruino/native-sha256.ts", "./base64": "platform-espruino/native-base64.ts" };
    build.onResolve({ filter: /^\.\/(sha256|base64)$/ }, (args) =>
      args.importer.startsWith(at("core")) ? { path: at(natives[args.path]) } : undefined,
    );
  },
};
await build({
  plugins: [espruinoNatives],
  entryPoints: [at("platform-espruino/bundle.ts")],
  outfile: at("dist/espruino/azure-iot-mqtt-lite.min.js"),
  bundle: true,
  format: "cjs",
  platform: "neutral",
  logOverride: { "commonjs-variable-in-esm": "silent" },
  target: "es2019",
  minify: true,
  // Private members and internal record fields end in "_" (the Google JS style convention), so
  // they can be renamed safely: no public, wire or JSON name ends that way.
  mangleProps: /_$/,
  external: ["tls", "net", "crypto"],
  legalComments: "none",
  logLevel: "warning",
});

// Dev-only: the end-to-end demo and the simulator it starts (npm start).
await build({
  bundle: true,
  platform: "node",
  target: "node18",
  format: "esm",
  packages: "external",
  logLevel: "warning",
  entryPoints: [at("examples/demo.ts")],
  outfile: at(".build/examples/demo.mjs"),
});
