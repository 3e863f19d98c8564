// Runs bench/<suite>.bench.ts files, each in its own Node process (with --expose-gc so heap
// figures are measured after a full collection). Each suite prints one JSON object per line:
// {"name","unit","value","peer","peerValue","ratio"}. Usage: node bench/run.mjs [suite ...]
import { build } from "esbuild";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = join(root, ".build/bench");
const wanted = process.argv.slice(2);
const suites = readdirSync(join(root, "bench"))
  .filter((name) => name.endsWith(".bench.ts"))
  .map((name) => name.slice(0, -".bench.ts".length))
  .filter((suite) => wanted.length === 0 || wanted.includes(suite));
if (suites.length === 0) {
  console.error("no benchmark suites match", wanted);
  process.exit(1);
}
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: suites.map((suite) => join(root, "bench", suite + ".bench.ts")),
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node18",
  packages: "external",
  logLevel: "warning",
});
let failed = false;
for (const suite of suites) {
  const result = spawnSync(process.execPath, ["--expose-gc", join(outdir, suite + ".bench.mjs")], { stdio: "inherit" });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
