// The Node platform's timers: a delay past setTimeout's 2^31 - 1 ms waits (Node alone would fire
// it at once, which turned a month-long SAS token into a reconnect storm), and can be cleared.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { nodePlatform } from "../../platform-node/platform";

test("a delay longer than 2^31 - 1 ms does not fire early, and clears", async () => {
  const platform = nodePlatform();
  let fired = 0;
  const handle = platform.setTimer(30 * 86400 * 1000, () => fired++);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.is(fired, 0);
  platform.clearTimer(handle);
});

test("a 30-day delay is waited in legs of at most 2^31 - 1 ms, fires once at the end, and clears whichever leg is running", () => {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const legs: Array<{ ms: number; run: () => void; cleared: boolean }> = [];
  globalThis.setTimeout = ((run: () => void, ms: number) => {
    const leg = { ms, run, cleared: false };
    legs.push(leg);
    return leg;
  }) as unknown as typeof setTimeout;
  globalThis.clearTimeout = ((leg: { cleared: boolean }) => {
    if (leg) leg.cleared = true;
  }) as unknown as typeof clearTimeout;
  try {
    const platform = nodePlatform();
    const total = 30 * 86400 * 1000;
    let fired = 0;
    platform.setTimer(total, () => fired++);
    for (let i = 0; i < 10 && fired === 0; i++) legs[legs.length - 1].run();
    assert.is(fired, 1);
    assert.ok(legs.every((leg) => leg.ms <= 2147483647), "no leg past setTimeout's longest");
    assert.is(legs.reduce((sum, leg) => sum + leg.ms, 0), total, "the legs add up to the delay");
    const handle = platform.setTimer(total, () => fired++);
    legs[legs.length - 1].run(); // into the second leg
    platform.clearTimer(handle);
    assert.ok(legs[legs.length - 1].cleared, "the running leg is the one cleared");
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
});

test("ordinary delays fire and clear as usual", async () => {
  const platform = nodePlatform();
  let fired = 0;
  platform.setTimer(5, () => fired++);
  const cleared = platform.setTimer(5, () => fired++);
  platform.clearTimer(cleared);
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.is(fired, 1);
});

test.run();
