// The driver on a fake platform: socket lifecycle, the one timer, and re-entrant commands.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SessionDriver } from "../../core/driver";
import { liteError } from "../../core/errors";
import { MqttSession, type SessionEvent, type SessionOptions } from "../../core/session";
import { FakePlatform } from "../helpers/fake-platform";

function setup(options: { keepAliveSeconds?: number; connectTimeoutMs?: number; session?: Partial<SessionOptions> } = {}) {
  const platform = new FakePlatform();
  const events: SessionEvent[] = [];
  const session = new MqttSession({ clientId: "dev", username: "u", keepAliveSeconds: options.keepAliveSeconds ?? 30, ...options.session });
  const driver = new SessionDriver(platform, session, (event) => events.push(event), { connectTimeoutMs: options.connectTimeoutMs });
  return { platform, events, session, driver };
}

/** Opens the driver's connection and plays the CONNACK; what the client wrote is read. */
function connectedSocket(platform: FakePlatform, driver: SessionDriver) {
  driver.open({ host: "hub.example", port: 8883 });
  const socket = platform.lastSocket;
  socket.accept();
  socket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  socket.received();
  return socket;
}

test("CONNECT goes out when the socket opens, with this connection's password", () => {
  const { platform, events, driver } = setup();
  driver.open({ host: "hub.example", port: 8883 }, "sas-1");
  const socket = platform.lastSocket;
  assert.equal(socket.target, { host: "hub.example", port: 8883 });
  assert.is(socket.written.length, 0, "nothing before the socket is open");
  socket.accept();
  const [connect] = socket.received();
  assert.is(connect.cmd, "connect");
  assert.is(connect.password.toString(), "sas-1");
  assert.is((driver as unknown as { password_: unknown }).password_, undefined, "the token is not kept once CONNECT is out");
  socket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  assert.equal(events, [{ type: "connected", sessionPresent: false }]);
});

test("the one timer follows the session: keep-alive pings happen in virtual time", () => {
  const { platform, driver } = setup({ keepAliveSeconds: 10 });
  driver.open({ host: "h", port: 1 });
  const socket = platform.lastSocket;
  socket.accept();
  socket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  socket.received();
  platform.advance(9999);
  assert.equal(socket.received(), []);
  platform.advance(1);
  assert.equal(socket.received().map((p) => p.cmd), ["pingreq"]);
  socket.send({ cmd: "pingresp" });
  assert.is(platform.pendingTimers, 1, "exactly one timer armed");
});

test("a listener may give commands from inside an event (re-entrant pump)", () => {
  const platform = new FakePlatform();
  const session = new MqttSession({ clientId: "dev" });
  const driver = new SessionDriver(platform, session, (event) => {
    if (event.type === "connected") {
      session.subscribe([{ topic: "a/#", qos: 1 }], platform.now());
      driver.pump();
    }
  });
  driver.open({ host: "h", port: 1 });
  platform.lastSocket.accept();
  platform.lastSocket.received();
  platform.lastSocket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  assert.equal(platform.lastSocket.received().map((p) => p.cmd), ["subscribe"]);
});

test("a socket that never opens is given up after the connect timeout", () => {
  const { platform, events, driver } = setup({ connectTimeoutMs: 5000 });
  driver.open({ host: "h", port: 1 });
  platform.advance(4999);
  assert.equal(events, []);
  platform.advance(1);
  assert.is(events.length, 1);
  assert.is((events[0] as any).error.code, "CONNECT_TIMEOUT");
  assert.ok(platform.lastSocket.closedByClient);
  assert.not.ok(driver.socketOpen);
});

test("a socket that fails to open reports the platform's error", () => {
  const { platform, events, driver } = setup();
  driver.open({ host: "h", port: 1 });
  platform.lastSocket.drop(liteError("TLS_CERTIFICATE_INVALID", "self-signed certificate"));
  assert.is((events[0] as any).error.code, "TLS_CERTIFICATE_INVALID");
  assert.is(platform.pendingTimers, 0, "no timer left behind");
});

test("a server that drops the link gives 'closed' with the reason; the driver can open again", () => {
  const { platform, events, driver } = setup();
  driver.open({ host: "h", port: 1 });
  platform.lastSocket.accept();
  platform.lastSocket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  platform.lastSocket.drop();
  assert.equal(events.map((e) => e.type), ["connected", "closed"]);
  assert.is((events[1] as any).error.code, "CONNECTION_LOST");
  assert.is(platform.pendingTimers, 0);
  driver.open({ host: "h", port: 1 });
  assert.is(platform.sockets.length, 2);
});

test("close() writes DISCONNECT, then closes the socket; late socket callbacks are ignored", () => {
  const { platform, events, driver } = setup();
  driver.open({ host: "h", port: 1 });
  const socket = platform.lastSocket;
  socket.accept();
  socket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  socket.received();
  driver.close();
  assert.equal(socket.received().map((p) => p.cmd), ["disconnect"]);
  assert.ok(socket.closedByClient);
  assert.equal(events.map((e) => [e.type, (e as any).error]), [["connected", undefined], ["closed", undefined]]);
  assert.is(platform.pendingTimers, 0);
});

test("a socket replaced by a new connection is not heard any more: late data or a late open from the old one changes nothing", () => {
  const { platform, events, driver } = setup();
  driver.open({ host: "h", port: 1 });
  const old = platform.lastSocket;
  old.accept();
  old.received();
  old.drop(liteError("SOCKET_ERROR", "gone", { retryable: true }));
  driver.open({ host: "h", port: 1 });
  const fresh = platform.lastSocket;
  events.length = 0;
  old.accept();
  assert.equal(fresh.written.length, 0, "the new socket is not opened by the old one's callback");
  fresh.accept();
  assert.equal(fresh.received().map((p) => p.cmd), ["connect"]);
  // The session now waits for CONNACK: one from the old socket must not count.
  old.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  assert.equal(events, [], "nothing from the old socket");
  fresh.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  assert.equal(events, [{ type: "connected", sessionPresent: false }]);
});

test("with no connect timeout given, a socket that never opens is given up after 30 s", () => {
  const platform = new FakePlatform();
  const events: SessionEvent[] = [];
  const driver = new SessionDriver(platform, new MqttSession({ clientId: "dev" }), (event) => events.push(event));
  driver.open({ host: "h", port: 1 });
  platform.advance(29999);
  assert.equal(events, []);
  platform.advance(1);
  assert.is((events[0] as any).error.code, "CONNECT_TIMEOUT");
});

test("close() before the socket opened ends it quietly", () => {
  const { platform, events, driver } = setup();
  driver.open({ host: "h", port: 1 });
  driver.close();
  assert.equal(events, [{ type: "closed" }]);
  assert.ok(platform.lastSocket.closedByClient);
  assert.is(platform.pendingTimers, 0);
});

test("a protocol error from the server closes the socket", () => {
  const { platform, events, driver } = setup();
  driver.open({ host: "h", port: 1 });
  platform.lastSocket.accept();
  platform.lastSocket.sendBytes(new Uint8Array([0x00, 0x00]));
  assert.is((events[0] as any).error.code, "MQTT_BAD_TYPE");
  assert.ok(platform.lastSocket.closedByClient);
});

test("a platform whose connect() throws (against its contract): a 'closed' event, no deadline left spinning", () => {
  const { platform, events, driver } = setup();
  platform.connect = () => {
    throw new Error("resolve hook failed");
  };
  driver.open({ host: "hub.example", port: 8883 }, "sas-1");
  assert.equal(events.map((e) => [e.type, (e as { error?: { code?: string } }).error?.code]), [["closed", "CONNECTION_REFUSED"]]);
  assert.is(platform.pendingTimers, 0, "no timer armed for a socket that does not exist");
  assert.not.ok(driver.socketOpen);
});

test("a socket that refuses more holds publishes in the session's bounded queue until it drains", () => {
  const { platform, events, session, driver } = setup({ keepAliveSeconds: 60, session: { maxQueuedMessages: 3 } });
  const socket = connectedSocket(platform, driver);
  socket.congested = true;
  const first = session.publish("t", "0", 0, platform.now());
  driver.pump();
  // That write was refused (over the high-water mark): nothing more goes to the socket.
  assert.equal(socket.received().map((p) => p.payload.toString()), ["0"]);
  assert.equal(events.filter((e) => e.type === "published").map((e) => (e as { id: number }).id), [first]);
  const second = session.publish("t", "1", 1, platform.now());
  session.publish("t", "2", 0, platform.now());
  session.publish("t", "3", 0, platform.now());
  driver.pump();
  assert.equal(socket.received(), [], "held while the socket is full");
  assert.throws(() => session.publish("t", "4", 0, platform.now()), (error: { code?: string }) => error.code === "QUEUE_FULL", "the producer is stopped by the queue's bound");
  platform.advance(60000);
  assert.not.ok(events.some((e) => e.type === "publishFailed"), "no PUBACK deadline runs for a publish not handed over");
  socket.received();
  socket.drain();
  assert.equal(socket.received().filter((p) => p.cmd === "publish").map((p) => [p.payload.toString(), p.qos]), [["1", 1], ["2", 0], ["3", 0]]);
  socket.send({ cmd: "puback", messageId: second });
  assert.ok(events.some((e) => e.type === "published" && e.id === second));
  assert.is(session.publish("t", "5", 0, platform.now()) < 0, true, "room again");
});

test("publishes handed to a socket in one batch wait for their PUBACKs from when the socket has sent them all, not from the hand-over", () => {
  const { platform, events, session, driver } = setup({ keepAliveSeconds: 240, session: { ackTimeoutMs: 30000 } });
  const socket = connectedSocket(platform, driver);
  // Queued while offline, then handed over in one batch: a slow link takes 80 s to send it.
  socket.congested = true;
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) ids.push(session.publish("t", new Uint8Array(100000), 1, platform.now()));
  driver.pump();
  assert.is(socket.received().filter((p) => p.cmd === "publish").length, 10);
  platform.advance(80000);
  assert.ok(session.connected, "no PUBACK is overdue while the socket still holds the publishes");
  socket.drain();
  platform.advance(29000);
  for (const id of ids.slice(0, 9)) socket.send({ cmd: "puback", messageId: id });
  assert.ok(session.connected, "each PUBACK has the whole ack timeout from the drain");
  platform.advance(1000);
  assert.is(events.filter((e) => e.type === "published").length, 9);
  const closed = events.find((e) => e.type === "closed") as { error?: { code?: string } } | undefined;
  assert.is(closed && closed.error && closed.error.code, "PUBACK_TIMEOUT", "the one never acknowledged still counts as a dead link");
});

test("a drain from a socket already replaced changes nothing", () => {
  const { platform, session, driver } = setup();
  driver.open({ host: "h", port: 1 });
  const old = platform.lastSocket;
  old.accept();
  old.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  old.congested = true;
  session.publish("t", "a", 0, platform.now());
  driver.pump();
  old.drop();
  driver.open({ host: "h", port: 1 });
  const fresh = platform.lastSocket;
  fresh.accept();
  fresh.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  fresh.congested = true;
  session.publish("t", "b", 0, platform.now());
  driver.pump();
  session.publish("t", "c", 0, platform.now());
  driver.pump();
  assert.equal(fresh.received().filter((p) => p.cmd === "publish").map((p) => p.payload.toString()), ["b"]);
  driver.drained(old);
  assert.equal(fresh.received(), [], "still held: the new socket has not drained");
  fresh.drain();
  assert.equal(fresh.received().map((p) => p.payload.toString()), ["c"]);
});

test.run();
