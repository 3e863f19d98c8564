// Every packet our encoder writes must be byte-identical to mqtt-packet's, and mqtt-packet must
// parse it back to the same fields. Invalid arguments are refused with a code, nothing encoded.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  encodeConnect,
  encodeDisconnect,
  encodePingreq,
  encodePuback,
  encodePublish,
  encodeSubscribe,
  encodeUnsubscribe,
} from "../../core/mqtt-encode";
import type { ConnectPacket, PublishPacket, QoS, SubscribePacket, UnsubscribePacket } from "../../core/mqtt-packets";
import { errorCode } from "../helpers/errors";
import { inEachPathMode } from "../helpers/native";
import { comparable, generateWithMqttPacket, hex, parseWithMqttPacket } from "../helpers/mqtt";
import { randomBytes, randomInt, randomText, seededRandom } from "../helpers/random";

function encodeAny(packet: any): Uint8Array {
  switch (packet.cmd) {
    case "connect": return encodeConnect(packet);
    case "publish": return encodePublish(packet);
    case "puback": return encodePuback(packet.messageId);
    case "subscribe": return encodeSubscribe(packet);
    case "unsubscribe": return encodeUnsubscribe(packet);
    case "pingreq": return encodePingreq();
    case "disconnect": return encodeDisconnect();
  }
  throw new Error("not a client packet: " + packet.cmd);
}

function checkAgainstMqttPacket(packet: any, label: string): void {
  const ours = encodeAny(packet);
  const peerPacket = { ...packet, payload: packet.payload, password: packet.password };
  if (packet.password instanceof Uint8Array) peerPacket.password = Buffer.from(packet.password);
  if (packet.payload instanceof Uint8Array) peerPacket.payload = Buffer.from(packet.payload);
  if (packet.will && packet.will.payload instanceof Uint8Array) peerPacket.will = { ...packet.will, payload: Buffer.from(packet.will.payload) };
  assert.is(hex(ours), hex(generateWithMqttPacket(peerPacket)), label + ": bytes differ from mqtt-packet");
  const parsed = parseWithMqttPacket(ours);
  assert.is(parsed.length, 1, label);
  assert.equal(comparable(parsed[0]), comparable(packet), label + ": mqtt-packet reads other fields");
}

test("annotated fixtures encode to the exact bytes", () => {
  const connect = encodeConnect({ cmd: "connect", clientId: "dev", keepalive: 60, clean: true, username: "u", password: "p" });
  assert.is(hex(connect), [
    "10", "15", // CONNECT, remaining length 21
    "00044d515454", "04", // "MQTT", level 4
    "c2", // flags: username, password, clean session
    "003c", // keep-alive 60 s
    "0003646576", // client id "dev"
    "000175", "000170", // username "u", password "p"
  ].join(""));
  const publish = encodePublish({ cmd: "publish", topic: "a/b", payload: "hi", qos: 1, dup: true, retain: false, messageId: 258 });
  assert.is(hex(publish), ["3a", "09", "0003612f62", "0102", "6869"].join("")); // DUP|QoS1, topic, id 258, payload
  assert.is(hex(encodePuback(65535)), "4002ffff");
  const subscribe = encodeSubscribe({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "$dps/registrations/res/#", qos: 1 }] });
  assert.is(hex(subscribe), "821d0001" + "0018" + hex("$dps/registrations/res/#") + "01");
  assert.is(hex(encodeUnsubscribe({ cmd: "unsubscribe", messageId: 7, unsubscriptions: ["x/+"] })), "a2070007" + "0003782f2b");
  assert.is(hex(encodePingreq()), "c000");
  assert.is(hex(encodeDisconnect()), "e000");
});

test("remaining length boundaries use 1 to 4 bytes exactly as mqtt-packet does", () => {
  for (const size of [0, 121, 122, 123, 16379, 16380, 16381, 2097148, 2097149, 2097150]) {
    const packet: PublishPacket = { cmd: "publish", topic: "t", payload: new Uint8Array(size), qos: 0, dup: false, retain: false };
    checkAgainstMqttPacket(packet, "payload " + size);
  }
});

function randomTopic(random: () => number): string {
  const levels = randomInt(random, 1, 5);
  const parts: string[] = [];
  for (let i = 0; i < levels; i++) parts.push(randomText(random, 8).replace(/[+#\u0000]/g, "x"));
  const topic = parts.join("/");
  return topic.length > 0 ? topic : "t";
}

function randomFilter(random: () => number): string {
  const levels = randomInt(random, 1, 5);
  const parts: string[] = [];
  for (let i = 0; i < levels; i++) {
    const kind = random();
    parts.push(kind < 0.15 ? "+" : randomText(random, 6).replace(/[+#\u0000]/g, "y"));
  }
  if (random() < 0.3) parts.push("#");
  return parts.join("/") || "#";
}

function randomClientPacket(random: () => number): any {
  const kind = randomInt(random, 0, 6);
  const id = randomInt(random, 1, 65535);
  if (kind === 0) {
    const packet: ConnectPacket = { cmd: "connect", clientId: randomText(random, 30).replace(/\u0000/g, ""), keepalive: randomInt(random, 0, 65535), clean: random() < 0.5 };
    if (!packet.clean && packet.clientId === "") packet.clientId = "c";
    if (random() < 0.7) {
      packet.username = randomText(random, 60);
      if (random() < 0.7) packet.password = random() < 0.5 ? randomText(random, 200) : randomBytes(random, randomInt(random, 0, 300));
    }
    if (random() < 0.4) {
      packet.will = { topic: randomTopic(random), payload: random() < 0.5 ? randomBytes(random, randomInt(random, 0, 100)) : randomText(random, 50), qos: randomInt(random, 0, 1) as QoS, retain: random() < 0.5 };
    }
    return packet;
  }
  if (kind === 1 || kind === 6) {
    const qos = randomInt(random, 0, 1) as QoS;
    const packet: PublishPacket = { cmd: "publish", topic: randomTopic(random), payload: random() < 0.5 ? randomBytes(random, randomInt(random, 0, 2000)) : randomText(random, 300), qos, dup: qos > 0 && random() < 0.5, retain: random() < 0.5 };
    if (qos > 0) packet.messageId = id;
    return packet;
  }
  if (kind === 2) return { cmd: "puback", messageId: id };
  if (kind === 3) {
    const subscriptions = [];
    for (let i = randomInt(random, 1, 6); i > 0; i--) subscriptions.push({ topic: randomFilter(random), qos: randomInt(random, 0, 1) as QoS });
    return { cmd: "subscribe", messageId: id, subscriptions } satisfies SubscribePacket;
  }
  if (kind === 4) {
    const unsubscriptions = [];
    for (let i = randomInt(random, 1, 6); i > 0; i--) unsubscriptions.push(randomFilter(random));
    return { cmd: "unsubscribe", messageId: id, unsubscriptions } satisfies UnsubscribePacket;
  }
  return { cmd: random() < 0.5 ? "pingreq" : "disconnect" };
}

test("5,000 seeded random client packets: same bytes as mqtt-packet, same fields back", () => {
  inEachPathMode((mode) => {
    const random = seededRandom(20261122);
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const packet = randomClientPacket(random);
      seen.add(packet.cmd);
      checkAgainstMqttPacket(packet, mode + ", case " + i + " (" + packet.cmd + ")");
    }
    assert.is(seen.size, 7, "every client packet type was generated");
  });
});

test("a repeated topic (served from the last-topic cache when native paths are installed) encodes exactly as a fresh one", () => {
  inEachPathMode((mode) => {
    const topics = ["devices/d/messages/events/", "devices/d/messages/events/", "devices/d/messages/events/", "é/ü/€/😀", "é/ü/€/😀", "é/ü/€/😀", "x".repeat(300), "x".repeat(300), "devices/d/messages/events/"];
    topics.forEach((topic, i) => {
      const packet: PublishPacket = { cmd: "publish", topic, payload: "p" + i, qos: (i % 2) as QoS, dup: false, retain: false, messageId: i % 2 ? i : undefined };
      checkAgainstMqttPacket(packet, mode + ", repeat " + i);
    });
    // The cache holds validated bytes of the topic string only: a bad topic after a good one is still refused.
    encodePublish({ cmd: "publish", topic: "a/b", payload: "", qos: 0, dup: false, retain: false });
    encodePublish({ cmd: "publish", topic: "a/b", payload: "", qos: 0, dup: false, retain: false });
    assert.is(errorCode(() => encodePublish({ cmd: "publish", topic: "a/+", payload: "", qos: 0, dup: false, retain: false })), "MQTT_BAD_TOPIC");
    assert.is(errorCode(() => encodePublish({ cmd: "publish", topic: "a/b", payload: "", qos: 2, dup: false, retain: false, messageId: 1 })), "MQTT_BAD_QOS");
  });
});

test("DUP goes out only with QoS 1: a QoS 0 PUBLISH has it 0 whatever it is given (MQTT-3.3.1-2)", () => {
  inEachPathMode((mode) => {
    const q0 = encodePublish({ cmd: "publish", topic: "a", payload: "", qos: 0, dup: true, retain: false });
    assert.is(q0[0], 0x30, mode);
    const q1 = encodePublish({ cmd: "publish", topic: "a", payload: "", qos: 1, dup: true, retain: false, messageId: 7 });
    assert.is(q1[0], 0x3a, mode);
  });
});

test("invalid arguments are refused with a code and nothing is encoded", () => {
  const publish = (fields: Partial<PublishPacket>) => () => encodePublish({ cmd: "publish", topic: "t", payload: "", qos: 0, dup: false, retain: false, ...fields });
  const connect = (fields: Partial<ConnectPacket>) => () => encodeConnect({ cmd: "connect", clientId: "c", keepalive: 60, clean: true, ...fields });
  const cases: Array<[string, () => unknown, string]> = [
    ["wildcard + in PUBLISH topic", publish({ topic: "a/+/b" }), "MQTT_BAD_TOPIC"],
    ["wildcard # in PUBLISH topic", publish({ topic: "a/#" }), "MQTT_BAD_TOPIC"],
    ["empty PUBLISH topic", publish({ topic: "" }), "MQTT_BAD_TOPIC"],
    ["QoS 2 PUBLISH", publish({ qos: 2, messageId: 1 }), "MQTT_BAD_QOS"],
    ["QoS 3 PUBLISH", publish({ qos: 3 as QoS, messageId: 1 }), "MQTT_BAD_QOS"],
    ["QoS 1 without packet id", publish({ qos: 1 }), "MQTT_BAD_PACKET_ID"],
    ["packet id 0", publish({ qos: 1, messageId: 0 }), "MQTT_BAD_PACKET_ID"],
    ["packet id 65536", publish({ qos: 1, messageId: 65536 }), "MQTT_BAD_PACKET_ID"],
    ["packet id 1.5", publish({ qos: 1, messageId: 1.5 }), "MQTT_BAD_PACKET_ID"],
    ["payload of another type", publish({ payload: 42 as unknown as string }), "MQTT_BAD_ARGUMENT"],
    ["topic with U+0000", publish({ topic: "a\u0000b" }), "UTF8_INVALID"],
    ["topic with a lone surrogate", publish({ topic: "a\ud800" }), "UTF8_INVALID"],
    ["topic over 65,535 bytes", publish({ topic: "é".repeat(32768) }), "MQTT_FIELD_TOO_LONG"],
    ["empty client id without clean session", connect({ clientId: "", clean: false }), "MQTT_BAD_CLIENT_ID"],
    ["client id over 65,535 bytes", connect({ clientId: "x".repeat(65536) }), "MQTT_FIELD_TOO_LONG"],
    ["password over 65,535 bytes", connect({ username: "u", password: new Uint8Array(65536) }), "MQTT_FIELD_TOO_LONG"],
    ["password without username", connect({ password: "p" }), "MQTT_BAD_ARGUMENT"],
    ["keepalive 65536", connect({ keepalive: 65536 }), "MQTT_BAD_ARGUMENT"],
    ["keepalive -1", connect({ keepalive: -1 }), "MQTT_BAD_ARGUMENT"],
    ["will QoS 2", connect({ will: { topic: "w", payload: "", qos: 2 } }), "MQTT_BAD_QOS"],
    ["will topic with wildcard", connect({ will: { topic: "w/#", payload: "" } }), "MQTT_BAD_TOPIC"],
    ["SUBSCRIBE with no filters", () => encodeSubscribe({ cmd: "subscribe", messageId: 1, subscriptions: [] }), "MQTT_BAD_ARGUMENT"],
    ["SUBSCRIBE '#' not last", () => encodeSubscribe({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "a/#/b", qos: 0 }] }), "MQTT_BAD_TOPIC"],
    ...["a#", "#/", "a/b#", "+a", "a/+b", "a/#/", "##", "++", "#+"].map((topic) => [
      "SUBSCRIBE '" + topic + "'",
      () => encodeSubscribe({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos: 0 }] }),
      "MQTT_BAD_TOPIC",
    ] as [string, () => unknown, string]),
    ["SUBSCRIBE 'a+'", () => encodeSubscribe({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "a+/b", qos: 0 }] }), "MQTT_BAD_TOPIC"],
    ["SUBSCRIBE empty filter", () => encodeSubscribe({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "", qos: 0 }] }), "MQTT_BAD_TOPIC"],
    ["SUBSCRIBE QoS 2", () => encodeSubscribe({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "a", qos: 2 }] }), "MQTT_BAD_QOS"],
    ["SUBSCRIBE packet id 0", () => encodeSubscribe({ cmd: "subscribe", messageId: 0, subscriptions: [{ topic: "a", qos: 0 }] }), "MQTT_BAD_PACKET_ID"],
    ["UNSUBSCRIBE with no filters", () => encodeUnsubscribe({ cmd: "unsubscribe", messageId: 1, unsubscriptions: [] }), "MQTT_BAD_ARGUMENT"],
    ["UNSUBSCRIBE bad filter", () => encodeUnsubscribe({ cmd: "unsubscribe", messageId: 1, unsubscriptions: ["#/a"] }), "MQTT_BAD_TOPIC"],
    ["PUBACK packet id 70000", () => encodePuback(70000), "MQTT_BAD_PACKET_ID"],
    // 2 + 1 topic bytes + 268,435,453 payload bytes is one byte over the largest remaining length.
    ["PUBLISH over MQTT's 256 MB limit", publish({ payload: new Uint8Array(268435453) }), "MQTT_TOO_LARGE"],
  ];
  inEachPathMode((mode) => {
    for (const [label, fn, code] of cases) assert.is(errorCode(fn), code, mode + ": " + label);
  });
});

test("valid wildcard filters are accepted", () => {
  for (const topic of ["#", "+", "a/+/c", "a/#", "+/+/#", "$iothub/twin/res/#", "/", "a//b", "/+", "+/", "/#", "+/#", "caf\u00e9/+"]) {
    const bytes = encodeSubscribe({ cmd: "subscribe", messageId: 9, subscriptions: [{ topic, qos: 1 }] });
    assert.equal(comparable(parseWithMqttPacket(bytes)[0]).subscriptions, [{ topic, qos: 1 }]);
  }
});

test.run();
