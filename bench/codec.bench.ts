// Codec throughput and memory, ours against mqtt-packet in the same process.
// ratio = ours / mqtt-packet for throughput (higher is better) and for heap (lower is better).
import mqtt from "mqtt-packet";
import { MqttDecoder } from "../core/mqtt-decode";
import { installNodeNativePaths } from "../platform-node/native-paths";
import { encodeConnect, encodePublish } from "../core/mqtt-encode";
import type { ConnectPacket, MqttPacket, PublishPacket } from "../core/mqtt-packets";
import { compareThroughput, report, retainedBytesPerItem } from "./harness";

const TOPIC = "devices/thermostat-0042/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8";

function publishPacket(payloadBytes: number): PublishPacket {
  const payload = new Uint8Array(payloadBytes);
  for (let i = 0; i < payloadBytes; i++) payload[i] = (i * 31) & 0xff;
  return { cmd: "publish", topic: TOPIC, payload, qos: 1, dup: false, retain: false, messageId: 4242 };
}

function asPeer(packet: PublishPacket): any {
  return { ...packet, payload: Buffer.from(packet.payload as Uint8Array) };
}

let sink = 0;

function benchEncodePublish(name: string, payloadBytes: number): void {
  const packet = publishPacket(payloadBytes);
  const peerPacket = asPeer(packet);
  compareThroughput(name, "packets/s", () => { sink += encodePublish(packet).length; }, "mqtt-packet", () => { sink += mqtt.generate(peerPacket).length; });
}

function benchParsePublish(name: string, payloadBytes: number): void {
  const bytes = encodePublish(publishPacket(payloadBytes));
  const buffer = Buffer.from(bytes);
  const decoder = new MqttDecoder((packet) => { sink += (packet as PublishPacket).qos; });
  const parser = mqtt.parser({ protocolVersion: 4 });
  parser.on("packet", (packet: any) => { sink += packet.qos; });
  compareThroughput(name, "packets/s", () => { decoder.push(bytes); }, "mqtt-packet", () => { parser.parse(buffer); });
}

function streamOf64k(): { bytes: Uint8Array; count: number } {
  // A realistic inbound mix: C2D-sized publishes of varied size, acks and pings.
  const parts: Uint8Array[] = [];
  let size = 0;
  let count = 0;
  for (let i = 0; size < 65536; i++) {
    const part = i % 5 === 4
      ? Buffer.from([0x40, 2, (i >> 8) & 0xff, (i & 0xff) || 1])
      : encodePublish({ ...publishPacket(64 + ((i * 97) % 700)), messageId: (i % 65535) + 1 });
    parts.push(part);
    size += part.length;
    count++;
  }
  return { bytes: new Uint8Array(Buffer.concat(parts)), count };
}

function benchStream(name: string, chunkSizes: number[] | undefined): void {
  const stream = streamOf64k();
  const chunks: Uint8Array[] = [];
  if (!chunkSizes) chunks.push(stream.bytes);
  else for (let at = 0, i = 0; at < stream.bytes.length; i++) {
    const end = Math.min(at + chunkSizes[i % chunkSizes.length], stream.bytes.length);
    chunks.push(stream.bytes.slice(at, end));
    at = end;
  }
  const buffers = chunks.map((chunk) => Buffer.from(chunk));
  let ours = 0;
  let theirs = 0;
  compareThroughput(name, "packets/s", () => {
    const decoder = new MqttDecoder(() => { ours++; });
    for (let i = 0; i < chunks.length; i++) decoder.push(chunks[i]);
  }, "mqtt-packet", () => {
    const parser = mqtt.parser({ protocolVersion: 4 });
    parser.on("packet", () => { theirs++; });
    for (let i = 0; i < buffers.length; i++) parser.parse(buffers[i]);
  }, stream.count);
  if (ours === 0 || theirs === 0 || ours % stream.count !== 0 || theirs % stream.count !== 0) throw new Error("stream not fully parsed");
}

function randomChunkSizes(count: number): number[] {
  let state = 12345;
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    sizes.push(1 + (state % 1500));
  }
  return sizes;
}

function benchHeap(): void {
  const count = 20000;
  const inputs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) inputs.push(encodePublish({ ...publishPacket(256), messageId: (i % 65535) + 1 }));
  const peerInputs = inputs.map((bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  let last: MqttPacket | undefined;
  const decoder = new MqttDecoder((packet) => { last = packet; });
  const ours = retainedBytesPerItem((i) => { decoder.push(inputs[i]); return last; }, count);
  let lastPeer: unknown;
  const parser = mqtt.parser({ protocolVersion: 4 });
  parser.on("packet", (packet: unknown) => { lastPeer = packet; });
  const theirs = retainedBytesPerItem((i) => { parser.parse(peerInputs[i]); return lastPeer; }, count);
  report({ name: "heap-per-parsed-packet", unit: "bytes", value: ours, peer: "mqtt-packet", peerValue: theirs, ratio: Number((ours / theirs).toPrecision(4)) });
}

const connect: ConnectPacket = {
  cmd: "connect",
  clientId: "thermostat-0042",
  keepalive: 240,
  clean: false,
  username: "example-hub.azure-devices.net/thermostat-0042/?api-version=2021-04-12&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1",
  password: "SharedAccessSignature sr=example-hub.azure-devices.net%2Fdevices%2Fthermostat-0042&sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789%2B%2FAbCdE%3D&se=1767225600",
};

installNodeNativePaths();
benchEncodePublish("encode-publish-256", 256);
benchParsePublish("parse-publish-256", 256);
benchEncodePublish("encode-publish-16k", 16384);
benchParsePublish("parse-publish-16k", 16384);
compareThroughput("encode-connect", "packets/s", () => { sink += encodeConnect(connect).length; }, "mqtt-packet", () => { sink += mqtt.generate(connect as any).length; });
benchStream("parse-stream-64k", undefined);
benchStream("parse-stream-chunked", randomChunkSizes(997));
benchHeap();
if (sink === 0.5) console.log("");
// For information: a different topic on every PUBLISH (twin and method topics carry a fresh $rid),
// so the repeated-topic cache never helps.
{
  const topics = Array.from({ length: 1024 }, (_, i) => "$iothub/twin/PATCH/properties/reported/?$rid=" + (100000 + i));
  const packet = publishPacket(256);
  const peerPacket = asPeer(packet);
  let i = 0;
  let j = 0;
  compareThroughput("encode-publish-256-varied-topic", "packets/s", () => { packet.topic = topics[i++ & 1023]; sink += encodePublish(packet).length; }, "mqtt-packet", () => { peerPacket.topic = topics[j++ & 1023]; sink += mqtt.generate(peerPacket).length; });
}
