// Runs every test/**/*.test.ts with uvu. Node 20 cannot run TypeScript, so each test file is
// bundled by esbuild (dependencies stay external) into .build/test first.
// Usage: node test/run.mjs [substring-of-path ...]
import { build } from "esbuild";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
// One directory per run, so runs started side by side (several engineers, one checkout) never
// delete each other's files.
const outdir = join(root, ".build/test-" + process.pid);
const filters = process.argv.slice(2);

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith(".test.ts") ? [path] : [];
  });
}

const tests = findTests(join(root, "test")).filter((path) => filters.length === 0 || filters.some((f) => path.includes(f)));
if (tests.length === 0) {
  console.error("no test files match", filters);
  process.exit(1);
}
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: tests,
  outdir,
  outbase: join(root, "test"),
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node18",
  packages: "external",
  sourcemap: "inline",
  logLevel: "warning",
});
const result = spawnSync(process.execPath, [join(root, "node_modules/uvu/bin.js"), relative(root, outdir), "\\.test\\.mjs$"], {
  cwd: root,
  stdio: "inherit",
});
rmSync(outdir, { recursive: true, force: true });
process.exit(result.status ?? 1);
