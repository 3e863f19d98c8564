// Every packet mqtt-packet generates, our decoder reads back to the same fields, however the
// stream is chunked; malformed input gives the expected code and stops the decoder for good.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MqttDecoder } from "../../core/mqtt-decode";
import { parseClientPacket } from "../../core/mqtt-decode-server";
import type { MqttPacket } from "../../core/mqtt-packets";
import { comparable, generateWithMqttPacket, hex } from "../helpers/mqtt";
import { inEachPathMode } from "../helpers/native";
import { randomBytes, randomInt, randomText, seededRandom } from "../helpers/random";

function decoderInto(packets: MqttPacket[], maxPacketBytes?: number): MqttDecoder {
  return new MqttDecoder((packet) => packets.push(packet), { extraPackets: parseClientPacket, maxPacketBytes });
}

function decodeChunks(chunks: Uint8Array[]): MqttPacket[] {
  const packets: MqttPacket[] = [];
  const decoder = decoderInto(packets);
  for (const chunk of chunks) {
    const error = decoder.push(chunk);
    if (error) throw error;
  }
  return packets;
}

function bytes(hexText: string): Uint8Array {
  // Annotated fixtures: anything after "--" on a line is a comment.
  return new Uint8Array(Buffer.from(hexText.replace(/--[^\n]*/g, "").replace(/\s+/g, ""), "hex"));
}

function splitRandomly(random: () => number, data: Uint8Array, maxChunk: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < data.length; ) {
    const size = Math.min(randomInt(random, 1, maxChunk), data.length - at);
    chunks.push(data.slice(at, at + size));
    at += size;
  }
  return chunks;
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

test("annotated server packets decode to their fields", () => {
  const stream = bytes(`
    20 02 01 00                        -- CONNACK: session present, accepted
    32 0a 0003 612f62 0007 68696a      -- PUBLISH QoS 1: topic "a/b", id 7, payload "hij"
    40 02 0007                         -- PUBACK id 7
    90 05 0002 01 80 00                -- SUBACK id 2: granted QoS 1, refused, QoS 0
    b0 02 0003                         -- UNSUBACK id 3
    d0 00                              -- PINGRESP`);
  const packets = decodeChunks([stream]);
  assert.equal(packets.map(comparable), [
    { cmd: "connack", sessionPresent: true, returnCode: 0 },
    { cmd: "publish", topic: "a/b", payload: hex("hij"), qos: 1, dup: false, retain: false, messageId: 7 },
    { cmd: "puback", messageId: 7 },
    { cmd: "suback", messageId: 2, granted: [1, 0x80, 0] },
    { cmd: "unsuback", messageId: 3 },
    { cmd: "pingresp" },
  ]);
});

function randomPacket(random: () => number): any {
  const id = randomInt(random, 1, 65535);
  const topic = () => (randomText(random, 20).replace(/[+#\u0000]/g, "_") || "t");
  switch (randomInt(random, 0, 12)) {
    case 0: return { cmd: "connack", sessionPresent: random() < 0.5, returnCode: randomInt(random, 0, 5) };
    case 1:
    case 2: {
      const qos = randomInt(random, 0, 2);
      const packet: any = { cmd: "publish", topic: topic(), payload: Buffer.from(randomBytes(random, randomInt(random, 0, random() < 0.1 ? 5000 : 300))), qos, dup: qos > 0 && random() < 0.5, retain: random() < 0.5 };
      if (qos > 0) packet.messageId = id;
      return packet;
    }
    case 3: return { cmd: ["puback", "pubrec", "pubrel", "pubcomp", "unsuback"][randomInt(random, 0, 4)], messageId: id };
    case 4: {
      const granted = [];
      for (let i = randomInt(random, 1, 8); i > 0; i--) granted.push([0, 1, 2, 0x80][randomInt(random, 0, 3)]);
      return { cmd: "suback", messageId: id, granted };
    }
    case 5: return { cmd: ["pingresp", "pingreq", "disconnect"][randomInt(random, 0, 2)] };
    case 6: {
      const packet: any = { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: randomText(random, 23).replace(/\u0000/g, "") || "c", keepalive: randomInt(random, 0, 65535), clean: random() < 0.5 };
      if (random() < 0.7) packet.username = randomText(random, 40).replace(/\u0000/g, "");
      if (packet.username !== undefined && random() < 0.7) packet.password = Buffer.from(randomBytes(random, randomInt(random, 0, 200)));
      if (random() < 0.4) packet.will = { topic: topic(), payload: Buffer.from(randomBytes(random, randomInt(random, 0, 80))), qos: randomInt(random, 0, 2), retain: random() < 0.5 };
      return packet;
    }
    case 7: {
      const subscriptions = [];
      for (let i = randomInt(random, 1, 5); i > 0; i--) subscriptions.push({ topic: topic(), qos: randomInt(random, 0, 2) });
      return { cmd: "subscribe", messageId: id, subscriptions };
    }
    case 8: {
      const unsubscriptions = [];
      for (let i = randomInt(random, 1, 5); i > 0; i--) unsubscriptions.push(topic());
      return { cmd: "unsubscribe", messageId: id, unsubscriptions };
    }
    default: return { cmd: "publish", topic: topic(), payload: Buffer.from(randomText(random, 100)), qos: 0, dup: false, retain: false };
  }
}

test("4,000 random packets of every type, generated by mqtt-packet, decode to the same fields", () => {
  const random = seededRandom(4242);
  const seen = new Set<string>();
  for (let i = 0; i < 4000; i++) {
    const packet = randomPacket(random);
    seen.add(packet.cmd);
    const decoded = decodeChunks([generateWithMqttPacket(packet)]);
    assert.is(decoded.length, 1, "case " + i);
    assert.equal(comparable(decoded[0]), comparable(packet), "case " + i + " (" + packet.cmd + ")");
  }
  assert.is(seen.size, 14, "every packet type was generated: " + [...seen].join(","));
});

test("a stream of 3,000 packets decodes identically whole, byte by byte, and in random chunks", () => inEachPathMode((mode) => {
  const random = seededRandom(99);
  const packets = [];
  for (let i = 0; i < 3000; i++) packets.push(randomPacket(random));
  const stream = concat(packets.map(generateWithMqttPacket));
  const expected = packets.map(comparable);
  assert.equal(decodeChunks([stream]).map(comparable), expected, "whole");
  const oneByte: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i++) oneByte.push(stream.subarray(i, i + 1));
  assert.equal(decodeChunks(oneByte).map(comparable), expected, "byte by byte");
  for (const maxChunk of [3, 64, 536, 1500]) {
    assert.equal(decodeChunks(splitRandomly(random, stream, maxChunk)).map(comparable), expected, mode + ": chunks up to " + maxChunk);
  }
}));

test("every split point of a multi-byte-length packet gives the same packet", () => {
  const packet = { cmd: "publish", topic: "devices/d/messages/devicebound/%24.mid=1", payload: Buffer.alloc(20000, 7), qos: 1, dup: false, retain: false, messageId: 513 };
  const data = generateWithMqttPacket(packet);
  for (let split = 1; split < 60; split++) {
    assert.equal(decodeChunks([data.subarray(0, split), data.subarray(split)]).map(comparable), [comparable(packet)], "split at " + split);
  }
});

test("a payload inside one chunk is a view, not a copy; a gathered one is its own buffer", () => {
  const data = generateWithMqttPacket({ cmd: "publish", topic: "t", payload: Buffer.from("abcdef"), qos: 0, dup: false, retain: false });
  const whole = decodeChunks([data])[0] as { payload: Uint8Array };
  assert.ok(whole.payload.buffer === data.buffer, "view into the pushed chunk");
  const split = decodeChunks([data.slice(0, 4), data.slice(4)])[0] as { payload: Uint8Array };
  assert.ok(split.payload.buffer !== data.buffer);
  assert.is(hex(split.payload), hex("abcdef"));
});

const malformed: Array<[string, string, string]> = [
  ["packet type 0", "00 00", "MQTT_BAD_TYPE"],
  ["packet type 15", "f0 00", "MQTT_BAD_TYPE"],
  ["remaining length over 4 bytes", "30 ff ff ff ff 01", "MQTT_BAD_LENGTH"],
  ["PUBLISH with QoS 3", "36 05 0001 61 0001", "MQTT_BAD_QOS"],
  ["PUBACK with flags", "41 02 0001", "MQTT_BAD_FLAGS"],
  ["PUBREL without its 0010 flags", "60 02 0001", "MQTT_BAD_FLAGS"],
  ["SUBSCRIBE without its 0010 flags", "80 06 0001 0001 61 00", "MQTT_BAD_FLAGS"],
  ["CONNACK with reserved acknowledge flags", "20 02 02 00", "MQTT_BAD_FLAGS"],
  ["CONNACK with reserved return code", "20 02 00 06", "MQTT_BAD_RETURN_CODE"],
  ["CONNACK too long", "20 03 00 00 00", "MQTT_LENGTH_MISMATCH"],
  ["PUBACK too short", "40 01 00", "MQTT_LENGTH_MISMATCH"],
  ["PINGRESP with a body", "d0 01 00", "MQTT_LENGTH_MISMATCH"],
  ["DISCONNECT with a body", "e0 01 00", "MQTT_LENGTH_MISMATCH"],
  ["PUBLISH topic longer than the packet", "30 04 0009 6162", "MQTT_TRUNCATED"],
  ["PUBLISH QoS 1 without room for the packet id", "32 04 0002 6162", "MQTT_TRUNCATED"],
  ["PUBLISH QoS 1 with packet id 0", "32 05 0001 61 0000", "MQTT_BAD_PACKET_ID"],
  ["PUBACK with packet id 0", "40 02 0000", "MQTT_BAD_PACKET_ID"],
  ["SUBACK with packet id 0", "90 03 0000 00", "MQTT_BAD_PACKET_ID"],
  ["SUBACK with no return codes", "90 02 0001", "MQTT_TRUNCATED"],
  ["SUBACK with reserved return code 3", "90 03 0001 03", "MQTT_BAD_RETURN_CODE"],
  ["PUBLISH topic with a wildcard", "30 05 0003 612f23", "MQTT_BAD_TOPIC"],
  ["PUBLISH with an empty topic", "30 02 0000", "MQTT_BAD_TOPIC"],
  ["PUBLISH topic with U+0000", "30 05 0003 610062", "UTF8_INVALID"],
  ["PUBLISH topic with an overlong encoding", "30 04 0002 c0af", "UTF8_INVALID"],
  ["PUBLISH topic with an encoded surrogate", "30 05 0003 eda080", "UTF8_INVALID"],
  ["CONNECT with another protocol", "10 0f 0006 4d5149736470 03 02 003c 0001 61", "MQTT_BAD_PROTOCOL"],
  ["CONNECT with reserved flag bit 0", "10 0d 0004 4d515454 04 03 003c 0001 61", "MQTT_BAD_FLAGS"],
  ["CONNECT with password but no username", "10 10 0004 4d515454 04 42 003c 0001 61 0001 70", "MQTT_BAD_FLAGS"],
  ["CONNECT with will QoS 3", "10 0d 0004 4d515454 04 1e 003c 0001 61", "MQTT_BAD_QOS"],
  ["CONNECT with will QoS but no will flag", "10 0d 0004 4d515454 04 0a 003c 0001 61", "MQTT_BAD_FLAGS"],
  ["CONNECT with trailing bytes", "10 0e 0004 4d515454 04 02 003c 0001 61 ff", "MQTT_LENGTH_MISMATCH"],
  ["CONNECT with truncated client id", "10 0d 0004 4d515454 04 02 003c 0005 61", "MQTT_TRUNCATED"],
  ["SUBSCRIBE with no filters", "82 02 0001", "MQTT_TRUNCATED"],
  ["SUBSCRIBE with requested QoS 3", "82 06 0001 0001 61 03", "MQTT_BAD_QOS"],
  ["SUBSCRIBE with reserved QoS bits", "82 06 0001 0001 61 41", "MQTT_BAD_FLAGS"],
  ["SUBSCRIBE missing the QoS byte", "82 05 0001 0001 61", "MQTT_TRUNCATED"],
  ["UNSUBSCRIBE with no filters", "a2 02 0001", "MQTT_TRUNCATED"],
  // 1.5.3: strings in the packets only clients send are UTF-8 too, and ill-formed ones end the
  // connection. Each case is a well-formed packet but for one string.
  ["CONNECT client id with a lone continuation byte", "10 0d 0004 4d515454 04 02 003c 0001 80", "UTF8_INVALID"],
  ["CONNECT client id with an encoded surrogate", "10 0f 0004 4d515454 04 02 003c 0003 eda080", "UTF8_INVALID"],
  ["CONNECT will topic with an overlong encoding", "10 13 0004 4d515454 04 06 003c 0001 61 0002 c080 0000", "UTF8_INVALID"],
  ["CONNECT username with a truncated sequence", "10 11 0004 4d515454 04 82 003c 0001 61 0002 e282", "UTF8_INVALID"],
  ["SUBSCRIBE filter with a lone continuation byte", "82 06 0001 0001 80 00", "UTF8_INVALID"],
  ["SUBSCRIBE second filter with an overlong encoding", "82 0b 0001 0001 61 00 0002 c0af 01", "UTF8_INVALID"],
  ["UNSUBSCRIBE filter with U+0000", "a2 07 0001 0003 610062", "UTF8_INVALID"],
];

test("malformed input: each case gives its code, whole and byte by byte", () => inEachPathMode((mode) => {
  for (const [label, input, code] of malformed) {
    const data = bytes(input);
    for (const chunks of [[data], Array.from(data, (_, i) => data.subarray(i, i + 1))]) {
      const packets: MqttPacket[] = [];
      const decoder = decoderInto(packets);
      let error;
      for (const chunk of chunks) error = error ?? decoder.push(chunk);
      assert.is(error && error.code, code, mode + ": " + label);
      assert.is(packets.length, 0, label + ": nothing decoded");
    }
  }
}));

test("a client-side decoder refuses packets only clients send", () => {
  const decoder = new MqttDecoder(() => assert.unreachable("no packet"));
  assert.is(decoder.push(bytes("c0 00"))!.code, "MQTT_BAD_TYPE");
});

test("the size limit is enforced from the header, before the body is buffered", () => {
  const packets: MqttPacket[] = [];
  // A SUBACK header announcing 1,000,000 bytes; no body follows.
  const error = decoderInto(packets, 1000).push(bytes("90 c0 84 3d"));
  assert.is(error && error.code, "MQTT_TOO_LARGE");
  const exact = decodeWithLimit(generateWithMqttPacket({ cmd: "publish", topic: "t", payload: Buffer.alloc(994), qos: 0, dup: false, retain: false }), 1000);
  assert.is(exact, "decoded", "a packet of exactly the limit is accepted");
  assert.is(decodeWithLimit(generateWithMqttPacket({ cmd: "suback", messageId: 1, granted: Array(997).fill(0) }), 1000), "MQTT_TOO_LARGE");
});

test("a PUBLISH over the limit comes out with its topic and id, an empty payload and its size, however chunked; the stream goes on", () => inEachPathMode((mode) => {
  const random = seededRandom(77);
  const big = generateWithMqttPacket({ cmd: "publish", topic: "devices/d/messages/devicebound/%24.mid=1", payload: Buffer.alloc(5000, 0x61), qos: 1, messageId: 42, dup: true, retain: false });
  const small = generateWithMqttPacket({ cmd: "publish", topic: "t", payload: Buffer.from("after"), qos: 0, dup: false, retain: false });
  const stream = new Uint8Array(Buffer.concat([big, small, big]));
  const splits: Array<[string, Uint8Array[]]> = [["whole", [stream]], ["byte by byte", [...stream].map((b) => new Uint8Array([b]))]];
  for (const maxChunk of [3, 64, 1500]) splits.push(["chunks up to " + maxChunk, splitRandomly(random, stream, maxChunk)]);
  for (const [label, chunks] of splits) {
    const packets: MqttPacket[] = [];
    const decoder = decoderInto(packets, 1000);
    for (const chunk of chunks) assert.is(decoder.push(chunk), undefined, mode + ", " + label);
    assert.equal(packets.map((p) => [p.cmd, (p as any).topic, (p as any).messageId, (p as any).payload.length, (p as any).dropped, (p as any).dup]), [
      ["publish", "devices/d/messages/devicebound/%24.mid=1", 42, 0, big.length, true],
      ["publish", "t", undefined, 5, undefined, false],
      ["publish", "devices/d/messages/devicebound/%24.mid=1", 42, 0, big.length, true],
    ], mode + ", " + label);
  }
}));

test("random streams of PUBLISHes over and under the limit, with acks between, randomly chunked: each comes out as it should", () => {
  const random = seededRandom(2026);
  for (let round = 0; round < 200; round++) {
    const limit = randomInt(random, 40, 400);
    const packets: any[] = [];
    const expected: any[] = [];
    for (let n = randomInt(random, 1, 12); n > 0; n--) {
      if (random() < 0.2) {
        const id = randomInt(random, 1, 65535);
        packets.push({ cmd: "puback", messageId: id });
        expected.push(["puback", id]);
        continue;
      }
      const qos = random() < 0.5 ? 0 : 1;
      const topic = "t/" + randomText(random, 20).replace(/[+#\u0000]/g, "x");
      const payload = Buffer.from(randomBytes(random, randomInt(random, 0, 3 * limit)));
      const messageId = qos ? randomInt(random, 1, 65535) : undefined;
      packets.push({ cmd: "publish", topic, payload, qos, messageId, dup: false, retain: false });
      const size = generateWithMqttPacket(packets[packets.length - 1]).length;
      expected.push(["publish", topic, messageId, size > limit ? 0 : payload.length, size > limit ? size : undefined]);
    }
    const stream = new Uint8Array(Buffer.concat(packets.map((p) => generateWithMqttPacket(p))));
    // Every topic fits the limit (or the stream is refused, which another test covers).
    if (packets.some((p) => p.cmd === "publish" && Buffer.byteLength(p.topic) + 9 > limit)) continue;
    const decoded: MqttPacket[] = [];
    const decoder = decoderInto(decoded, limit);
    for (const chunk of splitRandomly(random, stream, randomInt(random, 1, 2 * limit))) assert.is(decoder.push(chunk), undefined, "round " + round);
    assert.equal(decoded.map((p: any) => (p.cmd === "puback" ? ["puback", p.messageId] : ["publish", p.topic, p.messageId, p.payload.length, p.dropped])), expected, "round " + round);
  }
});

test("an oversized PUBLISH is out only after its last byte, and its body is never buffered", () => {
  const packets: MqttPacket[] = [];
  const decoder = decoderInto(packets, 100);
  const big = generateWithMqttPacket({ cmd: "publish", topic: "t", payload: Buffer.alloc(100000), qos: 0, dup: false, retain: false });
  decoder.push(big.subarray(0, big.length - 1));
  assert.is(packets.length, 0, "not before its last byte");
  assert.ok(decoder.skip_ === 1, "one byte still to let go by");
  assert.ok((decoder.gathering_ || new Uint8Array(0)).length < 100, "nothing of the body held");
  decoder.push(big.subarray(big.length - 1));
  assert.is(packets.length, 1);
});

test("an oversized PUBLISH whose topic does not fit the limit, or overruns the packet, fails the stream", () => {
  const longTopic = generateWithMqttPacket({ cmd: "publish", topic: "x".repeat(200), payload: Buffer.alloc(10), qos: 0, dup: false, retain: false });
  assert.is(decodeWithLimit(longTopic, 100), "MQTT_TOO_LARGE");
  // Remaining length 200, topic length 0x0400: the topic would run past the packet.
  assert.is(decodeWithLimit(bytes("30 c8 01 04 00" + "61".repeat(198)), 100), "MQTT_TRUNCATED");
});

function decodeWithLimit(data: Uint8Array, limit: number): string {
  const packets: MqttPacket[] = [];
  const error = decoderInto(packets, limit).push(data);
  return error ? error.code : packets.length === 1 ? "decoded" : "nothing";
}

test("after an error the decoder accepts nothing more and keeps returning the same error", () => {
  const packets: MqttPacket[] = [];
  const decoder = decoderInto(packets);
  const first = decoder.push(bytes("d0 00 f0 00 d0 00"));
  assert.is(packets.length, 1, "the packet before the error was delivered");
  assert.is(first && first.code, "MQTT_BAD_TYPE");
  assert.is(decoder.push(bytes("d0 00")), first);
  assert.is(decoder.error, first);
  assert.is(packets.length, 1);
});

test("100,000 random byte strings never throw and never hang", () => {
  const random = seededRandom(1234);
  let errors = 0;
  for (let i = 0; i < 100000; i++) {
    const decoder = new MqttDecoder(() => {}, { extraPackets: parseClientPacket, maxPacketBytes: 4096 });
    const data = randomBytes(random, randomInt(random, 1, 64));
    if (decoder.push(data)) errors++;
  }
  assert.ok(errors > 50000, "most random bytes are malformed: " + errors);
});

test.run();
