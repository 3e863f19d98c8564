// How the hub client recovers from what the field throws at it, on a fake platform: a twin
// document older than a patch already delivered, a throttled resync, error statuses with text
// bodies, an outage long enough to provision again, and a cached hub that refuses the device.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connectProvisioned, hubClientFor, type Provisioner } from "../../core/hub-dps";
import type { HubOptions } from "../../core/hub-options";
import { FakePlatform, type FakeSocket } from "../helpers/fake-platform";
import { HOST, KEY, publishTo, rid, serve, setup } from "../helpers/hub-fake";

function twinGets(socket: FakeSocket, received = socket.received()): any[] {
  return received.filter((p) => p.cmd === "publish" && p.topic.indexOf("$iothub/twin/GET/") === 0);
}

function desiredEvents(events: Array<[string, any, any?, any?]>): Array<[number, number, boolean]> {
  return events.filter((e) => e[0] === "desired").map((e) => [e[1].rate, e[2], e[3]]);
}

/** A client with a desired listener, connected; its resync GET is out, unanswered. */
async function connectedWithResyncOut() {
  const { platform, client, events } = setup({}, true);
  const connecting = client.connect();
  const { publishes } = serve(platform.lastSocket);
  await connecting;
  const socket = platform.lastSocket;
  const [get] = twinGets(socket, publishes.concat(socket.received()));
  return { platform, client, events, socket, get };
}

test("a resync answered with a document older than a patch delivered meanwhile is asked again, and the device ends on the newest", async () => {
  const { events, platform, socket, get } = await connectedWithResyncOut();
  // The hub pushes v6, then answers the GET with the document it read before (v5).
  publishTo(socket, "$iothub/twin/PATCH/properties/desired/?$version=6", { rate: 6, $version: 6 });
  publishTo(socket, "$iothub/twin/res/200/?$rid=" + rid(get.topic), { desired: { rate: 5, $version: 5 }, reported: { $version: 1 } });
  await platform.settle();
  assert.equal(desiredEvents(events), [[6, 6, false]], "the stale document is not delivered");
  const [again] = twinGets(socket);
  assert.ok(again, "the twin is asked for again");
  publishTo(socket, "$iothub/twin/res/200/?$rid=" + rid(again.topic), { desired: { rate: 6, $version: 6 }, reported: { $version: 1 } });
  await platform.settle();
  assert.equal(desiredEvents(events), [[6, 6, false], [6, 6, true]]);
  assert.is(events.filter((e) => e[0] === "error").length, 0);
});

test("a resync document at the patch's version, or with no patch meanwhile, is delivered as it is", async () => {
  const { events, platform, socket, get } = await connectedWithResyncOut();
  publishTo(socket, "$iothub/twin/res/200/?$rid=" + rid(get.topic), { desired: { rate: 3, $version: 3 }, reported: { $version: 1 } });
  await platform.settle();
  assert.equal(desiredEvents(events), [[3, 3, true]]);
  assert.is(twinGets(socket).length, 0, "no second GET");
});

test("a resync throttled past its retries is asked again later, with growing waits, while the connection lasts", async () => {
  // A month-long token: no SAS renewal (a reconnect, which resyncs anyway) within the test.
  const { platform, client, events } = setup({ keepAliveSeconds: 0, sasTtlSeconds: 30 * 86400 }, true);
  const connecting = client.connect();
  const { publishes } = serve(platform.lastSocket);
  await connecting;
  const socket = platform.lastSocket;
  const sentAt: number[] = [];
  let pending = twinGets(socket, publishes.concat(socket.received()));
  // Every GET is answered 429 for two hours; then the hub answers.
  for (const end = platform.time + 2 * 3600000; platform.time < end; ) {
    for (const get of pending) {
      sentAt.push(platform.time);
      publishTo(socket, "$iothub/twin/res/429/?$rid=" + rid(get.topic), { errorCode: 429001, message: "throttled" });
    }
    await platform.settle();
    platform.advance(1000);
    pending = twinGets(socket);
  }
  assert.ok(client.connected, "still connected");
  const throttled = events.filter((e) => e[0] === "error").map((e) => e[1].code);
  assert.ok(throttled.length >= 4 && throttled.every((code) => code === "TWIN_THROTTLED"), throttled.join());
  // Each failed resync is 4 GETs (the first and 3 quick retries, seconds apart); the rounds come
  // later and later, never over an hour apart.
  const rounds: number[][] = [];
  for (let i = 0; i < sentAt.length; i += 4) rounds.push(sentAt.slice(i, i + 4));
  assert.ok(rounds.length >= 4, "asked again " + rounds.length + " times in two hours");
  assert.ok(rounds.every((round) => round.length === 4 && round[3] - round[0] < 15000), "4 GETs a round, seconds apart: " + rounds.map((round) => round.map((t) => t - round[0]).join("/")).join(" "));
  const waits = rounds.slice(1).map((round, i) => round[0] - rounds[i][3]);
  assert.ok(waits.every((wait) => wait <= 3600000 + 1000), "never over an hour: " + waits.join());
  const half = Math.floor(waits.length / 2);
  const mean = (list: number[]) => list.reduce((sum, wait) => sum + wait, 0) / list.length;
  assert.ok(mean(waits.slice(half)) > 2 * mean(waits.slice(0, half)), "later waits are longer: " + waits.join());
  // Answered at last: the document is delivered, and no further GET follows.
  for (let t = 0; t < 3600000 && !pending.length; t += 1000) {
    platform.advance(1000);
    pending = twinGets(socket);
  }
  publishTo(socket, "$iothub/twin/res/200/?$rid=" + rid(pending[0].topic), { desired: { rate: 9, $version: 9 }, reported: { $version: 1 } });
  await platform.settle();
  assert.equal(desiredEvents(events), [[9, 9, true]]);
  platform.advance(2 * 3600000);
  assert.is(twinGets(socket).length, 0);
});

test("a twin 503 or 429 whose body is not JSON is still retried, and keeps its status", async () => {
  const { platform, client } = setup({ keepAliveSeconds: 0 });
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  const socket = platform.lastSocket;
  const version = client.updateReported({ firmware: "1.2.0" });
  const [first] = socket.received().filter((p) => p.cmd === "publish");
  publishTo(socket, "$iothub/twin/res/503/?$rid=" + rid(first.topic), "Service Unavailable");
  await platform.settle();
  platform.advance(10000);
  const [again] = socket.received().filter((p) => p.cmd === "publish");
  assert.ok(again, "the PATCH goes again");
  publishTo(socket, "$iothub/twin/res/204/?$rid=" + rid(again.topic) + "&$version=7", "");
  assert.is(await version, 7);
  // A 400 with a text body: not retried, and its status is kept.
  const refused = client.updateReported({ bad: true }).catch((error) => error);
  const [third] = socket.received().filter((p) => p.cmd === "publish");
  publishTo(socket, "$iothub/twin/res/400/?$rid=" + rid(third.topic), "Bad Request");
  const error = await refused;
  assert.is(error.code, "TWIN_BAD_REQUEST");
  assert.is(error.status, 400);
  // A 200 that is not JSON is still a bad response.
  const twin = client.getTwin().catch((failure) => failure);
  const [get] = socket.received().filter((p) => p.cmd === "publish");
  publishTo(socket, "$iothub/twin/res/200/?$rid=" + rid(get.topic), "not json");
  assert.is((await twin).code, "TWIN_BAD_RESPONSE");
});

/** Serves every new connection, CONNACK after `connackAfterMs`, for `ms` of virtual time, and
 * counts the connections that became ready. */
async function serveSlowly(platform: FakePlatform, client: { on(event: string, listener: () => void): unknown }, connackAfterMs: number, ms: number): Promise<number> {
  let ready = 0;
  client.on("connected", () => ready++);
  const acceptedAt = new Map<FakeSocket, number>();
  for (const end = platform.time + ms; platform.time < end; ) {
    const socket = platform.lastSocket;
    if (socket && !socket.isClosed && !acceptedAt.has(socket)) {
      acceptedAt.set(socket, platform.time);
      socket.accept();
      socket.received();
    } else if (socket && !socket.isClosed && acceptedAt.get(socket)! >= 0 && platform.time - acceptedAt.get(socket)! >= connackAfterMs) {
      acceptedAt.set(socket, -1);
      socket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
      const subscribe = socket.received().find((p) => p.cmd === "subscribe");
      socket.send({ cmd: "suback", messageId: subscribe.messageId, granted: subscribe.subscriptions.map((x: any) => x.qos) });
    }
    platform.advance(100);
    await platform.settle();
  }
  return ready;
}

test("a link slower than the token's life allows: no connection is closed for renewal the moment it is ready", async () => {
  const { platform, client } = setup({ sasTtlSeconds: 10, keepAliveSeconds: 0 });
  const lived: number[] = [];
  let readyAt = -1;
  client.on("connected", () => (readyAt = platform.time));
  client.on("disconnected", () => {
    if (readyAt >= 0) lived.push(platform.time - readyAt);
    readyAt = -1;
  });
  client.connect().catch(() => undefined);
  await serveSlowly(platform, client, 8500, 10 * 60000);
  // Before: 43 of 69 connections in these ten minutes were closed for renewal 0 ms after ready.
  assert.ok(lived.length >= 10, lived.length + " connections ended");
  assert.ok(lived.every((ms) => ms >= 1000), "each lived a tenth of its token's life at least: " + lived.join());
  await client.close();
});

test("renewals on schedule are no failures: a short token on a slow link never adds up to provisioning again", async () => {
  const { platform, client } = setup({ sasTtlSeconds: 60, keepAliveSeconds: 0 });
  let reprovisions = 0;
  client.reprovision = () => {
    reprovisions++;
    return { result: new Promise(() => undefined), cancel: () => undefined };
  };
  client.connect().catch(() => undefined);
  // CONNACK 25 s after each socket opens: each connection lives ~23 s before its renewal.
  const count = await serveSlowly(platform, client, 25000, 2000000);
  assert.ok(count >= 30, count + " connections");
  assert.is(reprovisions, 0);
});

test("a short-lived token (60 s): connections that lived to their renewal count as stable, so drops hours apart never add up to provisioning again", async () => {
  const { platform, client } = setup({ sasTtlSeconds: 60, keepAliveSeconds: 0, reconnectMinMs: 1000, reconnectMaxMs: 60000 });
  let reprovisions = 0;
  client.reprovision = () => {
    reprovisions++;
    return { result: new Promise(() => undefined), cancel: () => undefined };
  };
  const reconnectDelays: number[] = [];
  let droppedAt = -1;
  client.on("connected", () => {
    if (droppedAt >= 0) reconnectDelays.push(platform.time - droppedAt);
    droppedAt = -1;
  });
  client.connect().catch(() => undefined);
  // Thirty hours; the link drops once an hour (renewals every ~50 s in between).
  for (let hour = 0; hour < 30; hour++) {
    await serveSlowly(platform, client, 0, 3600000);
    droppedAt = platform.time;
    platform.lastSocket.drop({ code: "SOCKET_ERROR", message: "link lost", retryable: true } as never);
  }
  await serveSlowly(platform, client, 0, 5000);
  assert.is(reprovisions, 0, "no provisioning again");
  assert.ok(reconnectDelays.length >= 29 && reconnectDelays.every((ms) => ms <= 1100), "every reconnect within the first backoff step: " + reconnectDelays.join());
  await client.close();
});

/** A DPS-provisioned client, connected and stable, that provisions to `assignment` when asked. */
async function provisionedClient(assignment: { assignedHub: string; deviceId: string }, hub: { keepAliveSeconds?: number; requestTimeoutMs?: number } = {}) {
  const platform = new FakePlatform(5);
  let registrations = 0;
  const provisioner: Provisioner = () => ({
    register: () => {
      registrations++;
      return Promise.resolve(assignment);
    },
    cancel: () => undefined,
  });
  const dps = { idScope: "0ne00000001", registrationId: "dev-1", symmetricKey: KEY };
  const client = hubClientFor(platform, { dps, hub: { keepAliveSeconds: 0, ...hub } }, { assignedHub: HOST, deviceId: "dev-1" }, provisioner);
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  platform.advance(120000);
  return { platform, client, registrations: () => registrations };
}

/** Every connection attempt fails until the client has provisioned again. */
async function outageUntilProvisioned(platform: FakePlatform, registrations: () => number): Promise<void> {
  let socket = platform.lastSocket;
  socket.drop();
  for (let t = 0; t < 3600000 && registrations() === 0; t += 1000) {
    if (platform.lastSocket !== socket) {
      socket = platform.lastSocket;
      socket.drop({ code: "CONNECTION_REFUSED", message: "refused", retryable: true } as never);
    }
    platform.advance(1000);
    await platform.settle();
  }
  await platform.settle();
}

test("an outage long enough to provision again, DPS answering the same device: queued telemetry is kept and sent", async () => {
  const { platform, client, registrations } = await provisionedClient({ assignedHub: HOST, deviceId: "dev-1" });
  const outcomes: string[] = [];
  for (let i = 0; i < 5; i++) client.sendTelemetry({ n: i }).then(() => outcomes.push("ok"), (error) => outcomes.push(error.code));
  await outageUntilProvisioned(platform, registrations);
  assert.is(registrations(), 1);
  await platform.settle();
  assert.equal(outcomes, [], "nothing rejected");
  const socket = platform.lastSocket;
  socket.accept();
  const [connect] = socket.received();
  assert.is(connect.username.indexOf(HOST + "/dev-1/"), 0);
  socket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  const publishes = socket.received().filter((p) => p.cmd === "publish" && p.topic.indexOf("devices/dev-1/messages/events/") === 0);
  assert.is(publishes.length, 5, "the queue goes out on the new connection");
  for (const publish of publishes) socket.send({ cmd: "puback", messageId: publish.messageId });
  await platform.settle();
  assert.equal(outcomes, ["ok", "ok", "ok", "ok", "ok"]);
});

test("provisioned again to the same device on another hub: the queue carries over, the CONNECT names the new hub", async () => {
  const { platform, client, registrations } = await provisionedClient({ assignedHub: "hub-b.azure-devices.net", deviceId: "dev-1" });
  const outcomes: string[] = [];
  client.sendTelemetry("kept").then(() => outcomes.push("ok"), (error) => outcomes.push(error.code));
  await outageUntilProvisioned(platform, registrations);
  const socket = platform.lastSocket;
  assert.is(socket.target.host, "hub-b.azure-devices.net");
  socket.accept();
  const [connect] = socket.received();
  assert.is(connect.username.indexOf("hub-b.azure-devices.net/dev-1/"), 0);
  assert.match(connect.password.toString(), "sr=hub-b.azure-devices.net%2Fdevices%2Fdev-1");
  socket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  const [publish] = socket.received().filter((p) => p.cmd === "publish");
  socket.send({ cmd: "puback", messageId: publish.messageId });
  await platform.settle();
  assert.equal(outcomes, ["ok"]);
  assert.is(client.hostName, "hub-b.azure-devices.net");
});

test("provisioned again as another device: its queued telemetry and twin requests are rejected REPROVISIONED (retryable), none is sent as the new device", async () => {
  // (Twin requests wait longer than the outage, as they may on a short one.)
  const { platform, client, registrations } = await provisionedClient({ assignedHub: HOST, deviceId: "dev-2" }, { requestTimeoutMs: 7200000 });
  const outcomes: Array<[string, boolean]> = [];
  const errors: string[] = [];
  client.on("error", (error) => errors.push(error.code as string));
  const settle = (work: Promise<unknown>) => work.then(() => outcomes.push(["ok", false]), (error) => outcomes.push([error.code, error.retryable]));
  for (let i = 0; i < 2; i++) settle(client.sendTelemetry({ n: i }));
  // Twin topics name no device: sent after the move, these would patch and read dev-2's twin.
  settle(client.updateReported({ firmware: "1.0" }));
  settle(client.getTwin());
  await outageUntilProvisioned(platform, registrations);
  await platform.settle();
  assert.equal(outcomes, [["REPROVISIONED", true], ["REPROVISIONED", true], ["REPROVISIONED", true], ["REPROVISIONED", true]]);
  assert.not.ok(errors.includes("REPROVISIONED"), "no 'error' for the client's own twin GET, asked again on connecting");
  const socket = platform.lastSocket;
  socket.accept();
  const [connect] = socket.received();
  assert.is(connect.clientId, "dev-2");
  socket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  const sent = socket.received().filter((p) => p.cmd === "publish");
  assert.is(sent.filter((p) => p.topic.indexOf("/messages/events/") > 0 || p.topic.indexOf("/reported/") > 0).length, 0);
  assert.is(client.deviceId, "dev-2");
});

test("provisioned again as another device: that device's desired versions start afresh (a patch at version 1 is delivered)", async () => {
  const { platform, client, registrations } = await provisionedClient({ assignedHub: HOST, deviceId: "dev-2" });
  const desired: number[] = [];
  client.on("desired", (_patch, version) => desired.push(version as number));
  publishTo(platform.lastSocket, "$iothub/twin/PATCH/properties/desired/?$version=500", { $version: 500 });
  await platform.settle();
  await outageUntilProvisioned(platform, registrations);
  serve(platform.lastSocket);
  await platform.settle();
  publishTo(platform.lastSocket, "$iothub/twin/PATCH/properties/desired/?$version=1", { $version: 1 });
  await platform.settle();
  assert.equal(desired, [500, 1]);
});

test("credentials refused three times with CONNACK 2 (identifier rejected) or 4 provision again, as 5 does", async () => {
  for (const returnCode of [2, 4]) {
    const { platform, client } = setup();
    let provisioned = 0;
    client.reprovision = () => {
      provisioned++;
      return { result: new Promise(() => undefined), cancel: () => undefined };
    };
    client.connect().catch(() => undefined);
    for (let i = 0; i < 3; i++) {
      const socket = platform.lastSocket;
      socket.accept();
      socket.send({ cmd: "connack", returnCode, sessionPresent: false });
      for (let t = 0; t < 600000 && platform.lastSocket === socket && provisioned === 0; t += 100) platform.advance(100);
      await platform.settle();
    }
    assert.is(provisioned, 1, "CONNACK " + returnCode);
    await client.close();
  }
});

test("a round of provisioning again that DPS throttled: the next round waits its retry-after, though the hub keeps refusing", async () => {
  const { platform, client } = setup();
  const rounds: number[] = [];
  client.reprovision = () => {
    rounds.push(platform.time);
    const throttled = Object.assign(new Error("throttled"), { code: "DPS_THROTTLED", retryable: true, retryAfterSeconds: 600 });
    return { result: rounds.length === 1 ? Promise.reject(throttled) : new Promise(() => undefined), cancel: () => undefined };
  };
  client.on("error", () => undefined);
  client.connect().catch(() => undefined);
  // The hub refuses the credentials (CONNACK 5) on every attempt.
  for (let t = 0; t < 1800000 && rounds.length < 2; t += 100) {
    const socket = platform.lastSocket;
    if (socket && !socket.isClosed && socket.written.length === 0) {
      socket.accept();
      socket.send({ cmd: "connack", returnCode: 5, sessionPresent: false });
    }
    platform.advance(100);
    await platform.settle();
  }
  assert.is(rounds.length, 2, "a second round came");
  assert.ok(rounds[1] - rounds[0] >= 600000, "not before the retry-after: " + (rounds[1] - rounds[0]) + " ms");
  await client.close();
});

test("after a stable connection, the next outage provisions again at once: the rounds count restarts", async () => {
  const { platform, client, registrations } = await provisionedClient({ assignedHub: HOST, deviceId: "dev-1" });
  const startedAfterLastAttempt: number[] = [];
  let lastAttemptAt = 0;
  client.on("reprovisioning", () => startedAfterLastAttempt.push(platform.time - lastAttemptAt));
  for (let outage = 0; outage < 2; outage++) {
    const before = registrations();
    let socket = platform.lastSocket;
    socket.drop();
    while (registrations() === before) {
      if (platform.lastSocket !== socket) {
        socket = platform.lastSocket;
        socket.drop({ code: "CONNECTION_REFUSED", message: "refused", retryable: true } as never);
        lastAttemptAt = platform.time;
      }
      platform.advance(100);
      await platform.settle();
    }
    serve(platform.lastSocket);
    platform.advance(120000); // a stable hour's worth: more than a minute up
    await platform.settle();
  }
  assert.is(startedAfterLastAttempt.length, 2);
  assert.ok(startedAfterLastAttempt.every((ms) => ms < 1000), "each outage's first round at once: " + startedAfterLastAttempt.join());
});

test("with no reconnect bounds given, reconnect waits never pass 60 s", async () => {
  const { platform, client } = setup({ keepAliveSeconds: 0 });
  const connecting = client.connect();
  serve(platform.lastSocket);
  await connecting;
  const gaps: number[] = [];
  let socket = platform.lastSocket;
  socket.drop();
  let droppedAt = platform.time;
  for (let t = 0; t < 3600000; t += 500) {
    if (platform.lastSocket !== socket) {
      gaps.push(platform.time - droppedAt);
      socket = platform.lastSocket;
      socket.drop({ code: "CONNECTION_REFUSED", message: "refused", retryable: true } as never);
      droppedAt = platform.time;
    }
    platform.advance(500);
    await platform.settle();
  }
  assert.ok(gaps.length >= 60, gaps.length + " attempts in an hour");
  assert.ok(Math.max(...gaps) <= 60500 && Math.max(...gaps) > 30000, "capped at a minute: " + Math.max(...gaps));
});

test("connectViaDps: a cached hub that refuses the device, provisioned again on the way, resolves with the assignment it connected with", async () => {
  const platform = new FakePlatform(3);
  let registrations = 0;
  const provisioner: Provisioner = () => ({
    register: () => {
      registrations++;
      return Promise.resolve({ assignedHub: "hub-new.azure-devices.net", deviceId: "dev-1" });
    },
    cancel: () => undefined,
  });
  const cached = { assignedHub: "hub-old.azure-devices.net", deviceId: "dev-1", payload: { site: "north" } };
  const hub: HubOptions = { keepAliveSeconds: 0 };
  const result = connectProvisioned(platform, { dps: { idScope: "0ne00000001", registrationId: "dev-1", symmetricKey: KEY }, cached, hub }, provisioner);
  await platform.settle();
  for (let i = 0; i < 20 && registrations === 0; i++) {
    const socket = platform.lastSocket;
    if (socket && !socket.isClosed && socket.target.host === cached.assignedHub) {
      socket.accept();
      socket.received();
      socket.send({ cmd: "connack", returnCode: 5, sessionPresent: false });
    }
    platform.advance(70000);
    await platform.settle();
  }
  serve(platform.lastSocket);
  const { client, provisioning } = await result;
  assert.is(client.hostName, "hub-new.azure-devices.net");
  assert.equal(provisioning, { assignedHub: "hub-new.azure-devices.net", deviceId: "dev-1" });
  await client.close();
});

test("connectViaDps: a cached hub that takes the device resolves with the cached assignment itself", async () => {
  const platform = new FakePlatform(3);
  const provisioner: Provisioner = () => {
    throw new Error("no provisioning expected");
  };
  const cached = { assignedHub: HOST, deviceId: "dev-1", payload: { site: "north" } };
  const result = connectProvisioned(platform, { dps: { idScope: "0ne00000001", registrationId: "dev-1", symmetricKey: KEY }, cached }, provisioner);
  await platform.settle();
  serve(platform.lastSocket);
  const { client, provisioning } = await result;
  assert.is(provisioning, cached);
  await client.close();
});

test("a twin document over maxPacketBytes fails its GET at once with MQTT_TOO_LARGE, reported once and not asked again while connected; the connection stays", async () => {
  const { platform, client, events } = setup({ maxPacketBytes: 300, keepAliveSeconds: 0, sasTtlSeconds: 30 * 86400 }, true);
  const connecting = client.connect();
  const { publishes } = serve(platform.lastSocket);
  await connecting;
  const socket = platform.lastSocket;
  const [get] = twinGets(socket, publishes.concat(socket.received()));
  const tooLarge = { desired: { big: "x".repeat(400), $version: 2 }, reported: { $version: 1 } };
  publishTo(socket, "$iothub/twin/res/200/?$rid=" + rid(get.topic), tooLarge);
  await platform.settle();
  const errors = () => events.filter((e) => e[0] === "error").map((e) => e[1].code);
  assert.equal(errors(), ["MQTT_TOO_LARGE"], "once: from the failed resync, naming the topic");
  assert.match(events.find((e) => e[0] === "error")![1].message, "$iothub/twin/res/200/");
  // Asked again it would only come too large again: no re-asking (no TWIN_TIMEOUT later either).
  platform.advance(2 * 3600 * 1000);
  await platform.settle();
  assert.equal(twinGets(socket), [], "no GET again while connected");
  assert.equal(errors(), ["MQTT_TOO_LARGE"]);
  // An application's own getTwin() hears the same, at once.
  const asked = client.getTwin().then(() => "twin", (error) => error.code);
  await platform.settle();
  const [own] = twinGets(socket);
  publishTo(socket, "$iothub/twin/res/200/?$rid=" + rid(own.topic), tooLarge);
  assert.is(await asked, "MQTT_TOO_LARGE");
  assert.not.ok(events.some((e) => e[0] === "disconnected"), "on the one connection");
  // A patch small enough still arrives.
  publishTo(socket, "$iothub/twin/PATCH/properties/desired/?$version=3", { rate: 3, $version: 3 });
  await platform.settle();
  assert.equal(desiredEvents(events), [[3, 3, false]]);
});

test("failed attempts of any kind provision again only after 10 minutes of them: a few minutes offline do not", async () => {
  const { platform, registrations } = await provisionedClient({ assignedHub: HOST, deviceId: "dev-1" });
  let socket = platform.lastSocket;
  socket.drop();
  const outageStart = platform.time;
  let attempts = 0;
  let registeredAfter = -1;
  for (let t = 0; t < 3600000 && registeredAfter < 0; t += 100) {
    if (platform.lastSocket !== socket) {
      socket = platform.lastSocket;
      attempts++;
      socket.drop({ code: "CONNECTION_REFUSED", message: "refused", retryable: true } as never);
    }
    platform.advance(100);
    await platform.settle();
    if (registrations() > 0) registeredAfter = platform.time - outageStart;
  }
  assert.ok(attempts > 10, "well over 10 failed attempts before: " + attempts);
  assert.ok(registeredAfter >= 600000, "not before 10 minutes of failures: " + registeredAfter);
  assert.ok(registeredAfter < 600000 + 61000, "at the first failure after them: " + registeredAfter);
});

test.run();
