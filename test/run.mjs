// Runs every test/**/*.test.ts with uvu. Node 20 cannot run TypeScript, so each test file is
// bundled by esbuild (dependencies stay external) into .build/test first.
// Usage: node test/run.mjs [substring-of-path ...]
import { build } from "esbuild";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawn } from "node:child_process";
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
// uvu has no per-test timeout: a test that waits forever (a promise a bug never settles) would
// hang the run. The whole run is bounded instead (it takes well under a minute). And a test
// waiting on something nothing will ever do lets Node's event loop empty: the process then ends
// with status 0 and tests that never ran, so the summary is checked too.
const LIMIT_MS = 10 * 60 * 1000;
const child = spawn(process.execPath, [join(root, "node_modules/uvu/bin.js"), relative(root, outdir), "\\.test\\.mjs$"], {
  cwd: root,
  stdio: ["inherit", "pipe", "inherit"],
});
let output = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  output += chunk;
});
const timer = setTimeout(() => child.kill("SIGKILL"), LIMIT_MS);
const [status, signal] = await new Promise((resolve) => child.on("close", (code, killed) => resolve([code, killed])));
clearTimeout(timer);
rmSync(outdir, { recursive: true, force: true });
if (signal) {
  console.error("\ntests stopped: still running after " + LIMIT_MS / 60000 + " minutes (a test waiting forever?)");
  process.exit(1);
}
// eslint-disable-next-line no-control-regex
const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
const count = (label) => Number((plain.match(new RegExp(label + ":\\s+(\\d+)")) || [])[1]);
const total = count("Total");
const finished = count("Passed") + count("Skipped");
if (status === 0 && !(total === finished)) {
  console.error("\n" + (total - finished) + " of " + total + " tests never finished (the process ran out of things to do while a test waited)");
  process.exit(1);
}
process.exit(status ?? 1);
