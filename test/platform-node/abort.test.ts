// The Node helpers stop on an AbortSignal: provisioning rejects with CANCELLED, a hub client still
// trying to connect is closed; nothing is left running.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import { connectDeviceViaDps, provisionDevice } from "../../platform-node/index";
import { guardProcess } from "../helpers/process-guard";

/** A local port nobody listens on: every connection is refused, and the clients keep retrying. */
async function refusingPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const key = randomBytes(32).toString("base64");

test("provisionDevice: aborted while retrying, it rejects with CANCELLED at once; already aborted, at the start", async () => {
  const guard = guardProcess();
  try {
    const port = await refusingPort();
    const platform = { resolve: () => ({ host: "127.0.0.1", port }) };
    const controller = new AbortController();
    const started = Date.now();
    const running = provisionDevice({ idScope: "0ne00000001", registrationId: "dev-1", symmetricKey: key, signal: controller.signal }, platform);
    setTimeout(() => controller.abort(), 300);
    const error = await running.catch((failure) => failure);
    assert.is(error.code, "CANCELLED");
    assert.ok(Date.now() - started < 2000, "at the abort, not at the deadline");
    const early = await provisionDevice({ idScope: "0ne00000001", registrationId: "dev-1", symmetricKey: key, signal: AbortSignal.abort() }, platform).catch((failure) => failure);
    assert.is(early.code, "CANCELLED");
    assert.equal(guard.problems, []);
  } finally {
    guard.release();
  }
});

test("connectDeviceViaDps: aborted while the hub refuses connections, it rejects with CLIENT_CLOSED and the client is closed", async () => {
  const guard = guardProcess();
  try {
    const port = await refusingPort();
    const controller = new AbortController();
    let client: { connected: boolean } | undefined;
    const running = connectDeviceViaDps(
      {
        dps: { idScope: "0ne00000001", registrationId: "dev-1", symmetricKey: key },
        cached: { assignedHub: "hub.azure-devices.net", deviceId: "dev-1" },
        hub: { reconnectMinMs: 50, reconnectMaxMs: 100 },
        setup: (hub) => (client = hub),
        signal: controller.signal,
      },
      { resolve: () => ({ host: "127.0.0.1", port }) },
    );
    setTimeout(() => controller.abort(), 300);
    const error = await running.catch((failure) => failure);
    assert.is(error.code, "CLIENT_CLOSED");
    assert.ok(client && !client.connected);
    assert.equal(guard.problems, []);
  } finally {
    guard.release();
  }
});

test.run();
