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
