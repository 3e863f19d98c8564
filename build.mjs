// Builds everything from the TypeScript sources with esbuild (and tsc for declarations):
//   dist/node/      the Node package: index.mjs + index.cjs, and the command line (cli.mjs)
//   dist/core/      the platform-free core: index.mjs + index.cjs
//   dist/types/     .d.ts for both
//   dist/espruino/  the Espruino modules, three minified files to install in Storage
//   .build/         dev-only bundles: the demo (npm start) and the simulator it starts
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parametersFromArguments, PEAK_PATH_METHODS } from "./build/espruino-arguments.mjs";
import { exportedNames, identifiersOf, importedKeys, nameAllocator, referenceCounts, storageFile, toGlobalCode, topLevelNames } from "./build/espruino-globals.mjs";

const root = fileURLToPath(new URL(".", import.meta.url));
const at = (path) => join(root, path);

rmSync(at("dist"), { recursive: true, force: true });

const nodeLibrary = { bundle: true, platform: "node", target: "node18", logLevel: "warning", legalComments: "none" };

/** The Node entry and the CLI use the core of dist/core rather than a copy of their own: one
 * HubClient class whichever entry it is imported from, and the Node fast paths nodePlatform()
 * installs reach a client made from "azure-iot-mqtt-lite/core" too. */
function sharedCore(extension) {
  return {
    name: "shared-core",
    setup(build) {
      build.onResolve({ filter: /^\.\.\/core\// }, (args) => (args.importer.startsWith(at("platform-node")) ? { path: "../core/index" + extension, external: true } : undefined));
    },
  };
}

async function dualFormat(entry, outBase, plugins) {
  await build({ ...nodeLibrary, entryPoints: [at(entry)], format: "esm", outfile: at(outBase + ".mjs"), plugins: plugins ? [sharedCore(".mjs")] : [] });
  await build({ ...nodeLibrary, entryPoints: [at(entry)], format: "cjs", outfile: at(outBase + ".cjs"), plugins: plugins ? [sharedCore(".cjs")] : [] });
}

await dualFormat("platform-node/index.ts", "dist/node/index", true);
await dualFormat("core/index.ts", "dist/core/index", false);
await build({
  ...nodeLibrary,
  entryPoints: [at("platform-node/cli.ts")],
  format: "esm",
  outfile: at("dist/node/cli.mjs"),
  banner: { js: "#!/usr/bin/env node" },
  plugins: [sharedCore(".mjs")],
});

// Declarations: tsc writes one .d.ts per source file. Their relative imports carry no extension,
// which "moduleResolution": "node16" consumers cannot follow, so ".js" is added to each (in
// `from "..."`, `import("...")` and a bare `import "..."` alike).
const declarations = spawnSync(process.execPath, [at("node_modules/typescript/bin/tsc"), "-p", at("tsconfig.types.json")], { stdio: "inherit" });
if (declarations.status !== 0) process.exit(declarations.status ?? 1);
function addExtensions(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) addExtensions(path);
    else if (name.endsWith(".d.ts")) {
      const text = readFileSync(path, "utf8").replace(/(from\s+|import\s+|import\()(["'])(\.{1,2}\/[^"']+?)(\2)/g, "$1$2$3.js$4");
      writeFileSync(path, text);
    }
  }
}
addExtensions(at("dist/types"));
// CommonJS consumers need declarations that are CommonJS too (this package is "type": "module",
// so a .d.ts here reads as ESM): the same files as .d.cts, importing each other as .cjs.
function cjsDeclarations(from, to) {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const path = join(from, name);
    if (statSync(path).isDirectory()) cjsDeclarations(path, join(to, name));
    else if (name.endsWith(".d.ts")) {
      const text = readFileSync(path, "utf8").replace(/(from\s+|import\s+|import\()(["'])(\.{1,2}\/[^"']+?)\.js(\2)/g, "$1$2$3.cjs$4");
      writeFileSync(join(to, name.slice(0, -5) + ".d.cts"), text);
    }
  }
}
cjsDeclarations(at("dist/types"), at("dist/types-cjs"));

// Espruino: three Storage modules (see platform-espruino/facade.ts). The main one holds the shared
// core and the public API; DPS and the hub are separate files loaded on first use. esbuild writes
// each as top-level CommonJS with a plain module.exports and no helpers (the interpreter ignored
// esbuild's namespace getters, and an IIFE-wrapped build ran out of memory at 2,500 variables:
// both measured); require("tls"|"net"|"crypto"|"Storage") stay calls to the interpreter's own
// modules. Then each becomes code that assigns globals, in a Storage file whose stub evaluates it
// in the root scope (build/espruino-globals.mjs). Only syntax the interpreter has (checked by the
// gate in test/platform-espruino). Private members end in "_" (the Google JS style convention)
// and are renamed; no public, wire or JSON name ends so.
const ESPRUINO_MAIN = "azure-iot-mqtt-lite";
const sharedFiles = [...readFileSync(at("platform-espruino/shared.ts"), "utf8").matchAll(/from "\.\.\/core\/([\w-]+)"/g)].map((m) => at("core/" + m[1] + ".ts"));
const espruinoNatives = {
  // The firmware's own SHA-256, btoa/atob and text replace the core's pure ones.
  name: "espruino-natives",
  setup(build) {
    const natives = {
      "./sha256": "platform-espruino/native-sha256.ts",
      "./base64": "platform-espruino/native-base64.ts",
      "./utf8": "platform-espruino/native-utf8.ts",
      "./json": "platform-espruino/native-json.ts",
      "./errors": "platform-espruino/native-errors.ts",
    };
    // In the core's own imports, and in the barrel of shared files (which the DPS and hub modules
    // use); the errors everywhere but in their stand-in itself (the platform makes errors too).
    build.onResolve({ filter: /^(\.|\.\.\/core)\/(sha256|base64|utf8|json|errors)$/ }, (args) => {
      const native = natives["./" + args.path.split("/").pop()];
      const fromCore = args.importer.startsWith(at("core")) || args.importer === at("platform-espruino/shared.ts");
      const anywhere = native.endsWith("native-errors.ts") && args.importer !== at(native);
      return fromCore || anywhere ? { path: at(native) } : undefined;
    });
  },
};
function fromMainModule(names, keyOf) {
  // In the DPS and hub modules, the shared core and the platform come from the main module. The
  // first build (names undefined) leaves them external, to learn which names each module uses;
  // the second reads exactly those off one require() into local variables: with them external,
  // esbuild writes a require() per imported file and "(0,x.name)(...)" at every call (measured:
  // ~2,200 bytes of the two modules). That one require() and its variables are then replaced by
  // the main module's globals (build/espruino-globals.mjs).
  return {
    name: "espruino-shared",
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const file = join(args.resolveDir, args.path);
        const shared = sharedFiles.includes(file + ".ts") || file === at("platform-espruino/platform");
        if (!shared) return undefined;
        return names ? { path: ESPRUINO_MAIN, namespace: "espruino-shared" } : { path: ESPRUINO_MAIN, external: true };
      });
      build.onLoad({ filter: /.*/, namespace: "espruino-shared" }, () => ({
        contents: `const main = require("${ESPRUINO_MAIN}");\n` + names.map((name) => `export const ${name} = main.${keyOf[name]};`).join("\n"),
        loader: "js",
      }));
    },
  };
}
// Methods that keep their declared parameters (PEAK_PATH_METHODS), found in some module.
const keptParameters = new Set();
const mangleCache = {};
async function espruinoModule(file, contents, plugins, define) {
  const result = await build({
    stdin: { contents, resolveDir: at("platform-espruino"), sourcefile: file + ".ts", loader: "ts" },
    outfile: at("dist/espruino/" + file + ".min.js"),
    bundle: true,
    format: "cjs",
    platform: "neutral",
    target: "es2019",
    // Arrow functions become plain functions (this captured in a variable): the interpreter's debug
    // builds assert on an arrow that uses `this` inside an operand they skip (`a && (() => this.x)`),
    // a shape the minifier makes from early returns (measured on 2v29, seven places).
    supported: { arrow: false },
    minifyWhitespace: true,
    minifySyntax: true,
    // READABLE_NAMES=1 node build.mjs keeps names, to read a stack trace on a device (costs memory
    // there): the interpreter's own errors (a TypeError); the library's carry none there.
    minifyIdentifiers: !process.env.READABLE_NAMES,
    // Also the session's and driver's own methods, which on the device only the modules call
    // (each property name over a few characters takes extra variables for as long as the module
    // is loaded); names that objects outside the library share (push, close, error) stay.
    mangleProps: /_$|^(pollTransmit|pollEvent|connectionOpened|connectionClosed|handleTimeout|nextDeadline|queuedMessages|sendNow|socketOpen|whenClosed|pump|receive)$/,
    mangleCache,
    plugins,
    define,
    external: ["tls", "net", "crypto", "Storage", ESPRUINO_MAIN],
    legalComments: "none",
    logLevel: "warning",
    write: false,
    metafile: !!process.env.SIZES,
  });
  Object.assign(mangleCache, result.mangleCache);
  // SIZES=1 node build.mjs prints each source file's share of each Espruino module.
  if (result.metafile) {
    for (const [path, { inputs }] of Object.entries(result.metafile.outputs)) {
      const rows = Object.entries(inputs).map(([input, { bytesInOutput }]) => [bytesInOutput, input]).sort((a, b) => b[0] - a[0]);
      console.log(path.split("/").pop(), rows.map(([n, input]) => n + " " + input).join("\n  "));
    }
  }
  // Parameters read from `arguments`: they cost the device variables for as long as the module is
  // loaded otherwise (see build/espruino-arguments.mjs for what it saves and costs).
  const minified = Object.fromEntries(PEAK_PATH_METHODS.map((name) => [(result.mangleCache && result.mangleCache[name]) || name, name]));
  const kept = new Set();
  const code = parametersFromArguments(result.outputFiles[0].text, new Set(Object.keys(minified)), kept);
  for (const name of kept) keptParameters.add(minified[name]);
  return code;
}
mkdirSync(at("dist/espruino"), { recursive: true });
const featureEntries = {
  [ESPRUINO_MAIN + "-dps"]: `import { DpsClient } from "../core/dps"; module.exports = { DpsClient };`,
  [ESPRUINO_MAIN + "-hub"]: `import { HubClient } from "../core/hub"; import { hubClientFor, assignmentOf } from "../core/hub-dps"; module.exports = { HubClient, hubClientFor, assignmentOf };`,
};
// The main module exports exactly the shared names the feature modules use, plus the public API:
// the names read off the required module in their first build, kept if the shared core exports
// them (a minified local may share the alias's name).
/** The names an entry point exports, as esbuild resolves them (re-exports followed). */
async function exportsOf(entry) {
  const result = await build({ entryPoints: [at(entry)], bundle: true, format: "esm", write: false, metafile: true, logLevel: "silent", outfile: "out.js", external: ["tls", "net", "crypto", "Storage"] });
  return Object.values(result.metafile.outputs)[0].exports;
}
const exported = new Set(await exportsOf("platform-espruino/shared.ts"));
const namesOf = {};
for (const [file, entry] of Object.entries(featureEntries)) {
  const code = await espruinoModule(file, entry, [fromMainModule()]);
  const names = new Set();
  for (const [, alias] of code.matchAll(/(\w+)=require\("azure-iot-mqtt-lite"\)/g)) {
    for (const [, name] of code.matchAll(new RegExp("\\b" + alias + "\\.(\\w+)", "g"))) if (exported.has(name)) names.add(name);
  }
  namesOf[file] = [...names].sort();
}
// Public too: what platform-espruino/index.ts (the module's declared API) exports from the shared core.
const publicNames = new Set((await exportsOf("platform-espruino/index.ts")).filter((name) => exported.has(name)));
// Names only the feature modules read are exported under short keys (_0, _1, ...) in esbuild's
// output; the final step below replaces each read of one with the global it names, and the
// shipped main module exports only the public names.
const internal = [...new Set(Object.values(namesOf).flat())].filter((name) => !publicNames.has(name)).sort();
const keyOf = Object.fromEntries(internal.map((name, i) => [name, "_" + i.toString(36)]));
for (const name of publicNames) keyOf[name] = name;
const featureCode = {};
for (const [file, entry] of Object.entries(featureEntries)) featureCode[file] = await espruinoModule(file, entry, [fromMainModule(namesOf[file], keyOf)]);
// Each module's top-level names become globals (build/espruino-globals.mjs), the names referred
// to most often getting the shortest. The main module's unload() deletes a feature module's
// globals: it is built with a placeholder for each list, filled in once the names are given out.
const exportList = Object.entries(keyOf).sort().map(([name, key]) => (key === name ? name : key + ": " + name)).join(", ");
const mainApi = ["espruinoPlatform", "DpsClient", "HubClient", "connectViaDps", "unload"];
const placeholder = (file) => "@@globals of " + file + "@@";
const mainCode = await espruinoModule(
  ESPRUINO_MAIN,
  `import { ${Object.keys(keyOf).sort().join(", ")} } from "./shared"; import { espruinoPlatform } from "./platform";
   import { DpsClient, HubClient, connectViaDps, unload } from "./facade";
   module.exports = { ${exportList}, ${mainApi.join(", ")} };`,
  [espruinoNatives],
  {
    ESPRUINO_GLOBALS_DPS: JSON.stringify(placeholder(ESPRUINO_MAIN + "-dps")),
    ESPRUINO_GLOBALS_HUB: JSON.stringify(placeholder(ESPRUINO_MAIN + "-hub")),
    ESPRUINO_BUILD: JSON.stringify(placeholder("the build")),
  },
);
const codeOf = { [ESPRUINO_MAIN]: mainCode, ...featureCode };
const mainExports = exportedNames(mainCode);
// References from the feature modules weigh more: they are held to the byte budget, which the
// main module is not within yet (see test/platform-espruino/size-budget.test.ts).
const weightOf = { [ESPRUINO_MAIN]: 1, [ESPRUINO_MAIN + "-dps"]: 2, [ESPRUINO_MAIN + "-hub"]: 4 };
const totals = new Map(); // "module name" -> weighted references
const count = (file, name, n) => totals.set(file + " " + name, (totals.get(file + " " + name) || 0) + n);
for (const [file, code] of Object.entries(codeOf)) {
  const own = topLevelNames(code, file === ESPRUINO_MAIN ? undefined : ESPRUINO_MAIN);
  for (const [name, n] of referenceCounts(code, own)) count(file, name, n * weightOf[file]);
  // What a feature module reads off the main module counts for the main module's name.
  const keys = importedKeys(code, ESPRUINO_MAIN);
  for (const [alias, n] of referenceCounts(code, keys.keys())) count(ESPRUINO_MAIN, mainExports.get(keys.get(alias)), n * weightOf[file]);
}
// The global the main module defines and the others' stubs read: a name from this build's code
// (3 characters after "$": the three files of one build go together, another build's are refused).
const digest = createHash("sha256").update(Object.values(codeOf).join("\n")).digest();
const buildGlobal = "$" + [0, 1, 2].map((i) => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[digest[i] % 52]).join("");
// No global may take a name the modules use for something else (a minified local, say).
const nextGlobal = nameAllocator(new Set([buildGlobal, ...Object.values(codeOf).flatMap((code) => [...identifiersOf(code)])]));
const globalOf = Object.fromEntries(Object.keys(codeOf).map((file) => [file, new Map()]));
for (const [key] of [...totals].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
  const [file, name] = key.split(" ");
  globalOf[file].set(name, nextGlobal());
}
const apiOf = Object.fromEntries(Object.keys(codeOf).map((file) => [file, nextGlobal()]));
const main = toGlobalCode(mainCode, { globalOf: globalOf[ESPRUINO_MAIN], api: apiOf[ESPRUINO_MAIN], publicKeys: [...publicNames, ...mainApi] });
const storageCode = { [ESPRUINO_MAIN]: main.code.split(placeholder("the build")).join(buildGlobal) + buildGlobal + "=1;" };
for (const [file, code] of Object.entries(featureCode)) {
  const imported = { module: ESPRUINO_MAIN, globalOf: new Map(Object.entries(main.exportsGlobal)) };
  storageCode[file] = toGlobalCode(code, { globalOf: globalOf[file], imported, api: apiOf[file] }).code;
  storageCode[ESPRUINO_MAIN] = storageCode[ESPRUINO_MAIN].split(placeholder(file)).join([...globalOf[file].values(), apiOf[file]].join(" "));
}
if (/@@globals of [^@]*@@/.test(storageCode[ESPRUINO_MAIN])) throw new Error("build: a placeholder left in the main Espruino module");
// A method renamed in the source would silently lose its place on the list.
const notFound = PEAK_PATH_METHODS.filter((name) => !keptParameters.has(name));
if (notFound.length) throw new Error("build: PEAK_PATH_METHODS names methods with parameters no Espruino module has: " + notFound.join(", "));
for (const [file, code] of Object.entries(storageCode)) {
  writeFileSync(at("dist/espruino/" + file + ".min.js"), storageFile(file, code, apiOf[file], file === ESPRUINO_MAIN ? undefined : buildGlobal));
}

// The renamed members (minified name -> source name), to read a stack trace from a device, and
// the globals (global -> module and top-level name: a source name with READABLE_NAMES=1).
const renamed = Object.fromEntries(Object.entries(mangleCache).filter(([, to]) => to !== false).map(([from, to]) => [to, from]));
writeFileSync(at("dist/espruino/renamed-members.json"), JSON.stringify(renamed, null, 1) + "\n");
const globalNames = {};
for (const [file, names] of Object.entries(globalOf)) for (const [name, global] of names) globalNames[global] = file + " " + name;
for (const [file, api] of Object.entries(apiOf)) globalNames[api] = file + " module.exports";
writeFileSync(at("dist/espruino/renamed-globals.json"), JSON.stringify(globalNames, null, 1) + "\n");

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
