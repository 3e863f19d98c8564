// The Node platform's resolve hook (a simulator's or a test's way of dialling elsewhere): one
// that throws is a failed connection reported later, as the platform contract says, not a
// synchronous throw that left the DPS client spinning a timer forever.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { DpsClient } from "../../core/dps";
import { nodePlatform } from "../../platform-node/platform";
import { guardProcess } from "../helpers/process-guard";

test("a resolve hook that throws: register() rejects with HOST_NOT_FOUND at once, not retried, nothing left running", async () => {
  const guard = guardProcess();
  try {
    const platform = nodePlatform({
      resolve: () => {
        throw new Error("no such host here");
      },
    });
    let timers = 0;
    const setTimer = platform.setTimer.bind(platform);
    platform.setTimer = (ms, fire) => {
      timers++;
      return setTimer(ms, fire);
    };
    const client = new DpsClient(platform, { idScope: "0ne00000001", registrationId: "dev-1", symmetricKey: randomBytes(32).toString("base64"), timeoutMs: 5000 });
    const started = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const error = await Promise.race([
      client.register().then(
        () => undefined,
        (failure) => failure,
      ),
      new Promise((resolve) => (timer = setTimeout(() => resolve({ code: "still pending after 4 s" }), 4000))),
    ]).finally(() => clearTimeout(timer));
    assert.is(error.code, "HOST_NOT_FOUND");
    assert.not.ok(error.retryable);
    assert.match(error.message, "no such host here");
    assert.ok(Date.now() - started < 4000, "long before the 5 s deadline");
    const before = timers;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.is(timers, before, "no timer armed after it settled");
    assert.equal(guard.problems, []);
  } finally {
    guard.release();
  }
});

test.run();
