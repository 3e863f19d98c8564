// A gateway's cost per device identity: N hub clients in one Node process, each on its own TLS
// connection to the simulator (IoT Hub over MQTT takes one connection per device). Ours is the
// full HubClient (CONNECT, four SUBSCRIBEs, the twin GET, keep-alive, reconnect machinery); the
// peer is the floor any MQTT device connection costs: node:tls plus an mqtt-packet CONNECT, wait
// for CONNACK, nothing else, with options passed to tls.connect per connection as generic MQTT
// clients do. Memory is resident set (TLS buffers live outside the JS heap) and heap, per
// connection, each side measured in a fresh process; the simulator runs in a third.
// Lower is better for bytes; higher for connections/s.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { connect as tlsConnect } from "node:tls";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt-packet";
import { HubClient } from "../core/hub";
import { nodePlatform } from "../platform-node/platform";
import { hubSasToken, hubUsername } from "../core/hub-credentials";
import { startSimulator } from "../simulator/index";
import { report } from "./harness";

const DEVICES = Number(process.env.GATEWAY_DEVICES || 1000);
const self = fileURLToPath(import.meta.url);

interface Info {
  ca: string;
  port: number;
  hostName: string;
  devices: Array<{ deviceId: string; connectionString: string; key: string }>;
}

function lines(child: ChildProcess): () => Promise<any> {
  const queue: any[] = [];
  let waiter: ((value: any) => void) | undefined;
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const value = JSON.parse(line);
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w(value);
    } else queue.push(value);
  });
  return () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve) => (waiter = resolve)));
}

async function simulator(): Promise<void> {
  const sim = await startSimulator({ connectWaitMs: 120000 });
  const hub = sim.hub();
  const devices = [];
  for (let i = 0; i < DEVICES * 2; i++) {
    const deviceId = "gw-" + i;
    const { connectionString } = hub.addDevice({ deviceId });
    devices.push({ deviceId, connectionString, key: /SharedAccessKey=([^;]+)/.exec(connectionString)![1] });
  }
  console.log(JSON.stringify({ ca: sim.ca, port: sim.port, hostName: sim.hubs[0], devices }));
  process.stdin.resume().on("end", () => sim.close().then(() => process.exit(0)));
}

function settle(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  return new Promise((resolve) =>
    setTimeout(() => {
      gc();
      gc();
      resolve(0);
    }, 500),
  );
}

async function side(which: "ours" | "peer", info: Info): Promise<void> {
  const devices = info.devices.slice(which === "ours" ? 0 : DEVICES, which === "ours" ? DEVICES : DEVICES * 2);
  await settle();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const started = performance.now();
  const keep: unknown[] = [];
  if (which === "ours") {
    const platform = nodePlatform({ ca: info.ca, resolve: () => ({ host: "127.0.0.1", port: info.port }) });
    const clients = devices.map((device) => new HubClient(platform, { connectionString: device.connectionString }));
    await Promise.all(clients.map((client) => client.connect()));
    keep.push(...clients);
  } else {
    const expiry = Math.floor(Date.now() / 1000) + 3600;
    await Promise.all(
      devices.map(
        (device) =>
          new Promise<void>((resolve, reject) => {
            const identity = { hostName: info.hostName, deviceId: device.deviceId };
            const socket = tlsConnect({ host: "127.0.0.1", port: info.port, servername: info.hostName, ca: info.ca, minVersion: "TLSv1.2" });
            const parser = mqtt.parser({ protocolVersion: 4 });
            parser.on("packet", (packet) => (packet.cmd === "connack" && packet.returnCode === 0 ? resolve() : reject(new Error("refused"))));
            socket.on("data", (chunk) => parser.parse(chunk));
            socket.on("error", reject);
            socket.once("secureConnect", () =>
              socket.write(
                mqtt.generate({
                  cmd: "connect",
                  protocolId: "MQTT",
                  protocolVersion: 4,
                  clean: false,
                  keepalive: 300,
                  clientId: device.deviceId,
                  username: hubUsername(identity),
                  password: Buffer.from(hubSasToken(identity, device.key, expiry)),
                }),
              ),
            );
            keep.push(socket, parser);
          }),
      ),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  await settle();
  const line = { connectionsPerSecond: DEVICES / seconds, rss: (process.memoryUsage().rss - rss0) / DEVICES, heap: (process.memoryUsage().heapUsed - heap0) / DEVICES };
  console.log(JSON.stringify(line));
  if (keep.length === 0) throw new Error("unreachable: keeps connections alive until measured");
  process.exit(0);
}

async function child(args: string[], input?: string): Promise<any> {
  const process_ = spawn(process.execPath, ["--expose-gc", self, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const next = lines(process_);
  if (input) process_.stdin!.end(input);
  return { process: process_, next };
}

async function main(): Promise<void> {
  const sim = await child(["simulator"]);
  const info: Info = await sim.next();
  const results: Record<string, { connectionsPerSecond: number; rss: number; heap: number }> = {};
  for (const which of ["ours", "peer"]) {
    const run = await child([which], JSON.stringify(info));
    results[which] = await run.next();
  }
  sim.process.stdin.end();
  const round = (value: number) => Number(value.toPrecision(4));
  const peer = "node:tls + mqtt-packet CONNECT only";
  const name = "gateway-" + DEVICES + "-devices";
  for (const [metric, unit] of [["rss", "bytes RSS per connection"], ["heap", "bytes heap per connection"], ["connectionsPerSecond", "connections/s"]] as const) {
    const value = results.ours[metric];
    const peerValue = results.peer[metric];
    report({ name: name + "-" + metric, unit, value: round(value), peer, peerValue: round(peerValue), ratio: round(value / peerValue) });
  }
}

const mode = process.argv[2];
if (mode === "simulator") await simulator();
else if (mode === "ours" || mode === "peer") {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => side(mode, JSON.parse(text)));
} else await main();
