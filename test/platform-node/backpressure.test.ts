// A gateway publishing faster than its link: the Node socket's buffer stays bounded, because the
// session holds publishes in its own bounded queue (QUEUE_FULL to the producer) while the stream
// is over its high-water mark, and sends them, in order and none lost, once it drains.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type TLSSocket } from "node:tls";
import type { AddressInfo } from "node:net";
import mqtt from "mqtt-packet";
import { nodePlatform } from "../../platform-node/platform";
import { SessionDriver } from "../../core/driver";
import { MqttSession, type SessionEvent } from "../../core/session";
import { createCertificateAuthority, issueServerCertificate } from "../../simulator/certificates";
import { waitFor } from "../helpers/wait-for";

test("QoS 0 publishes to a server that stops reading: QUEUE_FULL, not an unbounded buffer; all arrive once it reads again", async () => {
  const ca = createCertificateAuthority("backpressure-test-ca");
  const issued = issueServerCertificate(ca, { dnsNames: ["backpressure.test"] });
  let serverSocket: TLSSocket | undefined;
  const payloads: string[] = [];
  const server = createServer({ key: issued.keyPem, cert: issued.certificatePem }, (socket) => {
    serverSocket = socket;
    const parser = mqtt.parser({ protocolVersion: 4 });
    parser.on("packet", (packet) => {
      if (packet.cmd === "connect") {
        socket.write(mqtt.generate({ cmd: "connack", returnCode: 0, sessionPresent: false }));
        socket.pause(); // reads nothing more until resumed: the client's writes back up
      } else if (packet.cmd === "publish") payloads.push(String(packet.payload));
    });
    socket.on("data", (chunk) => parser.parse(chunk));
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const events: SessionEvent[] = [];
  const maxQueuedBytes = 256 * 1024;
  const session = new MqttSession({ clientId: "dev", maxQueuedBytes, maxQueuedMessages: 10000 });
  const driver = new SessionDriver(nodePlatform({ ca: ca.certificatePem, resolve: (_h, p) => ({ host: "127.0.0.1", port: p }) }), session, (event) => events.push(event));
  try {
    driver.open({ host: "backpressure.test", port });
    await waitFor(() => events.some((e) => e.type === "connected"), "CONNACK");
    // Produce in turns, as a device loop does, until the session refuses: 1 KB messages, at most
    // 256 MB (without back-pressure every one is "published" into the socket's memory).
    const filler = "x".repeat(1000);
    let sent = 0;
    let refused = "";
    while (!refused && sent < 256 * 1024) {
      for (let i = 0; i < 64 && !refused; i++) {
        try {
          session.publish("t", String(sent).padStart(8, "0") + filler, 0, Date.now());
          sent++;
        } catch (error) {
          refused = (error as { code: string }).code;
        }
      }
      driver.pump();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.is(refused, "QUEUE_FULL", "the producer is told to slow down");
    // What is past the session sits in Node's buffer and the kernel's (loopback: a few MB at most).
    const published = events.filter((e) => e.type === "published").length;
    assert.ok(published < sent, "some publishes still wait in the session's queue");
    assert.ok(sent * 1010 < 64 * 1024 * 1024, "stopped after " + sent + " messages");
    (serverSocket as TLSSocket).resume();
    await waitFor(() => payloads.length === sent, "every message at the server", 20000);
    assert.equal(payloads.map((p) => Number(p.slice(0, 8))), [...Array(sent).keys()], "every message, in order");
    await waitFor(() => events.filter((e) => e.type === "published").length === sent, "every published event");
  } finally {
    driver.close();
    server.close();
    if (serverSocket) serverSocket.destroy();
  }
});

test.run();
