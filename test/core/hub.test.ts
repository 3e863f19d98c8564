// The hub client on a fake platform: the test plays IoT Hub and moves virtual time, so
// reconnection, backoff, SAS renewal, twin resync and re-provisioning run deterministically.
// test/flows/hub.test.ts runs the same features over real TLS against the simulator.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHmac } from "node:crypto";
import { HubClient, type Twin } from "../../core/hub";
import { HubTopic, HubTopicLength } from "../../core/hub-topics";
import { errorCode } from "../helpers/errors";
import { generateWithMqttPacket } from "../helpers/mqtt";
import { FakePlatform } from "../helpers/fake-platform";
import { HOST, KEY, publishTo, rid, serve, setup } from "../helpers/hub-fake";

test("CONNECT: client id, username with model id, clean session 0, keep-alive, a hub SAS; then the four subscriptions", async () => {
  const { platform, client } = setup({ modelId: "dtmi:com:example:Thermostat;1" });
  const connecting = client.connect();
  const socket = platform.lastSocket;
  assert.equal(socket.target, { host: HOST, port: 8883 });
  const { connect, subscribe } = serve(socket);
  await connecting;
  assert.ok(client.connected);
  assert.is(connect.clientId, "dev-1");
  assert.is(connect.username, HOST + "/dev-1/?api-version=2021-04-12&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1");
  assert.is(connect.clean, false);
  assert.is(connect.keepalive, 240);
  const expiry = platform.epochBase + 3600;
  const sr = encodeURIComponent(HOST + "/devices/dev-1");
  const sig = createHmac("sha256", Buffer.from(KEY, "base64")).update(sr + "\n" + expiry).digest("base64");
  assert.is(connect.password.toString(), "SharedAccessSignature sr=" + sr + "&sig=" + encodeURIComponent(sig) + "&se=" + expiry);
  assert.equal(subscribe.subscriptions, [
    { topic: "devices/dev-1/messages/devicebound/#", qos: 1 },
    { topic: "$iothub/twin/res/#", qos: 0 },
    { topic: "$iothub/twin/PATCH/properties/desired/#", qos: 0 },
    { topic: "$iothub/methods/POST/#", qos: 0 },
  ]);
});

test("a module connects as deviceId/moduleId and does not subscribe to cloud-to-device", async () => {
  const { platform, client } = setup({ moduleId: "sensor" });
  const connecting = client.connect();
  const { connect, subscribe } = serve(platform.lastSocket);
  await connecting;
  assert.is(connect.clientId, "dev-1/sensor");
  assert.ok(!subscribe.subscriptions.some((s: any) => s.topic.includes("devicebound")));
});

test("telemetry: property bag with system properties, settles on PUBACK; JSON gets its content type", async () => {
  const { platform, client } = setup();
  const connecting = client.connect();
  const socket = platform.lastSocket;
  serve(socket);
  await connecting;
  let settled = false;
  const sent = client.sendTelemetry({ temperature: 21.5 }, { properties: { "alert level": "a&b=c/d é" }, messageId: "m-1" }).then(() => (settled = true));
  const [publish] = socket.received();
  assert.is(publish.qos, 1);
  assert.is(publish.topic, "devices/dev-1/messages/events/alert%20level=a%26b%3Dc%2Fd%20%C3%A9&%24.mid=m-1&%24.ct=application%2Fjson&%24.ce=utf-8");
  assert.equal(JSON.parse(publish.payload.toString()), { temperature: 21.5 });
  await platform.settle();
  assert.not.ok(settled, "not before PUBACK");
  socket.send({ cmd: "puback", messageId: publish.messageId });
  await sent;
  assert.ok(settled);
});

test("telemetry sent after a quiet spell settles on its PUBACK: its deadline counts from the send, not the last packet in", async () => {
  const { platform, client } = setup();
  const connecting = client.connect();
  const socket = platform.lastSocket;
  serve(socket);
  await connecting;
  // A device's telemetry every 100 s; keep-alive (240 s) sends nothing in between.
  for (let round = 1; round <= 3; round++) {
    platform.advance(100000);
    let outcome = "pending";
    client.sendTelemetry({ round }).then(() => (outcome = "sent"), (error) => (outcome = error.code));
    const [publish] = socket.received();
    platform.advance(50);
    await platform.settle();
    assert.is(outcome, "pending", "round " + round + ": waiting for its PUBACK");
    socket.send({ cmd: "puback", messageId: publish.messageId });
    await platform.settle();
    assert.is(outcome, "sent", "round " + round);
  }
  assert.ok(client.connected);
});

test("telemetry refused before sending: over 256 KB, QoS 2, a '$.' property, a non-string value", async () => {
  const { platform, client } = setup();
  const checks: Array<[Promise<void>, string]> = [
    [client.sendTelemetry(new Uint8Array(262144)), "MESSAGE_TOO_LARGE"],
    [client.sendTelemetry("x", { qos: 2 as 0 }), "MQTT_BAD_QOS"],
    [client.sendTelemetry("x", { properties: { "$.mid": "no" } }), "PROPERTY_INVALID"],
    [client.sendTelemetry("x", { properties: { n: 5 as unknown as string } }), "PROPERTY_INVALID"],
  ];
  for (const [promise, code] of checks) assert.is((await promise.catch((e) => e)).code, code);
  client.connect();
  platform.lastSocket.accept();
  assert.equal(platform.lastSocket.received().map((p) => p.cmd), ["connect"], "nothing was queued for sending");
});

test("a platform low on memory: telemetry is not held (QUEUE_FULL) while offline or behind another, but goes when connected with nothing waiting", async () => {
  const { platform, client } = setup();
  let low = true;
  (platform as any).lowOnMemory = () => low;
  const offline = await client.sendTelemetry("offline").catch((e) => e);
  assert.is(offline.code, "QUEUE_FULL");
  assert.match(offline.message, /memory/);
  low = false;
  const held = client.sendTelemetry("held while offline");
  low = true;
  const connecting = client.connect();
  const socket = platform.lastSocket;
  const { publishes } = serve(socket);
  await connecting;
  assert.equal(publishes.map((p: any) => p.payload.toString()), ["held while offline"], "only what was accepted goes out");
  const behind = await client.sendTelemetry("behind an unacknowledged one").catch((e) => e);
  assert.is(behind.code, "QUEUE_FULL", "one still waits for its PUBACK");
  socket.send({ cmd: "puback", messageId: publishes[0].messageId });
  await held;
  const now = client.sendTelemetry("connected, nothing waiting");
  const sent = socket.received().filter((p) => p.cmd === "publish");
  assert.equal(sent.map((p) => p.payload.toString()), ["connected, nothing waiting"]);
  socket.send({ cmd: "puback", messageId: sent[0].messageId });
  await now;
});

test("offline: telemetry queues, the queue is bounded, and queued messages go out once connected", async () => {
  const { platform, client } = setup({ maxQueuedMessages: 2 });
  const first = client.sendTelemetry("one");
  const second = client.sendTelemetry("two");
  assert.is((await client.sendTelemetry("three").catch((e) => e)).code, "QUEUE_FULL");
  const connecting = client.connect();
  const socket = platform.lastSocket;
  const { publishes } = serve(socket);
  await connecting;
  assert.equal(publishes.map((p: any) => p.payload.toString()), ["one", "two"]);
  for (const p of publishes) socket.send({ cmd: "puback", messageId: p.messageId });
  await Promise.all([first, second]);
});

test("cloud-to-device: delivered with decoded properties, then acknowledged", async () => {
  const { platform, client, events } = setup();
  const connecting = client.connect();
  const socket = platform.lastSocket;
  serve(socket);
  await connecting;
  let acknowledgedBeforeHandler = false;
  client.on("message", () => (acknowledgedBeforeHandler = socket.received().some((p) => p.cmd === "puback")));
  publishTo(socket, "devices/dev-1/messages/devicebound/%24.mid=abc&%24.to=%2Fdevices%2Fdev-1%2Fmessages%2Fdevicebound&color=dark%20blue&%C3%A9=%E2%82%AC", "turn on", 1, 41);
  const message = events.find((e) => e[0] === "message")![1];
  assert.is(Buffer.from(message.payload).toString(), "turn on");
  assert.equal(message.properties, { color: "dark blue", "é": "€" });
  assert.equal(message.systemProperties, { messageId: "abc", to: "/devices/dev-1/messages/devicebound" });
  assert.not.ok(acknowledgedBeforeHandler, "PUBACK only after the application had the message");
  assert.equal(socket.received().map((p) => [p.cmd, p.messageId]), [["puback", 41]]);
});

test("twin: get, update reported (new version), 400 is a typed error, 429 is retried", async () => {
  const { platform, client } = setup();
  const connecting = client.connect();
  const socket = platform.lastSocket;
  serve(socket);
  await connecting;
  const gotten = client.getTwin();
  const [get] = socket.received();
  assert.ok(get.topic.startsWith("$iothub/twin/GET/?$rid="));
  const twin: Twin = { desired: { rate: 5, $version: 3 }, reported: { $version: 8 } };
  publishTo(socket, "$iothub/twin/res/200/?$rid=" + rid(get.topic), twin);
  assert.equal(await gotten, twin);

  const updated = client.updateReported({ firmware: "1.2", obsolete: null });
  const [patch] = socket.received();
  assert.ok(patch.topic.startsWith("$iothub/twin/PATCH/properties/reported/?$rid="));
  assert.equal(JSON.parse(patch.payload.toString()), { firmware: "1.2", obsolete: null });
  publishTo(socket, "$iothub/twin/res/204/?$rid=" + rid(patch.topic) + "&$version=9", "");
  assert.is(await updated, 9);

  const bad = client.updateReported({ x: 1 });
  publishTo(socket, "$iothub/twin/res/400/?$rid=" + rid(socket.received()[0].topic), { message: "bad patch" });
  const error = await bad.catch((e) => e);
  assert.equal([error.code, error.status], ["TWIN_BAD_REQUEST", 400]);
  assert.ok(error.message.includes("bad patch"));
  // A message that is not text is left out, and the request still settles at once.
  const odd = client.updateReported({ x: 2 });
  publishTo(socket, "$iothub/twin/res/400/?$rid=" + rid(socket.received()[0].topic), { message: { toString: 1 } });
  let settled: unknown = "pending";
  odd.catch((e) => (settled = [e.code, e.message]));
  await platform.settle();
  assert.equal(settled, ["TWIN_BAD_REQUEST", "twin status 400"], "settled without waiting for its timeout");

  const throttled = client.updateReported({ y: 2 });
  const first = socket.received()[0];
  publishTo(socket, "$iothub/twin/res/429/?$rid=" + rid(first.topic), "");
  platform.advance(1000);
  const again = socket.received()[0];
  assert.is.not(rid(again.topic), rid(first.topic), "a fresh $rid for the retry");
  publishTo(socket, "$iothub/twin/res/204/?$rid=" + rid(again.topic) + "&$version=10", "");
  assert.is(await throttled, 10);
});

test("twin requests made offline wait for the subscriptions; unanswered ones time out", async () => {
  const { platform, client } = setup({ requestTimeoutMs: 5000 });
  const early = client.getTwin();
  const connecting = client.connect();
  const socket = platform.lastSocket;
  socket.accept();
  socket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  const beforeSuback = socket.received();
  assert.not.ok(beforeSuback.some((p) => p.cmd === "publish"), "no twin request before SUBACK");
  const subscribe = beforeSuback.find((p) => p.cmd === "subscribe");
  socket.send({ cmd: "suback", messageId: subscribe.messageId, granted: [1, 0, 0, 0] });
  await connecting;
  const [get] = socket.received();
  assert.ok(get.topic.startsWith("$iothub/twin/GET/"));
  platform.advance(5000);
  assert.is((await early.catch((e) => e)).code, "TWIN_TIMEOUT");
});

test("a method answer without a whole-number status (none, a string, a fraction) is sent as 500", async () => {
  const { platform, client } = setup();
  const answers: unknown[] = [undefined, { status: "ok", payload: 1 }, { status: 200.5 }, { payload: "no status" }];
  client.onMethod("m", () => answers.shift() as never);
  const connecting = client.connect();
  const socket = platform.lastSocket;
  serve(socket);
  await connecting;
  for (let rid = 1; rid <= 4; rid++) publishTo(socket, "$iothub/methods/POST/m/?$rid=" + rid, "");
  await platform.settle();
  assert.equal(socket.received().map((p) => p.topic), [1, 2, 3, 4].map((rid) => "$iothub/methods/res/500/?$rid=" + rid));
});

test("telemetry of exactly 256 KB with its topic is sent; one byte more is refused", async () => {
  const { client } = setup();
  const topic = "devices/dev-1/messages/events/";
  let fits = "queued";
  client.sendTelemetry(new Uint8Array(262144 - topic.length)).catch((error) => (fits = error.code));
  const over = await Promise.race([
    client.sendTelemetry(new Uint8Array(262144 - topic.length + 1)).then(() => ({ code: "sent" }), (error) => error),
    new Promise<{ code: string }>((resolve) => setTimeout(() => resolve({ code: "held for sending" }), 50)),
  ]);
  assert.is(over.code, "MESSAGE_TOO_LARGE");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.is(fits, "queued", "held for sending, not refused");
});

test("a method $rid is answered as it came, still encoded: one that decodes to + # or NUL cannot break the reply (an async handler's would be an unhandled rejection)", async () => {
  const { platform, client, events } = setup();
  client.onMethod("m", () => Promise.resolve({ status: 200, payload: "ok" }));
  const connecting = client.connect();
  const socket = platform.lastSocket;
  serve(socket);
  await connecting;
  for (const rid of ["%2B", "%23", "%00", "a%26b", "7f"]) publishTo(socket, "$iothub/methods/POST/m/?$rid=" + rid, "");
  await platform.settle();
  assert.equal(socket.received().map((p) => p.topic), ["%2B", "%23", "%00", "a%26b", "7f"].map((rid) => "$iothub/methods/res/200/?$rid=" + rid));
  assert.equal(events.filter((e) => e[0] === "error"), []);
});

test("direct methods: handler by name, async handler, catch-all, a throwing handler (500), none (501)", async () => {
  const { platform, client } = setup();
  client.onMethod("reboot", (request) => ({ status: 200, payload: { delay: JSON.parse(Buffer.from(request.payload).toString()).delay } }));
  client.onMethod("slow", () => Promise.resolve({ status: 202, payload: "later" }));
  client.onMethod("fail", () => {
    throw new Error("boom");
  });
  const connecting = client.connect();
  const socket = platform.lastSocket;
  serve(socket);
  await connecting;
  publishTo(socket, "$iothub/methods/POST/reboot/?$rid=1", { delay: 5 });
  publishTo(socket, "$iothub/methods/POST/slow/?$rid=2", "");
  publishTo(socket, "$iothub/methods/POST/fail/?$rid=3", "");
  publishTo(socket, "$iothub/methods/POST/unknown/?$rid=4", "");
  await platform.settle();
  const answers = socket.received().map((p) => [p.topic, p.payload.toString()]);
  assert.equal(answers, [
    ["$iothub/methods/res/200/?$rid=1", '{"delay":5}'],
    ["$iothub/methods/res/500/?$rid=3", '{"message":"method fail failed: boom"}'],
    ["$iothub/methods/res/501/?$rid=4", '{"message":"no handler for method unknown"}'],
    ["$iothub/methods/res/202/?$rid=2", '"later"'],
  ]);
  client.onMethod("*", (request) => ({ status: 200, payload: request.payload }));
  publishTo(socket, "$iothub/methods/POST/anything/?$rid=5", "echo");
  assert.equal(socket.received().map((p) => [p.topic, p.payload.toString()]), [["$iothub/methods/res/200/?$rid=5", "echo"]]);
});

test("a method answering a status no topic can carry (1e21, a fraction, text) gets 500, also asynchronously; one over maxPacketBytes is answered 413 and reported", async () => {
  const { platform, client, events } = setup({ maxPacketBytes: 1024 });
  client.onMethod("huge", () => Promise.resolve({ status: 1e21 }));
  client.onMethod("half", () => ({ status: 200.5 }));
  client.onMethod("text", () => ({ status: "200" as unknown as number }));
  client.onMethod("big", () => ({ status: 200 }));
  const connecting = client.connect();
  const socket = platform.lastSocket;
  serve(socket);
  await connecting;
  publishTo(socket, "$iothub/methods/POST/huge/?$rid=1", "");
  publishTo(socket, "$iothub/methods/POST/half/?$rid=2", "");
  publishTo(socket, "$iothub/methods/POST/text/?$rid=3", "");
  publishTo(socket, "$iothub/methods/POST/big/?$rid=4", Buffer.alloc(2000, 0x20));
  await platform.settle();
  const answers = socket.received().map((p) => p.topic).sort();
  assert.equal(answers, ["$iothub/methods/res/413/?$rid=4", "$iothub/methods/res/500/?$rid=1", "$iothub/methods/res/500/?$rid=2", "$iothub/methods/res/500/?$rid=3"]);
  assert.equal(events.filter((e) => e[0] === "error").map((e) => e[1].code), ["MQTT_TOO_LARGE"]);
});

test("a method called between CONNACK and SUBACK (subscriptions the hub kept) is answered at once", async () => {
  const { platform, client } = setup();
  client.onMethod("reboot", () => ({ status: 200, payload: { ok: true } }));
  const connecting = client.connect();
  const socket = platform.lastSocket;
  socket.accept();
  socket.received();
  socket.send({ cmd: "connack", returnCode: 0, sessionPresent: true });
  const [subscribe] = socket.received();
  publishTo(socket, "$iothub/methods/POST/reboot/?$rid=7", "");
  assert.equal(socket.received().map((p) => [p.topic, p.payload.toString()]), [["$iothub/methods/res/200/?$rid=7", '{"ok":true}']]);
  client.getTwin().catch(() => undefined);
  assert.equal(socket.received(), [], "a twin request still waits for the SUBACK: its answer needs the subscription");
  socket.send({ cmd: "suback", messageId: subscribe.messageId, granted: subscribe.subscriptions.map((s: any) => s.qos) });
  await connecting;
  assert.equal(socket.received().map((p) => p.topic.split("?")[0]), ["$iothub/twin/GET/"]);
});

test("reconnect after a drop: backoff, re-subscribe, unacknowledged telemetry again with DUP, twin resync delivers the missed desired change", async () => {
  const { platform, client, events } = setup();
  client.on("desired", (a: any, b: any, c: any) => events.push(["desired", a, b, c]));
  const connecting = client.connect();
  const first = platform.lastSocket;
  serve(first);
  await connecting;
  publishTo(first, "$iothub/twin/res/200/?$rid=" + rid(first.received().find((p) => p.topic.includes("GET")).topic), { desired: { rate: 1, $version: 4 }, reported: { $version: 1 } });
  const message = client.sendTelemetry("must arrive");
  const original = first.received().find((p) => p.cmd === "publish");
  first.drop();
  assert.ok(events.some((e) => e[0] === "disconnected" && e[1].code === "CONNECTION_LOST"));
  assert.is(platform.sockets.length, 1, "reconnects after a backoff, not at once");
  platform.advance(1000);
  assert.is(platform.sockets.length, 2, "first backoff is within 1 s");
  const second = platform.lastSocket;
  const after = [...serve(second).publishes, ...second.received()];
  const resent = after.find((p) => p.cmd === "publish" && p.topic.startsWith("devices/"));
  assert.equal([resent.messageId, resent.dup, resent.payload.toString()], [original.messageId, true, "must arrive"]);
  second.send({ cmd: "puback", messageId: resent.messageId });
  await message;
  const get = after.find((p) => p.cmd === "publish" && p.topic.startsWith("$iothub/twin/GET"));
  publishTo(second, "$iothub/twin/res/200/?$rid=" + rid(get.topic), { desired: { rate: 9, $version: 6 }, reported: { $version: 1 } });
  await platform.settle();
  const desired = events.filter((e) => e[0] === "desired");
  assert.equal(desired.map((e) => [e[1].rate, e[2], e[3]]), [[1, 4, true], [9, 6, true]]);
  publishTo(second, "$iothub/twin/PATCH/properties/desired/?$version=6", { rate: 9, $version: 6 });
  publishTo(second, "$iothub/twin/PATCH/properties/desired/?$version=7", { rate: 10, $version: 7 });
  assert.equal(events.filter((e) => e[0] === "desired").slice(2).map((e) => [e[1].rate, e[2], e[3]]), [[10, 7, false]], "an already-delivered version is not delivered twice");
});

test("backoff grows with full jitter and is capped", async () => {
  const { platform, client } = setup({ reconnectMinMs: 1000, reconnectMaxMs: 8000 });
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  platform.lastSocket.drop();
  const gaps: number[] = [];
  for (let attempt = 0; attempt < 8; attempt++) {
    const before = platform.time;
    const sockets = platform.sockets.length;
    while (platform.sockets.length === sockets) platform.advance(10);
    gaps.push(platform.time - before);
    platform.lastSocket.drop(); // the hub refuses the TCP connection every time
  }
  gaps.forEach((gap, i) => assert.ok(gap <= Math.min(8000, 1000 * 2 ** i) + 10, "attempt " + i + " waited " + gap));
  assert.ok(Math.max(...gaps.slice(3)) > 1000, "later waits grow: " + gaps.join(","));
});

test("SAS renewal: between 80% and 90% of the token's life, DISCONNECT and a new CONNECT with a fresh token", async () => {
  const { platform, client, events } = setup({ sasTtlSeconds: 100 });
  const connecting = client.connect();
  const first = platform.lastSocket;
  const { connect } = serve(first);
  await connecting;
  platform.advance(79999);
  assert.is(platform.sockets.length, 1, "not before 80% of the token's life");
  platform.advance(10001);
  assert.equal(first.received().map((p) => p.cmd), ["disconnect"], "by 90% of it");
  assert.ok(first.closedByClient);
  assert.is(platform.sockets.length, 2, "reconnects at once, no backoff");
  const second = serve(platform.lastSocket).connect;
  assert.is.not(second.password.toString(), connect.password.toString());
  assert.ok(/se=\d+$/.test(second.password.toString()));
  assert.ok(events.some((e) => e[0] === "disconnected" && e[1].code === "SAS_RENEWAL"));
  assert.ok(client.connected);
});

test("SAS renewal opens the new connection once the old socket has closed (or after 3 s), never two at once", async () => {
  const { platform, client } = setup({ sasTtlSeconds: 100 });
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  const first = platform.lastSocket;
  first.deferClose = true;
  while (!first.closedByClient) platform.advance(100);
  assert.equal(first.received().map((p) => p.cmd), ["disconnect"]);
  platform.advance(2900);
  assert.is(platform.sockets.length, 1, "no second socket while the first is open");
  first.finishClose();
  assert.is(platform.sockets.length, 2, "the new connection right after the close");
  serve(platform.lastSocket);
  await platform.settle();
  assert.ok(client.connected);
  // A platform that never reports the close: the renewal still goes ahead.
  const second = platform.lastSocket;
  second.deferClose = true;
  while (!second.closedByClient) platform.advance(100);
  platform.advance(2900);
  assert.is(platform.sockets.length, 2);
  platform.advance(100);
  assert.is(platform.sockets.length, 3, "after the 3 s wait");
  client.close();
});

test("a token valid for a month: its renewal is not a timer Node would fire at once", async () => {
  const { platform, client } = setup({ sasTtlSeconds: 30 * 86400, keepAliveSeconds: 0 });
  platform.maxTimerMs = 2147483647;
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  platform.advance(3600000);
  assert.is(platform.sockets.length, 1, "no reconnect storm within an hour");
  assert.ok(client.connected);
});

test("close() from a 'disconnected' listener holds: no new connection, no timer, connect() refused", async () => {
  const { platform, client } = setup({ sasTtlSeconds: 100 });
  client.on("disconnected", () => client.close());
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  platform.advance(90000); // the SAS renewal ends the connection; the listener closes the client
  await platform.settle();
  assert.is(platform.sockets.length, 1, "no socket after close()");
  assert.is(platform.pendingTimers, 0);
  assert.is((await client.connect().catch((e) => e)).code, "CLIENT_CLOSED");
});

test("close() from a listener on a message that came in the same chunk as the SUBACK holds: no 'connected', no reconnect, close() settles", async () => {
  const { platform, client, events } = setup();
  let closed = false;
  client.on("message", () => void client.close().then(() => (closed = true)));
  client.connect().catch(() => undefined);
  const socket = platform.lastSocket;
  socket.accept();
  socket.send({ cmd: "connack", returnCode: 0, sessionPresent: true });
  const subscribe = socket.received().find((p) => p.cmd === "subscribe");
  // A C2D message queued while the device was offline comes right after CONNACK, with the SUBACK.
  const c2d = generateWithMqttPacket({ cmd: "publish", topic: "devices/dev-1/messages/devicebound/%24.mid=1", payload: Buffer.from("stop"), qos: 1, messageId: 9, dup: false, retain: false });
  const suback = generateWithMqttPacket({ cmd: "suback", messageId: subscribe.messageId, granted: subscribe.subscriptions.map((s: { qos: number }) => s.qos) });
  socket.sendBytes(new Uint8Array([...c2d, ...suback]));
  await platform.settle();
  assert.equal(events.map((e) => e[0]), ["message"]);
  assert.ok(closed, "close() settled");
  assert.equal(socket.received().map((p) => p.cmd), ["puback", "disconnect"], "the message acknowledged, then DISCONNECT");
  platform.advance(600000);
  await platform.settle();
  assert.is(platform.sockets.length, 1, "no reconnect after close()");
  assert.is(platform.pendingTimers, 0);
  assert.not.ok(client.connected);
});

test("a given sasToken past its expiry stops the client: SAS_EXPIRED, no connection tried, no timer left", async () => {
  const platform = new FakePlatform(3);
  const token = (se: number) => "SharedAccessSignature sr=" + HOST + "%2Fdevices%2Fdev-1&sig=c2ln&se=" + se;
  // Already expired: connect() rejects at once, nothing dialled.
  const stale = new HubClient(platform, { hostName: HOST, deviceId: "dev-1", sasToken: token(platform.epochSeconds() - 1) });
  assert.is((await stale.connect().catch((error) => error)).code, "SAS_EXPIRED");
  assert.is(platform.sockets.length, 0);
  assert.is(platform.pendingTimers, 0);
  // Expiring while connected: the hub ends the connection, and the client does not retry the token.
  const client = new HubClient(platform, { hostName: HOST, deviceId: "dev-1", sasToken: token(platform.epochSeconds() + 60), reconnectMinMs: 100 });
  const errors: string[] = [];
  client.on("error", (error) => errors.push(error.code as string));
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  platform.advance(60000);
  platform.lastSocket.drop();
  platform.advance(600000);
  await platform.settle();
  assert.equal(errors, ["SAS_EXPIRED"]);
  assert.is(platform.sockets.length, 1, "no connection tried with the expired token");
  assert.is(platform.pendingTimers, 0);
  assert.not.ok(client.connected);
});

test("close() from a listener on a refusal: no provisioning again", async () => {
  const { platform, client } = setup();
  let provisioned = 0;
  client.reprovision = () => {
    provisioned++;
    return { result: new Promise(() => {}), cancel: () => {} };
  };
  client.reprovisionAfter = 1;
  client.on("disconnected", () => client.close());
  const connecting = client.connect().catch((e) => e);
  platform.lastSocket.accept();
  platform.lastSocket.send({ cmd: "connack", returnCode: 5, sessionPresent: false });
  platform.advance(60000);
  await platform.settle();
  assert.is(provisioned, 0);
  assert.is((await connecting).code, "CLIENT_CLOSED");
  assert.is(platform.pendingTimers, 0);
});

test("a connection that fails right after subscribing keeps backing off longer", async () => {
  const { platform, client } = setup({ reconnectMinMs: 1000, reconnectMaxMs: 64000 });
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  const waits: number[] = [];
  for (let round = 0; round < 7; round++) {
    platform.lastSocket.drop(); // e.g. an oversized twin document after every SUBACK
    const before = platform.time;
    const sockets = platform.sockets.length;
    while (platform.sockets.length === sockets) platform.advance(10);
    waits.push(platform.time - before);
    serve(platform.lastSocket);
  }
  assert.ok(Math.max(...waits.slice(4)) > 1000, "the backoff grew: " + waits.join(","));
});

test("provisioning again: rounds in a row wait longer; a refusal before any success rejects connect()", async () => {
  const { platform, client, events } = setup();
  let rounds = 0;
  client.reprovision = () => {
    rounds++;
    return { result: Promise.reject({ code: "DPS_DISABLED", message: "disabled", retryable: false }), cancel: () => {} };
  };
  client.reprovisionAfter = 1;
  const connecting = client.connect().catch((e) => e);
  platform.lastSocket.accept();
  platform.lastSocket.send({ cmd: "connack", returnCode: 5, sessionPresent: false });
  platform.advance(0);
  await platform.settle();
  assert.is(rounds, 1);
  assert.is((await connecting).code, "DPS_DISABLED", "retrying cannot fix a disabled enrollment");
  assert.ok(events.some((e) => e[0] === "reprovisioning"));
});

/** Runs the clock a second at a time for up to four hours, refusing the credentials of every new
 * connection (CONNACK 5), until `done`. */
async function refuseEveryConnectionUntil(platform: ReturnType<typeof setup>["platform"], done: () => boolean): Promise<void> {
  for (let t = 0; t < 4 * 3600000 && !done(); t += 1000) {
    platform.advance(1000);
    await platform.settle();
    const socket = platform.lastSocket;
    if (!socket.isClosed && socket.written.length === 0) {
      socket.accept();
      socket.send({ cmd: "connack", returnCode: 5, sessionPresent: false });
    }
  }
}

test("provisioning again after a stable life waits longer each round in a row", async () => {
  const { platform, client } = setup({ reconnectMinMs: 10, reconnectMaxMs: 20 });
  const starts: number[] = [];
  client.reprovision = () => {
    starts.push(platform.time);
    return { result: Promise.reject({ code: "DPS_SERVICE_ERROR", message: "busy", retryable: true }), cancel: () => {} };
  };
  client.reprovisionAfter = 1;
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  platform.lastSocket.drop();
  await refuseEveryConnectionUntil(platform, () => starts.length >= 4);
  assert.is(starts.length, 4);
  const gaps = starts.slice(1).map((t, i) => t - starts[i]);
  assert.ok(gaps.every((gap) => gap < 3600000 + 60000), "at most an hour apart: " + gaps.join(","));
  // Rounds after the first wait a jittered 0-1, 0-2, 0-4 minutes (not just a refused connection,
  // about a second here): with this seed, 44 s, 50 s and 59 s.
  assert.ok(gaps.reduce((sum, gap) => sum + gap, 0) >= 60000, "later rounds wait: " + gaps.join(","));
});

test("a provisioning hook that throws (anything, even undefined) is a failed round: a typed error event, and the client keeps trying", async () => {
  for (const [thrown, code] of [
    [{ code: "MODULE_MISSING", message: "no DPS module in Storage", retryable: true }, "MODULE_MISSING"],
    [undefined, "REPROVISION_FAILED"],
    [Object.create(null), "REPROVISION_FAILED"], // String() cannot convert it
  ] as [unknown, string][]) {
    const { platform, client, events } = setup({ reconnectMinMs: 10, reconnectMaxMs: 20 });
    let calls = 0;
    client.reprovision = () => {
      calls++;
      throw thrown;
    };
    client.reprovisionAfter = 1;
    const connecting = client.connect();
    serve(platform.lastSocket);
    await connecting;
    platform.lastSocket.drop();
    await refuseEveryConnectionUntil(platform, () => calls >= 2);
    assert.is(calls, 2, code + ": a second round came after the throw");
    assert.ok(events.some((e) => e[0] === "error" && (e[1] as { code?: string }).code === code), code);
    client.close();
  }
});

test("close() during provisioning again cancels it", async () => {
  const { platform, client } = setup();
  let cancelled = 0;
  client.reprovision = () => ({ result: new Promise(() => {}), cancel: () => cancelled++ });
  client.reprovisionAfter = 1;
  client.connect().catch(() => {});
  platform.lastSocket.accept();
  platform.lastSocket.send({ cmd: "connack", returnCode: 5, sessionPresent: false });
  platform.advance(0);
  await client.close();
  assert.is(cancelled, 1);
});

test("a resync GET unanswered when the link drops goes again once on the next connection, and the document is delivered once", async () => {
  const { platform, client, events } = setup();
  client.on("desired", (a: any, b: any, c: any) => events.push(["desired", a, b, c]));
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  assert.is(platform.lastSocket.received().filter((p) => p.topic && p.topic.startsWith("$iothub/twin/GET")).length, 1);
  platform.lastSocket.drop(); // before the twin arrived
  platform.advance(1000);
  const second = platform.lastSocket;
  const sent = [...serve(second).publishes, ...second.received()];
  const gets = sent.filter((p) => p.cmd === "publish" && p.topic.startsWith("$iothub/twin/GET"));
  assert.is(gets.length, 1, "the pending GET again, no second one beside it");
  publishTo(second, "$iothub/twin/res/200/?$rid=" + rid(gets[0].topic), { desired: { rate: 4, $version: 2 }, reported: { $version: 1 } });
  await platform.settle();
  assert.equal(events.filter((e) => e[0] === "desired").map((e) => [e[1].rate, e[2], e[3]]), [[4, 2, true]]);
});

test("a resync answered with no twin document is an 'error' event, and the client stays connected", async () => {
  const { platform, client, events } = setup();
  client.on("desired", () => {});
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  const get = platform.lastSocket.received().find((p) => p.topic.startsWith("$iothub/twin/GET"));
  publishTo(platform.lastSocket, "$iothub/twin/res/200/?$rid=" + rid(get.topic), { unexpected: true });
  await platform.settle();
  const errors = events.filter((e) => e[0] === "error");
  assert.equal(errors.map((e) => e[1].code), ["TWIN_BAD_RESPONSE"]);
  assert.ok(client.connected);
});

test("a complete desired document is delivered even when its version went back", async () => {
  const { platform, client, events } = setup();
  client.on("desired", (a: any, b: any, c: any) => events.push(["desired", a, b, c]));
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  const first = platform.lastSocket.received().find((p) => p.topic.startsWith("$iothub/twin/GET"));
  publishTo(platform.lastSocket, "$iothub/twin/res/200/?$rid=" + rid(first.topic), { desired: { rate: 1, $version: 500 }, reported: { $version: 1 } });
  await platform.settle();
  platform.lastSocket.drop(); // the identity is re-created meanwhile: versions start again
  platform.advance(1000);
  serve(platform.lastSocket);
  const get = platform.lastSocket.received().find((p) => p.topic.startsWith("$iothub/twin/GET"));
  publishTo(platform.lastSocket, "$iothub/twin/res/200/?$rid=" + rid(get.topic), { desired: { rate: 2, $version: 2 }, reported: { $version: 1 } });
  await platform.settle();
  publishTo(platform.lastSocket, "$iothub/twin/PATCH/properties/desired/?$version=3", { rate: 3, $version: 3 });
  assert.equal(events.filter((e) => e[0] === "desired").map((e) => [e[1].rate, e[2], e[3]]), [[1, 500, true], [2, 2, true], [3, 3, false]]);
});

test("twin calls after close() fail at once, and no 'error' follows close()", async () => {
  const { platform, client, events } = setup();
  client.on("desired", () => {});
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  await client.close();
  await platform.settle();
  assert.is((await client.getTwin().catch((e) => e)).code, "CLIENT_CLOSED");
  assert.is((await client.updateReported({ a: 1 }).catch((e) => e)).code, "CLIENT_CLOSED");
  assert.is(platform.pendingTimers, 0);
  assert.not.ok(events.some((e) => e[0] === "error"), "no error event after close()");
});

test("refused credentials on the first connection reject connect(), without retrying", async () => {
  const { platform, client } = setup();
  const connecting = client.connect();
  platform.lastSocket.accept();
  platform.lastSocket.send({ cmd: "connack", returnCode: 5, sessionPresent: false });
  const error = await connecting.catch((e) => e);
  assert.is(error.code, "CONNECT_REFUSED_NOT_AUTHORIZED");
  platform.advance(120000);
  assert.is(platform.sockets.length, 1);
});

test("with a re-provisioning hook, repeated refusals provision again and move to the new hub", async () => {
  const { platform, client, events } = setup();
  let provisioned = 0;
  client.reprovision = () => {
    provisioned++;
    return { result: Promise.resolve({ hostName: "hub-b.azure-devices.net", deviceId: "dev-1", sharedAccessKey: KEY }), cancel: () => {} };
  };
  const connecting = client.connect();
  for (let i = 0; i < 3; i++) {
    platform.lastSocket.accept();
    platform.lastSocket.send({ cmd: "connack", returnCode: 5, sessionPresent: false });
    const sockets = platform.sockets.length;
    if (i < 2) while (platform.sockets.length === sockets) platform.advance(10);
  }
  platform.advance(0); // the first round of provisioning again starts at once
  await platform.settle();
  assert.is(provisioned, 1);
  assert.ok(events.some((e) => e[0] === "reprovisioning"));
  assert.is(platform.lastSocket.target.host, "hub-b.azure-devices.net");
  serve(platform.lastSocket);
  await connecting;
  assert.is(client.hostName, "hub-b.azure-devices.net");
});

test("close(): DISCONNECT, and every pending promise settles with CLIENT_CLOSED", async () => {
  const { platform, client } = setup();
  const connecting = client.connect();
  const socket = platform.lastSocket;
  serve(socket);
  await connecting;
  const telemetry = client.sendTelemetry("unacknowledged");
  const twin = client.getTwin();
  const closing = client.close();
  assert.equal(socket.received().filter((p) => p.cmd === "disconnect").length, 1);
  await closing;
  assert.is((await telemetry.catch((e) => e)).code, "CLIENT_CLOSED");
  assert.is((await twin.catch((e) => e)).code, "CLIENT_CLOSED");
  assert.is((await client.sendTelemetry("late").catch((e) => e)).code, "CLIENT_CLOSED");
  assert.is(platform.pendingTimers, 0, "no timer left behind");
  platform.advance(600000);
  assert.is(platform.sockets.length, 1, "no reconnect after close");
});

test("a listener that throws becomes an 'error' event and breaks nothing", async () => {
  const { platform, client, events } = setup();
  client.on("message", () => {
    throw new Error("app bug");
  });
  const connecting = client.connect();
  const socket = platform.lastSocket;
  serve(socket);
  await connecting;
  publishTo(socket, "devices/dev-1/messages/devicebound/", "x", 1, 5);
  assert.ok(events.some((e) => e[0] === "error" && e[1].code === "HANDLER_FAILED"));
  assert.equal(socket.received().map((p) => p.cmd), ["puback"]);
});

test("a platform's limits bound the client when its options do not", async () => {
  const platform = new FakePlatform();
  platform.limits = { maxQueuedMessages: 1, maxPacketBytes: 100 };
  const client = new HubClient(platform, { hostName: HOST, deviceId: "dev-1", sharedAccessKey: KEY });
  const errors: any[] = [];
  const messages: any[] = [];
  client.on("disconnected", (error: any) => errors.push(["disconnected", error.code]));
  client.on("error", (error: any) => errors.push(["error", error.code, error.message]));
  client.on("message", (message: any) => messages.push(message));
  client.sendTelemetry("fits");
  assert.is((await client.sendTelemetry("over the platform's queue bound").catch((e) => e)).code, "QUEUE_FULL");
  const connecting = client.connect();
  const socket = platform.lastSocket;
  serve(socket);
  await connecting;
  socket.received();
  publishTo(socket, "devices/dev-1/messages/devicebound/", new Uint8Array(200), 1, 9);
  assert.equal(errors, [["error", "MQTT_TOO_LARGE", "message of 242 bytes on devices/dev-1/messages/devicebound/ dropped: over the maximum of 100"]], "a message over the platform's 100 bytes is reported");
  assert.equal(socket.received().map((p) => [p.cmd, p.messageId]), [["puback", 9]], "and acknowledged, or the hub would send it on every connection");
  publishTo(socket, "devices/dev-1/messages/devicebound/", "small", 1, 10);
  assert.equal(messages.map((m) => Buffer.from(m.payload).toString()), ["small"], "the connection goes on");
  const roomy = new HubClient(platform, { hostName: HOST, deviceId: "dev-2", sharedAccessKey: KEY, maxQueuedMessages: 3 });
  let refused: unknown;
  for (const text of ["1", "2", "3"]) roomy.sendTelemetry(text).catch((error) => (refused = error));
  await platform.settle();
  assert.is(refused, undefined, "options win over platform limits: three queued, none refused");
});

test("CONNACK and a packet the session refuses in one chunk: nothing escapes the data handler", async () => {
  const { platform, client, events } = setup({ maxPacketBytes: 64 });
  const connecting = client.connect();
  const socket = platform.lastSocket;
  socket.accept();
  socket.received();
  const connack = generateWithMqttPacket({ cmd: "connack", returnCode: 0, sessionPresent: true });
  // (A PUBLISH over the limit is dropped, not refused; a SUBACK is refused.)
  const tooLarge = generateWithMqttPacket({ cmd: "suback", messageId: 3, granted: Array(100).fill(1) });
  assert.not.throws(() => socket.sendBytes(new Uint8Array(Buffer.concat([connack, tooLarge]))));
  assert.is((await connecting.catch((e) => e)).code, "MQTT_TOO_LARGE", "the first connection fails with the real reason");
  assert.ok(socket.closedByClient);
  assert.ok(events.some((e) => e[0] === "disconnected" && e[1].code === "MQTT_TOO_LARGE"));
});

test("twin requests and method responses never wait behind telemetry nor count against its bounds", async () => {
  const { platform, client } = setup({ maxQueuedMessages: 2, maxInflight: 1 });
  client.onMethod("slow", () => Promise.resolve({ status: 200, payload: "done" }));
  client.sendTelemetry("a");
  client.sendTelemetry("b");
  let twinError: unknown;
  const twin = client.getTwin().catch((error) => (twinError = error));
  const connecting = client.connect();
  const socket = platform.lastSocket;
  const { publishes } = serve(socket);
  await connecting;
  assert.equal(publishes.map((p: any) => p.payload.toString()), ["a"], "telemetry: one in flight, 'b' waits for the window");
  const [get] = socket.received();
  assert.ok(get.topic.startsWith("$iothub/twin/GET/"), "the twin request went out at once, ahead of 'b'");
  assert.is(twinError, undefined, "not refused though the telemetry queue is full");
  publishTo(socket, "$iothub/methods/POST/slow/?$rid=9", "");
  await platform.settle();
  assert.equal(socket.received().map((p) => [p.topic, p.payload.toString()]), [["$iothub/methods/res/200/?$rid=9", '"done"']]);
  publishTo(socket, "$iothub/twin/res/200/?$rid=" + rid(get.topic), { desired: { $version: 1 }, reported: { $version: 1 } });
  assert.ok(await twin);
});

test("a request unanswered when the link drops goes again exactly once on the next connection", async () => {
  const { platform, client } = setup({ maxInflight: 1 });
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  client.sendTelemetry("in flight");
  client.sendTelemetry("waiting for the inflight window");
  const updated = client.updateReported({ counter: 1 }); // once queued behind the waiting message
  const first = platform.lastSocket.received().filter((p) => p.topic.startsWith("$iothub/twin/PATCH"));
  assert.is(first.length, 1);
  platform.lastSocket.drop();
  platform.advance(1000);
  const { publishes } = serve(platform.lastSocket);
  const patches = [...publishes, ...platform.lastSocket.received()].filter((p: any) => p.topic.startsWith("$iothub/twin/PATCH"));
  assert.is(patches.length, 1, "once, with a fresh $rid, not also carried over in the session's queue");
  assert.is.not(rid(patches[0].topic), rid(first[0].topic));
  publishTo(platform.lastSocket, "$iothub/twin/res/204/?$rid=" + rid(patches[0].topic) + "&$version=5", "");
  assert.is(await updated, 5);
});

test("bad options throw typed errors at construction", () => {
  const platform = new FakePlatform();
  assert.is(errorCode(() => new HubClient(platform, { hostName: HOST, deviceId: "dev-1" })), "ARGUMENT_INVALID");
  assert.is(errorCode(() => new HubClient(platform, { hostName: HOST, deviceId: "bad id", sharedAccessKey: KEY })), "DEVICE_ID_INVALID");
  assert.is(errorCode(() => new HubClient(platform, { connectionString: "HostName=h;DeviceId=d" })), "CONNECTION_STRING_CREDENTIAL");
  assert.is(errorCode(() => new HubClient(platform, { hostName: HOST, deviceId: "d", sharedAccessKey: "%%%" })), "KEY_INVALID");
});


test("a method answer JSON cannot carry, or a rejection with nothing, still answers 500, sync or async, and nothing is left unhandled", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  try {
    const { platform, client } = setup();
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    client.onMethod("big", async () => ({ status: 200, payload: { count: BigInt(10) } }));
    client.onMethod("cycle", () => ({ status: 200, payload: cyclic }));
    client.onMethod("nothing", () => Promise.reject(undefined));
    client.onMethod("fn", async () => ({ status: 200, payload: () => 1 }));
    // Values String() cannot convert (no prototype): rejected with, and thrown.
    client.onMethod("opaque", () => Promise.reject(Object.create(null)));
    client.onMethod("opaqueSync", () => {
      throw Object.create(null);
    });
    const connecting = client.connect();
    const socket = platform.lastSocket;
    serve(socket);
    await connecting;
    let n = 0;
    for (const name of ["big", "cycle", "nothing", "fn", "opaque", "opaqueSync"]) publishTo(socket, "$iothub/methods/POST/" + name + "/?$rid=" + ++n, "{}");
    await platform.settle();
    await new Promise((resolve) => setTimeout(resolve, 10)); // unhandled rejections are reported a turn later
    const answers = socket.received().map((p) => [rid(p.topic), p.topic.split("/")[3], JSON.parse(p.payload.toString()).message]);
    answers.sort((a, b) => Number(a[0]) - Number(b[0]));
    assert.equal(answers.map((a) => a[1]), ["500", "500", "500", "500", "500", "500"]);
    assert.match(answers[0][2], /^method big failed: not JSON: /);
    assert.match(answers[1][2], /^method cycle failed: not JSON: /);
    assert.is(answers[2][2], "method nothing failed: undefined");
    assert.is(answers[3][2], "method fn failed: not JSON: a function");
    assert.is(answers[4][2], "method opaque failed: a value with no text");
    assert.is(answers[5][2], "method opaqueSync failed: a value with no text");
    assert.equal(unhandled, []);
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("telemetry or a reported patch JSON cannot carry is a typed rejection, not a throw", async () => {
  const { platform, client } = setup();
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  const cyclic: { self?: unknown } = {};
  cyclic.self = cyclic;
  let patched: Promise<number> | undefined;
  assert.not.throws(() => (patched = client.updateReported(cyclic as { [key: string]: unknown })));
  assert.is((await patched!.catch((error) => error)).code, "ARGUMENT_INVALID");
  assert.is((await client.sendTelemetry({ n: BigInt(1) }).catch((error) => error)).code, "ARGUMENT_INVALID");
  assert.equal(platform.lastSocket.received(), [], "nothing sent");
});

test("a listener throwing undefined is an 'error' event too, and the client still reconnects", async () => {
  const { platform, client, events } = setup({ reconnectMinMs: 10, reconnectMaxMs: 20 });
  client.on("disconnected", () => {
    throw undefined;
  });
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  assert.not.throws(() => platform.lastSocket.drop());
  assert.ok(events.some((e) => e[0] === "error" && e[1].code === "HANDLER_FAILED" && / threw: undefined$/.test(e[1].message)));
  platform.advance(100);
  assert.is(platform.sockets.length, 2, "a new connection after the drop");
  client.close();
});

test("a listener throwing a value String() cannot convert is an 'error' event, not an exception out of the socket's callback", async () => {
  const { platform, client, events } = setup();
  client.on("connected", () => {
    throw Object.create(null); // no toString: String() of it throws
  });
  client.on("disconnected", () => {
    throw { toString: () => { throw new Error("no"); } };
  });
  const connecting = client.connect();
  assert.not.throws(() => serve(platform.lastSocket));
  await connecting;
  assert.not.throws(() => platform.lastSocket.drop());
  const failed = events.filter((e) => e[0] === "error" && e[1].code === "HANDLER_FAILED").map((e) => e[1].message);
  assert.equal(failed, ["connected listener threw: a value with no text", "disconnected listener threw: a value with no text"]);
  client.close();
});

test("an assignment the client cannot use is a failed round of provisioning again: connect() settles, nothing half changed", async () => {
  const { platform, client, events } = setup();
  let rounds = 0;
  client.reprovision = () => {
    rounds++;
    // Azure allows '+' in a device id; MQTT topics cannot carry it, so the client refuses it.
    return { result: Promise.resolve({ hostName: "hub-b.azure-devices.net", deviceId: "dev+1", sharedAccessKey: KEY }), cancel: () => {} };
  };
  const connecting = client.connect();
  let outcome: unknown = "pending";
  connecting.then(
    () => (outcome = "connected"),
    (error) => (outcome = error.code),
  );
  for (let i = 0; i < 3; i++) {
    platform.lastSocket.accept();
    platform.lastSocket.send({ cmd: "connack", returnCode: 5, sessionPresent: false });
    const sockets = platform.sockets.length;
    if (i < 2) while (platform.sockets.length === sockets) platform.advance(10);
  }
  platform.advance(0);
  await platform.settle();
  assert.is(rounds, 1);
  assert.is(outcome, "DEVICE_ID_INVALID", "connect() settled with the typed reason");
  assert.is(client.hostName, HOST, "still the old identity");
  assert.ok(!events.some((e) => e[0] === "error" && !e[1].code));
  assert.is(platform.pendingTimers, 0, "no timer left waiting for nothing");
});

test("a keep-alive over the hub's longest (1177 s) is capped to it", async () => {
  const { platform, client } = setup({ keepAliveSeconds: 1800 });
  const connecting = client.connect();
  const { connect } = serve(platform.lastSocket);
  await connecting;
  assert.is(connect.keepalive, 1177);
  client.close();
});

test("the method prefix's length the client cuts at is the prefix's", () => {
  assert.is(HubTopicLength.MethodPrefix, HubTopic.MethodPrefix.length);
});

test.run();
