// The session engine, driven without sockets or sleeps: bytes in, packets out (read back with
// mqtt-packet), time jumped to nextDeadline().
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MqttSession, type SessionEvent, type SessionOptions } from "../../core/session";
import { errorCode } from "../helpers/errors";
import { generateWithMqttPacket, hex, parseWithMqttPacket } from "../helpers/mqtt";
import { randomBytes, seededRandom } from "../helpers/random";

function drain(session: MqttSession): { packets: any[]; events: SessionEvent[] } {
  const packets: any[] = [];
  const events: SessionEvent[] = [];
  for (let bytes = session.pollTransmit(); bytes; bytes = session.pollTransmit()) packets.push(...parseWithMqttPacket(bytes));
  for (let event = session.pollEvent(); event; event = session.pollEvent()) events.push(event);
  return { packets, events };
}

function feed(session: MqttSession, packet: any, now: number): void {
  session.receive(generateWithMqttPacket(packet), now);
}

function connected(options: Partial<SessionOptions> = {}, now = 1000): MqttSession {
  const session = new MqttSession({ clientId: "dev-1", username: "user", keepAliveSeconds: 60, ...options });
  session.connectionOpened(now, "secret");
  feed(session, { cmd: "connack", sessionPresent: false, returnCode: 0 }, now);
  const { events } = drain(session);
  assert.equal(events, [{ type: "connected", sessionPresent: false }]);
  return session;
}

test("CONNECT carries the options and this connection's password; CONNACK connects", () => {
  const session = new MqttSession({ clientId: "dev-1", username: "hub/dev-1/?api-version=2021-04-12", keepAliveSeconds: 240, clean: false, will: { topic: "devices/dev-1/messages/events/", payload: "gone", qos: 1 } });
  session.connectionOpened(5000, "SharedAccessSignature sr=x");
  const { packets, events } = drain(session);
  assert.is(events.length, 0);
  assert.is(packets.length, 1);
  const connect = packets[0];
  assert.is(connect.cmd, "connect");
  assert.is(connect.clientId, "dev-1");
  assert.is(connect.username, "hub/dev-1/?api-version=2021-04-12");
  assert.is(connect.password.toString(), "SharedAccessSignature sr=x");
  assert.is(connect.keepalive, 240);
  assert.is(connect.clean, false);
  assert.is(connect.will.topic, "devices/dev-1/messages/events/");
  assert.is(connect.will.qos, 1);
  assert.is(session.nextDeadline(), 5000 + 30000, "waits for CONNACK no longer than the ack timeout");
  feed(session, { cmd: "connack", sessionPresent: true, returnCode: 0 }, 5100);
  assert.equal(drain(session).events, [{ type: "connected", sessionPresent: true }]);
  assert.ok(session.connected);
});

test("bad options throw at construction, before any connection", () => {
  assert.is(errorCode(() => new MqttSession({ clientId: "", clean: false })), "MQTT_BAD_CLIENT_ID");
  assert.is(errorCode(() => new MqttSession({ clientId: "c", keepAliveSeconds: 70000 })), "MQTT_BAD_ARGUMENT");
});

test("each refused CONNACK becomes its own typed error; only 'server unavailable' is retryable", () => {
  const expected = ["", "CONNECT_REFUSED_PROTOCOL", "CONNECT_REFUSED_IDENTIFIER", "CONNECT_REFUSED_UNAVAILABLE", "CONNECT_REFUSED_BAD_CREDENTIALS", "CONNECT_REFUSED_NOT_AUTHORIZED"];
  for (let code = 1; code <= 5; code++) {
    const session = new MqttSession({ clientId: "c", username: "u" });
    session.connectionOpened(0, "p");
    feed(session, { cmd: "connack", sessionPresent: false, returnCode: code }, 10);
    const { events } = drain(session);
    assert.is(events.length, 1);
    const closed = events[0] as { type: string; error: any };
    assert.is(closed.type, "closed");
    assert.is(closed.error.code, expected[code]);
    assert.is(closed.error.status, code);
    assert.is(!!closed.error.retryable, code === 3);
    assert.not.ok(closed.error.message.includes("p\""), "no password in the message");
    assert.not.ok(session.connected);
  }
});

test("no CONNACK: an early timeout does nothing, the deadline closes with CONNACK_TIMEOUT", () => {
  const session = new MqttSession({ clientId: "c", ackTimeoutMs: 5000 });
  session.connectionOpened(100, undefined);
  drain(session);
  session.handleTimeout(5099);
  assert.is(drain(session).events.length, 0);
  session.handleTimeout(session.nextDeadline()!);
  const events = drain(session).events as any[];
  assert.is(events[0].type, "closed");
  assert.is(events[0].error.code, "CONNACK_TIMEOUT");
  assert.is(session.nextDeadline(), undefined, "nothing waits on time once closed");
});

test("keep-alive: PINGREQ after a silent period; PINGRESP keeps the link; silence after PINGREQ closes it", () => {
  const session = connected({ keepAliveSeconds: 10, ackTimeoutMs: 4000 }, 0);
  assert.is(session.nextDeadline(), 10000);
  session.handleTimeout(9999);
  assert.is(drain(session).packets.length, 0, "no ping before the keep-alive period");
  session.handleTimeout(10000);
  assert.equal(drain(session).packets.map((p) => p.cmd), ["pingreq"]);
  assert.is(session.nextDeadline(), 14000, "waits for PINGRESP as long as the ack timeout");
  feed(session, { cmd: "pingresp" }, 10500);
  assert.is(session.nextDeadline(), 20000, "next ping one period after the last PINGREQ");
  session.handleTimeout(20000);
  assert.equal(drain(session).packets.map((p) => p.cmd), ["pingreq"]);
  session.handleTimeout(24000);
  const events = drain(session).events as any[];
  assert.is(events[0].type, "closed");
  assert.is(events[0].error.code, "PINGRESP_TIMEOUT");
  assert.ok(events[0].error.retryable);
});

test("a large packet arriving slowly holds back the PINGRESP and PUBACK behind it: no timeout while its bytes flow, a PINGREQ each keep-alive period meanwhile, and a timeout when they stop", () => {
  const session = connected({ keepAliveSeconds: 10, ackTimeoutMs: 4000 }, 0);
  session.handleTimeout(10000); // PINGREQ
  const id = session.publish("t", "x", 1, 10000);
  assert.equal(drain(session).packets.map((p) => p.cmd), ["pingreq", "publish"]);
  // 60 KB at about 1 KB/s, the PUBACK and PINGRESP queued behind it.
  const big = generateWithMqttPacket({ cmd: "publish", topic: "devices/dev-1/messages/devicebound/", payload: Buffer.alloc(60000, 7), qos: 0 });
  const answers = Buffer.concat([generateWithMqttPacket({ cmd: "puback", messageId: id }), generateWithMqttPacket({ cmd: "pingresp" })]);
  let now = 10000;
  let lastSent = now;
  for (let at = 0; at < big.length; at += 1000) {
    now += 1000;
    // The driver runs handleTimeout when nextDeadline comes, at once if it is already past.
    for (let due = session.nextDeadline(); due !== undefined && due <= now; due = session.nextDeadline()) session.handleTimeout(due);
    session.handleTimeout(now);
    // The hub hears from the client at least once a keep-alive period, or drops it (3.1.2.10).
    const sent = drain(session).packets;
    if (sent.length) {
      assert.equal(sent.map((p) => p.cmd), ["pingreq"], "at " + now);
      lastSent = now;
    }
    assert.ok(now - lastSent <= 10000, "nothing sent for " + (now - lastSent) + " ms at " + now);
    session.receive(big.subarray(at, Math.min(big.length, at + 1000)), now);
    assert.ok(session.connected, "still connected at " + now);
  }
  session.receive(answers, now);
  const { events } = drain(session);
  assert.equal(events.map((e) => e.type + ((e as any).error ? ":" + (e as any).error.code : "")), ["message", "published"]);
  assert.ok(session.connected);
  // The same packet stalling halfway: the deadlines run out one ack timeout after its last bytes.
  session.handleTimeout(now + 10000); // the next PINGREQ
  drain(session);
  session.receive(big.subarray(0, 5000), now + 10500);
  session.handleTimeout(now + 14499);
  assert.ok(session.connected);
  session.handleTimeout(now + 14500);
  assert.is((drain(session).events[0] as any).error.code, "PINGRESP_TIMEOUT");
});

test("keep-alive counts silence either way: sending QoS 0 with nothing coming back still pings, so a dead link is found", () => {
  const session = connected({ keepAliveSeconds: 10, ackTimeoutMs: 4000 }, 0);
  for (let t = 4000; t < 10000; t += 4000) {
    session.handleTimeout(t);
    session.publish("t", "q0", 0, t);
    drain(session);
  }
  session.handleTimeout(10000);
  assert.equal(drain(session).packets.map((p) => p.cmd), ["pingreq"], "nothing received for the keep-alive period");
});

test("with no keep-alive given, CONNECT says 60 s", () => {
  const session = new MqttSession({ clientId: "c" });
  session.connectionOpened(0);
  assert.is(drain(session).packets[0].keepalive, 60);
});

test("keep-alive 0 sends no pings", () => {
  const session = connected({ keepAliveSeconds: 0 }, 0);
  assert.is(session.nextDeadline(), undefined);
});

test("QoS 1 publish settles on PUBACK; QoS 0 settles when written", () => {
  const session = connected();
  const id = session.publish("devices/dev-1/messages/events/", "hello", 1, 1000);
  const zero = session.publish("devices/dev-1/messages/events/", new Uint8Array([1, 2]), 0, 1000);
  const out = drain(session);
  assert.equal(out.packets.map((p) => [p.cmd, p.qos, p.messageId]), [["publish", 1, id], ["publish", 0, undefined]]);
  assert.equal(out.events, [{ type: "published", id: zero }]);
  assert.ok(zero < 0 && id > 0, "QoS 0 ids are local and never collide with packet ids");
  feed(session, { cmd: "puback", messageId: id }, 1200);
  assert.equal(drain(session).events, [{ type: "published", id }]);
  assert.is(session.queuedMessages, 0);
});

test("a QoS 1 publish with no PUBACK ends the connection (PUBACK_TIMEOUT) and goes again, flagged DUP, on the next", () => {
  const session = connected({ ackTimeoutMs: 3000, keepAliveSeconds: 0, clean: false }, 0);
  const id = session.publish("t", "x", 1, 0);
  drain(session);
  assert.is(session.nextDeadline(), 3000);
  session.handleTimeout(2999);
  assert.ok(session.connected);
  session.handleTimeout(3000);
  const events = drain(session).events as any[];
  assert.equal(events.map((e) => [e.type, e.error && e.error.code]), [["closed", "PUBACK_TIMEOUT"]], "the link is taken for dead; the publish is not failed");
  assert.ok(events[0].error.retryable);
  assert.is(session.queuedMessages, 1, "kept");
  session.connectionOpened(5000, "p2");
  feed(session, { cmd: "connack", sessionPresent: true, returnCode: 0 }, 5010);
  const resent = drain(session).packets.filter((p) => p.cmd === "publish");
  assert.equal(resent.map((p) => [p.messageId, p.dup, p.payload.toString()]), [[id, true, "x"]]);
  feed(session, { cmd: "puback", messageId: id }, 5100);
  assert.equal(drain(session).events, [{ type: "published", id }]);
});

test("a publish's PUBACK deadline counts from when it is sent, however long the link was quiet before", () => {
  const session = connected({ ackTimeoutMs: 30000, keepAliveSeconds: 240 }, 1000);
  // Nothing in or out for 100 s (telemetry once a minute or less, keep-alive 240 s).
  const id = session.publish("t", "x", 1, 101000);
  assert.equal(drain(session).packets.map((p) => p.cmd), ["publish"]);
  assert.is(session.nextDeadline(), 131000, "30 s from the publish, not from the last packet received");
  session.handleTimeout(101050); // the timer the driver arms for that deadline, early: nothing due
  feed(session, { cmd: "puback", messageId: id }, 101100);
  assert.equal(drain(session).events, [{ type: "published", id }]);
  // A SUBSCRIBE's SUBACK deadline counts the same way.
  session.subscribe([{ topic: "a", qos: 1 }], 200000);
  assert.is(session.nextDeadline(), 230000);
});

test("packet ids run 1..65535, wrap to 1, and skip ids still in use", () => {
  const session = connected({ maxInflight: 70000, maxQueuedMessages: 70000, maxQueuedBytes: 1e9, keepAliveSeconds: 0 });
  const first = session.publish("t", "", 1, 1000);
  assert.is(first, 1);
  for (let i = 2; i <= 65535; i++) {
    const id = session.publish("t", "", 1, 1000);
    if (id !== 1 && id !== 2) feed(session, { cmd: "puback", messageId: id }, 2000);
    if (i === 65535) assert.is(id, 65535);
    drain(session);
  }
  // Ids 1 and 2 are unacknowledged, so the wrap goes on to 3.
  assert.is(session.publish("t", "", 1, 2000), 3);
  feed(session, { cmd: "puback", messageId: 1 }, 3000);
  assert.is(session.subscribe([{ topic: "a", qos: 1 }], 3000), 4);
});

test("the inflight window holds publishes back until PUBACKs free it", () => {
  const session = connected({ maxInflight: 2 });
  const ids = [session.publish("t", "1", 1, 1000), session.publish("t", "2", 1, 1000), session.publish("t", "3", 1, 1000)];
  assert.equal(drain(session).packets.map((p) => p.messageId), [ids[0], ids[1]]);
  feed(session, { cmd: "puback", messageId: ids[0] }, 1100);
  const out = drain(session);
  assert.equal(out.packets.map((p) => p.messageId), [ids[2]]);
  assert.equal(out.events, [{ type: "published", id: ids[0] }]);
});

test("a PUBACK naming a publish not sent yet (held back by the window) settles nothing, and it still goes out", () => {
  const session = connected({ maxInflight: 1 });
  const first = session.publish("t", "1", 1, 1000);
  const second = session.publish("t", "2", 1, 1000);
  assert.equal(drain(session).packets.map((p) => p.messageId), [first]);
  feed(session, { cmd: "puback", messageId: second }, 1100);
  assert.equal(drain(session).events, [], "not published: it was never sent");
  feed(session, { cmd: "puback", messageId: first }, 1200);
  const out = drain(session);
  assert.equal(out.events, [{ type: "published", id: first }]);
  assert.equal(out.packets.map((p) => p.messageId), [second]);
});

test("the byte bound counts only what is held: acknowledged publishes give their bytes back", () => {
  const session = connected({ maxQueuedBytes: 100 });
  for (let i = 0; i < 20; i++) {
    const id = session.publish("t", new Uint8Array(60), 1, 1000);
    drain(session);
    feed(session, { cmd: "puback", messageId: id }, 1100 + i);
    assert.equal(drain(session).events, [{ type: "published", id }], "message " + i);
  }
});

test("offline: publishes queue while disconnected, go out after CONNACK, and the queue is bounded", () => {
  const session = new MqttSession({ clientId: "c", username: "u", maxQueuedMessages: 3, maxQueuedBytes: 1000 });
  const a = session.publish("t", "a", 1, 0);
  session.publish("t", "b", 0, 0);
  assert.is(drain(session).packets.length, 0, "nothing is written without a connection");
  session.publish("t", "c", 1, 0);
  assert.is(errorCode(() => session.publish("t", "d", 1, 0)), "QUEUE_FULL");
  const bytesBound = new MqttSession({ clientId: "c", maxQueuedBytes: 100 });
  bytesBound.publish("t", new Uint8Array(60), 1, 0);
  assert.is(errorCode(() => bytesBound.publish("t", new Uint8Array(60), 1, 0)), "QUEUE_FULL");
  session.connectionOpened(0, "p");
  assert.equal(drain(session).packets.map((p) => p.cmd), ["connect"], "publishes wait for CONNACK");
  feed(session, { cmd: "connack", sessionPresent: false, returnCode: 0 }, 10);
  const out = drain(session);
  assert.equal(out.packets.map((p) => p.payload.toString()), ["a", "b", "c"], "in order");
  assert.equal(out.events.map((e) => e.type), ["connected", "published"]);
  assert.is(out.packets[0].messageId, a);
});

test("after a lost connection, unacknowledged QoS 1 publishes are re-sent with DUP and the same id", () => {
  const session = connected({ clean: false });
  const id = session.publish("t", "important", 1, 1000);
  const original = drain(session).packets[0];
  assert.is(original.dup, false);
  session.connectionClosed(2000);
  const events = drain(session).events as any[];
  assert.is(events[0].type, "closed");
  assert.is(events[0].error.code, "CONNECTION_LOST");
  assert.is(session.nextDeadline(), undefined);
  session.connectionOpened(3000, "p2");
  feed(session, { cmd: "connack", sessionPresent: true, returnCode: 0 }, 3010);
  const resent = drain(session).packets.filter((p) => p.cmd === "publish");
  assert.is(resent.length, 1);
  assert.is(resent[0].messageId, id);
  assert.is(resent[0].dup, true);
  assert.is(resent[0].payload.toString(), "important");
});

test("DUP goes on a copy: the bytes handed to the first socket never change under it", () => {
  const session = connected({ clean: false });
  session.publish("t", "important", 1, 1000);
  const first = session.pollTransmit()!;
  const firstCopy = Array.from(first);
  drain(session);
  session.connectionClosed(2000);
  drain(session);
  assert.equal(Array.from(first), firstCopy, "the first transmission's bytes are as written");
  session.connectionOpened(3000, "p2");
  feed(session, { cmd: "connack", sessionPresent: true, returnCode: 0 }, 3010);
  drain(session); // CONNECT
  session.connectionClosed(4000);
  session.connectionOpened(5000, "p3");
  feed(session, { cmd: "connack", sessionPresent: true, returnCode: 0 }, 5010);
  const again = drain(session).packets.filter((p) => p.cmd === "publish");
  assert.is(again.length, 1);
  assert.is(again[0].dup, true, "still DUP on a third connection");
});

test("a packet half-read when the connection ends is let go at once, and void on the next", () => {
  const session = connected();
  const packet = generateWithMqttPacket({ cmd: "publish", topic: "x", payload: Buffer.alloc(500), qos: 0, dup: false, retain: false });
  session.receive(packet.subarray(0, 300), 1100);
  session.connectionClosed(1200);
  assert.is((session as unknown as { decoder_: unknown }).decoder_, undefined, "no half-gathered buffer kept through the backoff");
  drain(session);
  session.connectionOpened(2000, "p2");
  feed(session, { cmd: "connack", sessionPresent: false, returnCode: 0 }, 2010);
  session.receive(packet.subarray(300), 2020);
  const { events } = drain(session);
  assert.is((events.find((e) => e.type === "closed") as any)?.error.code, "MQTT_BAD_TYPE", "the rest of the old packet is garbage here (zero bytes: type 0)");
  assert.not.ok(events.some((e) => e.type === "message"));
});

test("inbound QoS 1 is delivered then acknowledged; QoS 0 needs no PUBACK; QoS 2 breaks the protocol", () => {
  const session = connected();
  feed(session, { cmd: "publish", topic: "devices/dev-1/messages/devicebound/%24.mid=7", payload: Buffer.from("c2d"), qos: 1, messageId: 77, dup: false, retain: false }, 1100);
  feed(session, { cmd: "publish", topic: "x", payload: Buffer.from("q0"), qos: 0, dup: false, retain: false }, 1100);
  const out = drain(session);
  assert.equal(out.events.map((e: any) => [e.type, e.packet.topic, hex(e.packet.payload)]), [
    ["message", "devices/dev-1/messages/devicebound/%24.mid=7", hex("c2d")],
    ["message", "x", hex("q0")],
  ]);
  assert.equal(out.packets.map((p) => [p.cmd, p.messageId]), [["puback", 77]]);
  // A re-delivery (DUP, after our PUBACK was lost) is acknowledged again: the server waits for it.
  feed(session, { cmd: "publish", topic: "x", payload: Buffer.from("again"), qos: 1, messageId: 77, dup: true, retain: false }, 1150);
  assert.equal(drain(session).packets.map((p) => [p.cmd, p.messageId]), [["puback", 77]]);
  feed(session, { cmd: "publish", topic: "x", payload: Buffer.from("q2"), qos: 2, messageId: 5, dup: false, retain: false }, 1200);
  const events = drain(session).events as any[];
  assert.is(events[0].type, "closed");
  assert.is(events[0].error.code, "MQTT_PROTOCOL_ERROR");
});

test("SUBSCRIBE: granted, refused (0x80), mismatched SUBACK, timeout, and lost with the link", () => {
  const session = connected({ ackTimeoutMs: 1000, keepAliveSeconds: 0 }, 0);
  const ok = session.subscribe([{ topic: "$iothub/twin/res/#", qos: 0 }, { topic: "$iothub/methods/POST/#", qos: 1 }], 0);
  const subscribe = drain(session).packets[0];
  assert.equal(subscribe.subscriptions, [{ topic: "$iothub/twin/res/#", qos: 0 }, { topic: "$iothub/methods/POST/#", qos: 1 }]);
  feed(session, { cmd: "suback", messageId: ok, granted: [0, 1] }, 10);
  assert.equal(drain(session).events, [{ type: "subscribed", id: ok, granted: [0, 1] }]);

  const refused = session.subscribe([{ topic: "a", qos: 1 }, { topic: "forbidden/#", qos: 1 }], 10);
  drain(session);
  feed(session, { cmd: "suback", messageId: refused, granted: [1, 0x80] }, 20);
  const failure = drain(session).events[0] as any;
  assert.is(failure.type, "subscribeFailed");
  assert.is(failure.error.code, "SUBSCRIBE_REFUSED");
  assert.ok(failure.error.message.includes("forbidden/#"), "names the refused filter");

  const silent = session.subscribe([{ topic: "b", qos: 0 }], 20);
  drain(session);
  session.handleTimeout(1020);
  const timeout = drain(session).events[0] as any;
  assert.equal([timeout.type, timeout.id, timeout.error.code], ["subscribeFailed", silent, "SUBACK_TIMEOUT"]);

  const lost = session.subscribe([{ topic: "c", qos: 0 }], 1020);
  session.connectionClosed(1100);
  const events = drain(session).events as any[];
  assert.equal(events.map((e) => [e.type, e.id, e.error.code]), [["subscribeFailed", lost, "CONNECTION_LOST"], ["closed", undefined, "CONNECTION_LOST"]]);

  const again = connected();
  const mismatch = again.subscribe([{ topic: "a", qos: 0 }], 1000);
  feed(again, { cmd: "suback", messageId: mismatch, granted: [0, 0] }, 1100);
  const events2 = drain(again).events as any[];
  assert.equal(events2.map((e) => [e.type, e.id, e.error.code]), [["subscribeFailed", mismatch, "MQTT_PROTOCOL_ERROR"], ["closed", undefined, "MQTT_PROTOCOL_ERROR"]]);
});

test("a password the session cannot send ends that connection as an event, not a throw", () => {
  const session = new MqttSession({ clientId: "c" });
  session.connectionOpened(0, "password but no username");
  const events = drain(session).events as any[];
  assert.equal(events.map((e) => [e.type, e.error.code]), [["closed", "MQTT_BAD_ARGUMENT"]]);
  assert.not.ok(events[0].error.message.includes("password but"), "the password is not echoed");
});

test("commands that need a connection throw NOT_CONNECTED", () => {
  const session = new MqttSession({ clientId: "c" });
  assert.is(errorCode(() => session.subscribe([{ topic: "a", qos: 0 }], 0)), "NOT_CONNECTED");
  session.connectionOpened(0, undefined);
  assert.is(errorCode(() => session.subscribe([{ topic: "a", qos: 0 }], 0)), "NOT_CONNECTED", "not before CONNACK either");
});

test("the server breaking the protocol closes the connection with a typed error", () => {
  const before = new MqttSession({ clientId: "c" });
  before.connectionOpened(0, undefined);
  feed(before, { cmd: "publish", topic: "x", payload: Buffer.from(""), qos: 0, dup: false, retain: false }, 1);
  assert.is((drain(before).events[0] as any).error.code, "MQTT_PROTOCOL_ERROR", "a PUBLISH before CONNACK");
  const twice = connected();
  feed(twice, { cmd: "connack", sessionPresent: false, returnCode: 0 }, 1100);
  assert.is((drain(twice).events[0] as any).error.code, "MQTT_PROTOCOL_ERROR", "a second CONNACK");
  const malformed = connected();
  malformed.receive(new Uint8Array([0xf0, 0x00]), 1100);
  assert.is((drain(malformed).events[0] as any).error.code, "MQTT_BAD_TYPE", "the decoder's code is kept");
});

test("disconnect: DISCONNECT then a clean 'closed'; with a failure every queued publish settles", () => {
  const session = connected();
  const id = session.publish("t", "x", 1, 1000);
  drain(session);
  session.disconnect();
  const clean = drain(session);
  assert.equal(clean.packets.map((p) => p.cmd), ["disconnect"]);
  assert.equal(clean.events, [{ type: "closed", error: undefined }]);
  assert.is(session.queuedMessages, 1, "kept for the next connection");
  session.disconnect({ code: "CLIENT_CLOSED", message: "closed by the application" } as any);
  const failed = drain(session).events as any[];
  assert.equal(failed.map((e) => [e.type, e.id, e.error.code]), [["publishFailed", id, "CLIENT_CLOSED"]]);
  assert.is(session.queuedMessages, 0);
});

test("20,000 random byte chunks into a connected session never throw", () => {
  const random = seededRandom(77);
  for (let i = 0; i < 20000; i++) {
    const session = connected({}, 0);
    session.receive(randomBytes(random, 1 + (i % 40)), 10);
    session.handleTimeout(1e9);
    drain(session);
  }
});

test.run();
