// Polls a condition that another party (a server on the same loopback) will make true soon, such as
// the simulator's record noticing that a client closed. Rejects with `what` after `timeoutMs`.
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
