// The Node platform's socket failures as the library's typed errors: what a gateway logs and
// what decides whether a client retries.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type AddressInfo } from "node:net";
import { nodePlatform } from "../../platform-node/platform";
import type { LiteError } from "../../core/errors";

function dial(host: string, port: number): Promise<LiteError | undefined> {
  return new Promise((resolve) => {
    nodePlatform({ resolve: (name, p) => ({ host: name === "refusing.test" ? "127.0.0.1" : name, port: p }) }).connect(
      { host, port },
      { connected: (socket) => socket.close(), data: () => undefined, closed: (error) => resolve(error) },
    );
  });
}

test("a port nobody listens on is CONNECTION_REFUSED, retryable", async () => {
  // A port that was free a moment ago: listen, note it, close.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  const error = await dial("refusing.test", port);
  assert.is(error && error.code, "CONNECTION_REFUSED");
  assert.ok(error!.retryable);
  assert.match(error!.message, "refusing.test");
});

test("a host name that does not resolve is HOST_NOT_FOUND, retryable (DNS may be passing)", async () => {
  const error = await dial("no-such-host.invalid", 8883);
  assert.is(error && error.code, "HOST_NOT_FOUND");
  assert.ok(error!.retryable);
});

test.run();
