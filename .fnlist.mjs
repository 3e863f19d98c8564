import { build } from "esbuild";
import * as acorn from "acorn";
import { join } from "node:path";
import { readFileSync } from "node:fs";
const at = (p) => join(process.cwd(), p);
const sharedFiles = [...readFileSync(at("platform-espruino/shared.ts"), "utf8").matchAll(/from "\.\.\/core\/([\w-]+)"/g)].map((m) => at("core/" + m[1] + ".ts"));
const fromMain = { name: "s", setup(b) { b.onResolve({ filter: /^\.\.?\// }, (a) => { const f = join(a.resolveDir, a.path); return (sharedFiles.includes(f + ".ts") || f === at("platform-espruino/platform")) ? { path: "azure-iot-mqtt-lite", external: true } : undefined; }); } };
const natives = { name: "n", setup(b) { const m = { "./sha256": "platform-espruino/native-sha256.ts", "./base64": "platform-espruino/native-base64.ts" };
    b.onResolve({ filter: /^\.\/(sha256|base64)$/ }, (a) => a.importer.startsWith(at("core")) ? { path: at(m[a.path]) } : undefined); } };
const names = "MqttSession, SessionDriver, backoffDelay, checkId, checkNonEmpty, checkRegistrationId, decodeKey, deviceKeyFor, formatParams, liteError, parseParams, parseStatusTopic, sasExpiry, sasToken, toJson, urlEncode, utf8Decode, utf8Length";
const which = process.argv[2];
const contents = which === "main" ? `import { ${names} } from "./shared"; import { espruinoPlatform } from "./platform"; import { DpsClient, HubClient, connectViaDps, unload } from "./facade"; module.exports = { ${names}, espruinoPlatform, DpsClient, HubClient, connectViaDps, unload };`
 : which === "hub" ? `import { HubClient } from "../core/hub"; import { connectProvisioned } from "../core/hub-dps"; module.exports = { HubClient, connectProvisioned };` : `import { DpsClient } from "../core/dps"; module.exports = { DpsClient };`;
const r = await build({ stdin: { contents, resolveDir: at("platform-espruino"), loader: "ts" }, bundle: true, format: "cjs", platform: "neutral", target: "es2019", supported: { arrow: false }, minifySyntax: true, plugins: which === "main" ? [natives] : [fromMain], external: ["tls","net","crypto"], write: false, outfile: "x.js", logLevel: "silent" });
const js = r.outputFiles[0].text;
const ast = acorn.parse(js, { ecmaVersion: 2022, sourceType: "script", locations: true });
const rows = [];
let file = "";
const fileAt = [...js.matchAll(/^\s*\/\/ (\S+\.ts)$/gm)].map((m) => [m.index, m[1]]);
(function walk(n, parent, key, depth) {
  if (!n || typeof n.type !== "string") return;
  if (/Function/.test(n.type)) {
    let name = n.id && n.id.name;
    if (!name && parent && parent.type === "MethodDefinition") name = parent.key.name || parent.key.value;
    if (!name && parent && parent.type === "Property") name = parent.key.name || parent.key.value;
    if (!name && parent && parent.type === "VariableDeclarator") name = parent.id.name;
    if (!name) name = "(anon)";
    const f = fileAt.filter(([i]) => i < n.start).pop();
    rows.push({ file: f ? f[1] : "?", name, params: n.params.length, bytes: n.end - n.start, depth });
  }
  for (const k in n) { const v = n[k]; if (Array.isArray(v)) v.forEach((c) => walk(c, n, k, depth + (/Function/.test(n.type) ? 1 : 0))); else if (v && typeof v.type === "string") walk(v, n, k, depth + (/Function/.test(n.type) ? 1 : 0)); }
})(ast, null, null, 0);
for (const r of rows) console.log(r.file.replace(/^.*?(core|platform-espruino)\//, "$1/").padEnd(34), ("  ".repeat(r.depth) + r.name).padEnd(36), r.params, r.bytes);
console.log(rows.length, "functions,", rows.filter(r=>r.depth===0||true).reduce((a,r)=>a+r.params,0), "params");
