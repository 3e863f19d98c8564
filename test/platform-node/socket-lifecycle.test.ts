// The Node platform's socket keeps the adapter contract (core/platform.ts): once `closed` has been
// called for a socket, no other handler is called for it, even if the underlying node:tls socket
// still emits something.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type TLSSocket } from "node:tls";
import type { AddressInfo } from "node:net";
import { nodePlatform } from "../../platform-node/platform";
import type { PlatformSocket } from "../../core/platform";
import { createCertificateAuthority, issueServerCertificate } from "../../simulator/certificates";
import { waitFor } from "../helpers/wait-for";

test("after closed, data or drain the node:tls socket still emits reaches no handler", async () => {
  const ca = createCertificateAuthority("socket-lifecycle-test-ca");
  const issued = issueServerCertificate(ca, { dnsNames: ["lifecycle.test"] });
  const server = createServer({ key: issued.keyPem, cert: issued.certificatePem }, (socket) => socket.on("error", () => undefined));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const calls: string[] = [];
  let connected: PlatformSocket | undefined;
  const platform = nodePlatform({ ca: ca.certificatePem, resolve: (_host, p) => ({ host: "127.0.0.1", port: p }) });
  try {
    const socket = platform.connect(
      { host: "lifecycle.test", port },
      {
        connected: (s) => {
          calls.push("connected");
          connected = s;
        },
        data: (bytes) => calls.push("data " + Buffer.from(bytes).toString("hex")),
        closed: () => calls.push("closed"),
        drained: () => calls.push("drained"),
      },
    );
    await waitFor(() => connected !== undefined, "TLS handshake");
    // The platform's own node:tls socket; events emitted on it are what the adapter listens to.
    const raw = (socket as unknown as { socket_: TLSSocket }).socket_;
    raw.emit("data", Buffer.from([0xd0, 0x00]));
    assert.equal(calls, ["connected", "data d000"], "while open, the stream's data reaches the handler");
    socket.close();
    await waitFor(() => calls.includes("closed"), "closed");
    // Node does not emit these after "close" on its own; the adapter does not count on it.
    raw.emit("data", Buffer.from([0xd0, 0x00]));
    raw.emit("drain");
    assert.equal(calls, ["connected", "data d000", "closed"], "nothing after closed");
  } finally {
    server.close();
  }
});

test.run();
