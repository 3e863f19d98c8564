// The DPS flow on a fake platform: the test plays DPS and moves virtual time, so every branch
// (202 polling, retry-after, 429, 5xx, drops, silence, refusals, deadline, cancel) runs in
// milliseconds. The same flows run over real TLS against the simulator in test/flows/.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHmac } from "node:crypto";
import { DpsClient, type DpsOptions, type DpsResult, type DpsStep } from "../../core/dps";
import { errorCode, errorOf } from "../helpers/errors";
import { FakePlatform, type FakeSocket } from "../helpers/fake-platform";

const KEY = Buffer.from("device-key-0123456789abcdef0123").toString("base64");

function start(overrides: Partial<DpsOptions> = {}) {
  const platform = new FakePlatform();
  const steps: DpsStep[] = [];
  const client = new DpsClient(platform, { idScope: "0ne00000001", registrationId: "dev-1", symmetricKey: KEY, onStep: (step) => steps.push(step), ...overrides });
  let outcome: { result?: DpsResult; error?: any } | undefined;
  client.register().then((result) => (outcome = { result }), (error) => (outcome = { error }));
  return { platform, client, steps, outcome: async () => { await platform.settle(); return outcome; } };
}

/** Accepts the socket, answers CONNECT and SUBSCRIBE, and returns the register request. */
function acceptUntilRegister(socket: FakeSocket): any {
  socket.accept();
  const [connect] = socket.received();
  assert.is(connect.cmd, "connect");
  socket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  const [subscribe] = socket.received();
  assert.equal(subscribe.subscriptions, [{ topic: "$dps/registrations/res/#", qos: 1 }]);
  socket.send({ cmd: "suback", messageId: subscribe.messageId, granted: [1] });
  const [register] = socket.received();
  socket.send({ cmd: "puback", messageId: register.messageId });
  return register;
}

/** How long the last "retry" step waits (a retry-after plus its jitter, or a backoff). */
function lastWait(steps: DpsStep[]): number {
  const retries = steps.filter((step) => step.step === "retry");
  return retries[retries.length - 1].delayMs!;
}

function rid(topic: string): string {
  return /\$rid=([^&]+)/.exec(topic)![1];
}

function respond(socket: FakeSocket, status: number, ridValue: string, body: unknown, retryAfter?: number) {
  const topic = "$dps/registrations/res/" + status + "/?$rid=" + ridValue + (retryAfter === undefined ? "" : "&retry-after=" + retryAfter);
  socket.send({ cmd: "publish", topic, payload: Buffer.from(body === undefined ? "" : JSON.stringify(body)), qos: 0, dup: false, retain: false });
}

const ASSIGNED = {
  operationId: "op-1",
  status: "assigned",
  registrationState: { registrationId: "dev-1", assignedHub: "hub-a.azure-devices.net", deviceId: "dev-1", status: "assigned", substatus: "initialAssignment", createdDateTimeUtc: "2026-01-01T00:00:00Z", lastUpdatedDateTimeUtc: "2026-01-01T00:00:01Z", etag: "e1", payload: { tier: "gold" } },
};

test("CONNECT carries the DPS identity and a SAS token signed as documented", async () => {
  const { platform } = start();
  const socket = platform.lastSocket;
  assert.equal(socket.target, { host: "global.azure-devices-provisioning.net", port: 8883 });
  socket.accept();
  const [connect] = socket.received();
  assert.is(connect.clientId, "dev-1");
  assert.is(connect.username, "0ne00000001/registrations/dev-1/api-version=2019-03-31");
  assert.is(connect.clean, true);
  const expiry = platform.epochBase + 3600;
  const sr = encodeURIComponent("0ne00000001/registrations/dev-1");
  const sig = createHmac("sha256", Buffer.from(KEY, "base64")).update(sr + "\n" + expiry).digest("base64");
  assert.is(connect.password.toString(), "SharedAccessSignature sr=" + sr + "&sig=" + encodeURIComponent(sig) + "&se=" + expiry + "&skn=registration");
});

test("register, 202 with retry-after, poll no earlier than it, 200 assigned; DISCONNECT at the end", async () => {
  const { platform, steps, outcome } = start({ payload: { site: "north" } });
  const socket = platform.lastSocket;
  const register = acceptUntilRegister(socket);
  assert.ok(register.topic.startsWith("$dps/registrations/PUT/iotdps-register/?$rid="));
  assert.equal(JSON.parse(register.payload.toString()), { registrationId: "dev-1", payload: { site: "north" } });
  respond(socket, 202, rid(register.topic), { operationId: "op-1", status: "assigning" }, 2);
  platform.advance(1999);
  assert.equal(socket.received(), [], "no poll before retry-after");
  platform.advance(1);
  const [poll] = socket.received();
  assert.ok(poll.topic.startsWith("$dps/registrations/GET/iotdps-get-operationstatus/?$rid="));
  assert.ok(poll.topic.endsWith("&operationId=op-1"));
  assert.is(poll.payload.length, 0);
  assert.is.not(rid(poll.topic), rid(register.topic), "each request has its own $rid");
  socket.send({ cmd: "puback", messageId: poll.messageId });
  respond(socket, 200, rid(poll.topic), ASSIGNED);
  const { result } = (await outcome())!;
  assert.equal(result, {
    registrationId: "dev-1", assignedHub: "hub-a.azure-devices.net", deviceId: "dev-1", status: "assigned", substatus: "initialAssignment",
    operationId: "op-1", createdDateTimeUtc: "2026-01-01T00:00:00Z", lastUpdatedDateTimeUtc: "2026-01-01T00:00:01Z", etag: "e1", payload: { tier: "gold" },
  });
  assert.equal(socket.received().map((p) => p.cmd), ["disconnect"]);
  assert.ok(socket.closedByClient);
  assert.equal(steps.map((s) => s.step), ["connect", "connected", "subscribed", "register", "assigning", "poll", "assigned"]);
  assert.is(steps[4].retryAfterSeconds, 2);
  assert.is(platform.pendingTimers, 0, "no timer left behind");
});

test("over a TLS that checks no certificate, only IoT Hub names are taken as the assigned hub", async () => {
  const cases: [string, boolean, string][] = [
    ["rogue.example.com", true, "DPS_BAD_RESPONSE"],
    ["hub-a.azure-devices.net.example.com", true, "DPS_BAD_RESPONSE"],
    ["hub-a.azure-devices.org", true, "DPS_BAD_RESPONSE"],
    ["127.0.0.1\u0000.azure-devices.net", true, "DPS_BAD_RESPONSE"], // dialled as 127.0.0.1 by C code
    ["rogue.example.com\u0000.azure-devices.net", true, "DPS_BAD_RESPONSE"],
    ["a.b.azure-devices.net", true, "DPS_BAD_RESPONSE"],
    ["ab.azure-devices.net", true, "DPS_BAD_RESPONSE"], // IoT Hub names are 3 to 50 characters
    ["x".repeat(51) + ".azure-devices.net", true, "DPS_BAD_RESPONSE"],
    ["x".repeat(50) + ".azure-devices.net", true, "assigned"],
    ["hub-a.azure-devices.net", true, "assigned"],
    ["hub-a.azure-devices.cn", true, "assigned"],
    ["hub-a.azure-devices.us", true, "assigned"],
    ["rogue.example.com", false, "assigned"], // a verified TLS is how a platform that checks knows
  ];
  for (const [assignedHub, unverifiedTls, expected] of cases) {
    const { platform, outcome } = start();
    Object.assign(platform, { unverifiedTls });
    const socket = platform.lastSocket;
    const register = acceptUntilRegister(socket);
    respond(socket, 200, rid(register.topic), { ...ASSIGNED, registrationState: { ...ASSIGNED.registrationState, assignedHub } });
    const { result, error } = (await outcome())!;
    assert.is(error ? error.code : result!.status, expected, assignedHub + (unverifiedTls ? " unverified" : " verified"));
    if (error) {
      assert.is(error.message, "assigned " + JSON.stringify(assignedHub) + ", not an IoT hub name");
      assert.is(error.retryable, true, "another answer may be DPS's own");
      assert.ok(socket.closedByClient, "the connection to the impostor is closed");
    }
  }
});

test("register() settles only once its socket has closed, so nothing of it outlives it", async () => {
  const { platform, outcome } = start();
  const socket = platform.lastSocket;
  socket.deferClose = true;
  const register = acceptUntilRegister(socket);
  respond(socket, 200, rid(register.topic), ASSIGNED);
  assert.ok(socket.closedByClient, "DISCONNECT and close asked for");
  assert.is(await outcome(), undefined, "not settled while the socket is still closing");
  socket.finishClose();
  assert.is((await outcome())!.result!.deviceId, "dev-1");
});

test("a platform that never reports the close does not leave register() pending", async () => {
  const { platform, outcome } = start();
  const socket = platform.lastSocket;
  socket.deferClose = true;
  const register = acceptUntilRegister(socket);
  respond(socket, 200, rid(register.topic), ASSIGNED);
  platform.advance(2999);
  assert.is(await outcome(), undefined, "still waiting for the close");
  platform.advance(1);
  assert.is((await outcome())!.result!.deviceId, "dev-1");
  assert.is(platform.pendingTimers, 0);
  socket.finishClose();
  assert.is(platform.pendingTimers, 0, "a late close changes nothing");
});

test("after a connect timeout, the timed-out socket is waited for like any other", async () => {
  const { platform, client, outcome } = start({ requestTimeoutMs: 5000 });
  const socket = platform.lastSocket;
  socket.deferClose = true;
  platform.advance(5000);
  assert.ok(socket.closedByClient, "the socket that never opened was closed");
  client.cancel();
  assert.is(await outcome(), undefined, "not settled while that socket is still closing");
  socket.finishClose();
  assert.is((await outcome())!.error.code, "CANCELLED");
});

test("a payload that cannot be JSON is refused at once, not by a socket callback later", () => {
  const platform = new FakePlatform();
  const cyclic: any = { a: 1 };
  cyclic.self = cyclic;
  const base = { idScope: "0ne00000001", registrationId: "dev-1", symmetricKey: KEY };
  const error = errorOf(() => new DpsClient(platform, { ...base, payload: cyclic }));
  assert.is(error.code, "ARGUMENT_INVALID");
  assert.match(error.message, /payload/);
  assert.is(errorCode(() => new DpsClient(platform, { ...base, payload: { serial: BigInt(1) } })), "ARGUMENT_INVALID");
  assert.is(platform.sockets.length, 0);
});

test("an onStep that throws does not break provisioning", async () => {
  const { platform, outcome } = start({ onStep: () => { throw new Error("observer bug"); } });
  const socket = platform.lastSocket;
  const register = acceptUntilRegister(socket);
  respond(socket, 200, rid(register.topic), ASSIGNED);
  assert.is((await outcome())!.result!.deviceId, "dev-1");
});

test("a 202 without retry-after waits the default before polling", async () => {
  const { platform } = start({ defaultRetryAfterSeconds: 5 });
  const socket = platform.lastSocket;
  const register = acceptUntilRegister(socket);
  respond(socket, 202, rid(register.topic), { operationId: "op-1", status: "assigning" });
  platform.advance(4999);
  assert.equal(socket.received(), []);
  platform.advance(1);
  assert.is(socket.received().length, 1);
});

test("429 with retry-after: the same request again after the wait and its jitter, on the same connection", async () => {
  const { platform, outcome, steps } = start();
  const socket = platform.lastSocket;
  const register = acceptUntilRegister(socket);
  respond(socket, 429, rid(register.topic), { errorCode: 429001, message: "throttled", trackingId: "t" }, 7);
  const retry = steps.find((s) => s.step === "retry")!;
  assert.is(retry.reason, "DPS_THROTTLED");
  assert.ok(retry.delayMs! >= 7000 && retry.delayMs! < 8000, "the retry-after, plus the first backoff's jitter (under 1 s): " + retry.delayMs);
  platform.advance(retry.delayMs! - 1);
  assert.equal(socket.received(), []);
  platform.advance(1);
  const [again] = socket.received();
  assert.ok(again.topic.startsWith("$dps/registrations/PUT/iotdps-register/"));
  respond(socket, 200, rid(again.topic), ASSIGNED);
  assert.ok((await outcome())!.result);
  assert.is(platform.sockets.length, 1);
});

test("the deadline passing while DPS asks to wait: DPS_TIMEOUT carries what is left of the retry-after", async () => {
  const { platform, outcome } = start();
  const socket = platform.lastSocket;
  let request = acceptUntilRegister(socket);
  respond(socket, 429, rid(request.topic), { errorCode: 429001, message: "throttled" }, 100);
  // A live link meanwhile: PINGREQs (DPS keep-alive 60 s) answered.
  const until = (done: () => boolean) => {
    while (!done()) {
      platform.advance(1000);
      for (const packet of socket.received()) {
        if (packet.cmd === "pingreq") socket.send({ cmd: "pingresp" });
        else if (packet.cmd === "publish") request = packet;
      }
    }
  };
  const first = request;
  until(() => request !== first);
  socket.send({ cmd: "puback", messageId: request.messageId });
  const askedAgainAt = platform.time;
  respond(socket, 429, rid(request.topic), { errorCode: 429001, message: "throttled" }, 100);
  until(() => platform.time >= 120000);
  const { error } = (await outcome())!;
  assert.is(error.code, "DPS_TIMEOUT");
  assert.match(error.message, /last: DPS_THROTTLED/);
  assert.is(error.retryAfterSeconds, Math.ceil((askedAgainAt + 100000 - 120000) / 1000));
});

test("the same retry-after to a fleet: each device comes back on its own jitter, none before it", () => {
  const delays: number[] = [];
  for (let seed = 1; seed <= 20; seed++) {
    const platform = new FakePlatform(seed);
    const steps: DpsStep[] = [];
    new DpsClient(platform, { idScope: "0ne00000001", registrationId: "dev-" + seed, symmetricKey: KEY, onStep: (step) => steps.push(step) }).register().catch(() => undefined);
    const register = acceptUntilRegister(platform.lastSocket);
    respond(platform.lastSocket, 429, rid(register.topic), { errorCode: 429001, message: "throttled" }, 3);
    delays.push(steps.find((s) => s.step === "retry")!.delayMs!);
  }
  assert.ok(delays.every((ms) => ms >= 3000 && ms < 4000), delays.join(" "));
  assert.ok(new Set(delays).size >= 15, "spread, not in one burst: " + delays.join(" "));
});

test("429 with a retry-after longer than the request timeout: the request sent again waits its own full timeout for PUBACK and answer", async () => {
  const { platform, outcome, steps } = start();
  const socket = platform.lastSocket;
  const register = acceptUntilRegister(socket);
  respond(socket, 429, rid(register.topic), { errorCode: 429001, message: "throttled", trackingId: "t" }, 40);
  platform.advance(steps.find((s) => s.step === "retry")!.delayMs!);
  const [again] = socket.received();
  assert.ok(again.topic.startsWith("$dps/registrations/PUT/iotdps-register/"));
  platform.advance(50);
  socket.send({ cmd: "puback", messageId: again.messageId });
  respond(socket, 200, rid(again.topic), ASSIGNED);
  assert.ok((await outcome())!.result, "assigned, on the same connection");
  assert.is(platform.sockets.length, 1);
  assert.equal(steps.filter((s) => s.step === "retry").map((s) => s.reason), ["DPS_THROTTLED"]);
});

test("429 with retry-after, then the connection drops: the new connection sends nothing before the wait is over", async () => {
  const { platform, outcome } = start();
  const socket = platform.lastSocket;
  const register = acceptUntilRegister(socket);
  respond(socket, 429, rid(register.topic), { errorCode: 429001, message: "throttled", trackingId: "t" }, 60);
  platform.advance(5000);
  socket.drop(); // a NAT timeout or a WiFi roam, 5 s into the 60 s DPS asked for
  platform.advance(54999);
  assert.is(platform.sockets.length, 1, "no connection before the retry-after is over");
  platform.advance(1);
  assert.is(platform.sockets.length, 2);
  const again = acceptUntilRegister(platform.lastSocket);
  respond(platform.lastSocket, 200, rid(again.topic), ASSIGNED);
  assert.ok((await outcome())!.result);
});

test("500 without retry-after: backoff with jitter, then success", async () => {
  const { platform, outcome, steps } = start();
  const socket = platform.lastSocket;
  const register = acceptUntilRegister(socket);
  respond(socket, 500, rid(register.topic), { errorCode: 500000, message: "internal" });
  const retry = steps.find((s) => s.step === "retry")!;
  assert.is(retry.reason, "DPS_SERVICE_ERROR");
  assert.ok(retry.delayMs! >= 0 && retry.delayMs! < 1000, "first backoff within its 1 s ceiling: " + retry.delayMs);
  platform.advance(retry.delayMs!);
  const [again] = socket.received();
  respond(socket, 200, rid(again.topic), ASSIGNED);
  assert.ok((await outcome())!.result);
});

test("transient failures stop after maxRetries with the last error", async () => {
  const { platform, outcome, steps } = start({ maxRetries: 2 });
  const socket = platform.lastSocket;
  let request = acceptUntilRegister(socket);
  for (let i = 0; i < 3; i++) {
    respond(socket, 503, rid(request.topic), { errorCode: 503000, message: "busy" }, 1);
    if (i < 2) platform.advance(lastWait(steps));
    request = socket.received()[0];
  }
  const { error } = (await outcome())!;
  assert.is(error.code, "DPS_SERVICE_ERROR");
  assert.is(error.status, 503);
  assert.is(error.errorCode, 503000);
});

test("401, 403, 404 end the flow at once, without retry", async () => {
  for (const [status, code] of [[401, "DPS_UNAUTHORIZED"], [403, "DPS_FORBIDDEN"], [404, "DPS_NOT_FOUND"]] as const) {
    const { platform, outcome } = start();
    const socket = platform.lastSocket;
    const register = acceptUntilRegister(socket);
    respond(socket, status, rid(register.topic), { errorCode: status * 1000 + 2, message: "no", trackingId: "x" });
    const { error } = (await outcome())!;
    assert.is(error.code, code);
    assert.is(error.errorCode, status * 1000 + 2);
    assert.not.ok(error.retryable);
    assert.is(platform.sockets.length, 1);
  }
});

test("'failed' and 'disabled' registrations are typed errors with DPS's code and message", async () => {
  for (const [status, code] of [["failed", "DPS_FAILED"], ["disabled", "DPS_DISABLED"]]) {
    const { platform, outcome } = start();
    const socket = platform.lastSocket;
    const register = acceptUntilRegister(socket);
    respond(socket, 200, rid(register.topic), { operationId: "op", status, registrationState: { registrationId: "dev-1", status, errorCode: 400209, errorMessage: "custom allocation failed" } });
    const { error } = (await outcome())!;
    assert.is(error.code, code);
    assert.is(error.errorCode, 400209);
    assert.ok(error.message.includes("custom allocation failed"));
  }
});

test("a connection dropped after SUBACK is replaced and the flow resumes", async () => {
  const { platform, outcome, steps } = start();
  const first = platform.lastSocket;
  first.accept();
  first.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  const subscribe = first.received().find((p) => p.cmd === "subscribe");
  first.send({ cmd: "suback", messageId: subscribe.messageId, granted: [1] });
  first.drop();
  const retry = steps.find((s) => s.step === "retry")!;
  assert.is(retry.reason, "CONNECTION_LOST");
  platform.advance(retry.delayMs!);
  assert.is(platform.sockets.length, 2, "a new connection");
  const register = acceptUntilRegister(platform.lastSocket);
  respond(platform.lastSocket, 200, rid(register.topic), ASSIGNED);
  assert.ok((await outcome())!.result);
});

test("a drop while assigning resumes by polling the same operation, not registering again", async () => {
  const { platform, outcome } = start();
  const first = platform.lastSocket;
  const register = acceptUntilRegister(first);
  respond(first, 202, rid(register.topic), { operationId: "op-9", status: "assigning" }, 3);
  first.drop();
  platform.advance(2999);
  assert.is(platform.sockets.length, 1, "no reconnect before retry-after, though backoff alone would allow it");
  platform.advance(1);
  const second = platform.lastSocket;
  assert.is(platform.sockets.length, 2);
  second.accept();
  second.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  const [subscribe] = second.received().filter((p) => p.cmd === "subscribe");
  second.send({ cmd: "suback", messageId: subscribe.messageId, granted: [1] });
  const [poll] = second.received();
  assert.ok(poll.topic.includes("iotdps-get-operationstatus") && poll.topic.endsWith("operationId=op-9"));
  respond(second, 200, rid(poll.topic), ASSIGNED);
  assert.ok((await outcome())!.result);
});

test("the wrong key: CONNACK 'not authorized' is a typed error, no retry", async () => {
  const { platform, outcome } = start();
  platform.lastSocket.accept();
  platform.lastSocket.send({ cmd: "connack", returnCode: 5, sessionPresent: false });
  const { error } = (await outcome())!;
  assert.is(error.code, "CONNECT_REFUSED_NOT_AUTHORIZED");
  assert.is(platform.sockets.length, 1);
  assert.not.ok(error.message.includes(KEY));
});

test("timers fired early (Espruino when SNTP first sets the clock) do not end provisioning before its deadline", async () => {
  const { platform, outcome } = start({ timeoutMs: 60000 });
  acceptUntilRegister(platform.lastSocket);
  platform.advance(2500);
  platform.fireAllEarly();
  assert.is(await outcome(), undefined, "still running at 2.5 s");
  // The per-request timer fired early too (a request sent again is the worst of it): DPS answers
  // whatever request comes next, and provisioning completes.
  for (let t = 0; t < 30000 && !(await outcome()); t += 100) {
    const socket = platform.lastSocket;
    const fresh = !socket.isClosed && socket.written.length === 0 ? [acceptUntilRegister(socket)] : socket.received();
    for (const packet of fresh) {
      if (packet.cmd === "publish") {
        if (packet.qos) socket.send({ cmd: "puback", messageId: packet.messageId });
        respond(socket, 200, rid(packet.topic), ASSIGNED);
      }
    }
    platform.advance(100);
  }
  const done = await outcome();
  assert.is(done && done.result && done.result.assignedHub, "hub-a.azure-devices.net", JSON.stringify(done && done.error && done.error.message));
  assert.ok(platform.time < 60000, "long before the deadline");
});

test("the overall deadline, fired early, waits out the rest and then fails as DPS_TIMEOUT", async () => {
  const { platform, outcome } = start({ timeoutMs: 60000 });
  acceptUntilRegister(platform.lastSocket);
  platform.advance(2500);
  platform.fireAllEarly();
  platform.advance(57000);
  assert.is(await outcome(), undefined, "still running at 59.5 s");
  platform.advance(1000);
  const done = await outcome();
  assert.is(done && done.error && done.error.code, "DPS_TIMEOUT");
});

test("a silent server: per-request timeouts, then the overall deadline as DPS_TIMEOUT", async () => {
  const { platform, outcome } = start({ timeoutMs: 20000, requestTimeoutMs: 4000 });
  acceptUntilRegister(platform.lastSocket);
  for (let t = 0; t < 20000; t += 500) {
    platform.advance(500);
    const socket = platform.lastSocket;
    if (!socket.isClosed && socket.written.length === 0) socket.accept();
  }
  const { error } = (await outcome())!;
  assert.is(error.code, "DPS_TIMEOUT");
  assert.is(error.message, "provisioning did not finish in time (last: CONNACK_TIMEOUT)", "names the last failure");
  assert.is(platform.pendingTimers, 0);
  assert.ok(platform.sockets.every((s) => s.isClosed), "no socket left open");
});

test("the overall deadline names the last failure: refused connections until it", async () => {
  const { platform, outcome } = start({ timeoutMs: 10000 });
  for (let t = 0; t < 10000; t += 100) {
    const socket = platform.lastSocket;
    if (!socket.isClosed) socket.drop(Object.assign(new Error("refused"), { code: "CONNECTION_REFUSED", retryable: true }));
    platform.advance(100);
  }
  const { error } = (await outcome())!;
  assert.is(error.code, "DPS_TIMEOUT");
  assert.is(error.message, "provisioning did not finish in time (last: CONNECTION_REFUSED)");
});

test("cancel() rejects with CANCELLED and closes the connection", async () => {
  const { platform, client, outcome } = start();
  acceptUntilRegister(platform.lastSocket);
  client.cancel();
  const { error } = (await outcome())!;
  assert.is(error.code, "CANCELLED");
  assert.ok(platform.lastSocket.closedByClient);
  assert.is(platform.pendingTimers, 0);
});

test("responses to a superseded request are ignored", async () => {
  const { platform, outcome, steps } = start();
  const socket = platform.lastSocket;
  const register = acceptUntilRegister(socket);
  respond(socket, 503, rid(register.topic), {}, 1);
  platform.advance(lastWait(steps));
  const [again] = socket.received();
  respond(socket, 200, rid(register.topic), { ...ASSIGNED, registrationState: { ...ASSIGNED.registrationState, assignedHub: "stale" } });
  respond(socket, 200, rid(again.topic), ASSIGNED);
  assert.is((await outcome())!.result!.assignedHub, "hub-a.azure-devices.net");
});

test("with no options: a 202 without retry-after waits 3 s; six transient failures in a row are retried, the seventh ends it", async () => {
  const { platform, outcome, steps } = start();
  const socket = platform.lastSocket;
  const register = acceptUntilRegister(socket);
  respond(socket, 202, rid(register.topic), { operationId: "op-1", status: "assigning" });
  platform.advance(2999);
  assert.equal(socket.received(), []);
  platform.advance(1);
  let request = socket.received()[0];
  assert.ok(request.topic.startsWith("$dps/registrations/GET/iotdps-get-operationstatus/"));
  for (let i = 0; i < 7; i++) {
    assert.ok(request, "request " + i + " sent");
    assert.is(await outcome(), undefined, "still running after " + i + " failures");
    socket.send({ cmd: "puback", messageId: request.messageId });
    respond(socket, 503, rid(request.topic), { errorCode: 503000, message: "busy" }, 1);
    if (i < 6) platform.advance(lastWait(steps));
    request = socket.received()[0];
  }
  assert.is((await outcome())!.error.code, "DPS_SERVICE_ERROR");
});

test("progress (a 202) restarts the count of transient failures", async () => {
  const { platform, outcome, steps } = start({ maxRetries: 1 });
  const socket = platform.lastSocket;
  let request = acceptUntilRegister(socket);
  for (const status of [503, 202, 503]) {
    if (status === 202) respond(socket, 202, rid(request.topic), { operationId: "op-1", status: "assigning" }, 1);
    else respond(socket, 503, rid(request.topic), { errorCode: 503000, message: "busy" }, 1);
    platform.advance(status === 202 ? 1000 : lastWait(steps));
    request = socket.received()[0];
  }
  respond(socket, 200, rid(request.topic), ASSIGNED);
  assert.ok((await outcome())!.result, "one failure, progress, one failure: within maxRetries 1 each time");
});

test("'assigned' without a hub or without a device id is DPS_BAD_RESPONSE", async () => {
  for (const missing of ["assignedHub", "deviceId"]) {
    const { platform, outcome } = start();
    const socket = platform.lastSocket;
    const register = acceptUntilRegister(socket);
    const state: Record<string, unknown> = { ...ASSIGNED.registrationState };
    delete state[missing];
    respond(socket, 200, rid(register.topic), { ...ASSIGNED, registrationState: state });
    assert.is((await outcome())!.error.code, "DPS_BAD_RESPONSE", missing);
  }
});

test("an unreadable response is DPS_BAD_RESPONSE", async () => {
  const { platform, outcome } = start();
  const socket = platform.lastSocket;
  const register = acceptUntilRegister(socket);
  socket.send({ cmd: "publish", topic: "$dps/registrations/res/200/?$rid=" + rid(register.topic), payload: Buffer.from("{not json"), qos: 0, dup: false, retain: false });
  assert.is((await outcome())!.error.code, "DPS_BAD_RESPONSE");
});

test("a response with a field of the wrong type is DPS_BAD_RESPONSE, never an exception out of the socket's data handler", async () => {
  const cases: [number, unknown, string][] = [
    [400, { message: { toString: 1 } }, "message"],
    [400, { errorCode: { toString: 0 } }, "errorCode"],
    [200, { status: "failed", registrationState: { errorMessage: { toString: 0 } } }, "errorMessage"],
    [202, { operationId: 5, status: "assigning" }, "operationId"],
    [200, { status: "assigned", registrationState: { assignedHub: 7, deviceId: "dev-1" } }, "assignedHub"],
  ];
  for (const [status, body, field] of cases) {
    const { platform, outcome } = start();
    const socket = platform.lastSocket;
    const register = acceptUntilRegister(socket);
    let thrown: unknown;
    try {
      respond(socket, status, rid(register.topic), body, 0);
    } catch (error) {
      thrown = error;
    }
    assert.is(thrown, undefined, field + ": nothing thrown into the socket's callback");
    const { error } = (await outcome())!;
    assert.is(error.code, "DPS_BAD_RESPONSE", field);
    assert.is(error.message, "DPS response with a bad " + field);
  }
});

test("cancel() from onStep, at any step: CANCELLED, and nothing more runs (no packet, socket or timer)", async () => {
  for (const at of ["connect", "connected", "subscribed", "register", "assigning", "poll", "retry"]) {
    const platform = new FakePlatform();
    const holder: { client?: DpsClient } = {};
    holder.client = new DpsClient(platform, {
      idScope: "0ne00000001",
      registrationId: "dev-1",
      symmetricKey: KEY,
      onStep: (step) => {
        if (step.step === at) holder.client!.cancel();
      },
    });
    let error: any;
    holder.client.register().catch((failure) => (error = failure));
    const socket = platform.lastSocket;
    if (at !== "connect") {
      socket.accept();
      socket.received();
      socket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
      const subscribe = socket.received().find((p) => p.cmd === "subscribe");
      if (subscribe && !socket.closedByClient) {
        socket.send({ cmd: "suback", messageId: subscribe.messageId, granted: [1] });
        const request = socket.received().find((p) => p.cmd === "publish");
        if (request && !socket.closedByClient) {
          socket.send({ cmd: "puback", messageId: request.messageId });
          if (at === "retry") respond(socket, 500, rid(request.topic), { message: "busy" });
          else respond(socket, 202, rid(request.topic), { operationId: "op-1", status: "assigning" }, 1);
          platform.advance(1000);
        }
      }
    }
    await platform.settle();
    assert.is(error && error.code, "CANCELLED", at);
    const sockets = platform.sockets.length;
    const written = platform.sockets.map((x) => x.written.length);
    platform.advance(600000);
    await platform.settle();
    assert.is(platform.sockets.length, sockets, at + ": no new connection");
    assert.equal(platform.sockets.map((x) => x.written.length), written, at + ": nothing more written");
    assert.is(platform.pendingTimers, 0, at + ": no timer left");
  }
});

test("bad options throw at once with typed codes", () => {
  const platform = new FakePlatform();
  const base = { idScope: "0ne00000001", registrationId: "dev-1" };
  assert.is(errorCode(() => new DpsClient(platform, { ...base })), "ARGUMENT_INVALID", "no credential");
  assert.is(errorCode(() => new DpsClient(platform, { ...base, symmetricKey: KEY, groupKey: KEY })), "ARGUMENT_INVALID", "two credentials");
  assert.is(errorCode(() => new DpsClient(platform, { ...base, symmetricKey: "not base64!" })), "KEY_INVALID");
  assert.is(errorCode(() => new DpsClient(platform, { ...base, registrationId: "bad id with spaces", symmetricKey: KEY })), "REGISTRATION_ID_INVALID");
  assert.is(errorCode(() => new DpsClient(platform, { ...base, idScope: "", symmetricKey: KEY })), "ARGUMENT_INVALID");
});

test("a clock before 2020 is CLOCK_NOT_SET, not a token Azure would reject", async () => {
  const platform = new FakePlatform();
  platform.epochBase = 0;
  const client = new DpsClient(platform, { idScope: "0ne00000001", registrationId: "dev-1", symmetricKey: KEY });
  const error = await client.register().catch((e) => e);
  assert.is(error.code, "CLOCK_NOT_SET");
  assert.is(platform.sockets.length, 0, "nothing was dialled");
  assert.is(platform.pendingTimers, 0);
});

test.run();
