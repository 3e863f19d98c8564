import { X509Certificate } from "node:crypto";
import { connect, createServer, type TLSSocket } from "node:tls";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
  type IssuedCertificate,
} from "../../simulator/certificates";

const DAY_MS = 24 * 60 * 60 * 1000;
const ca = createCertificateAuthority();
const names = ["localhost", "sim-dps.azure-devices-provisioning.net", "sim-hub-1.azure-devices.net"];
const server = issueServerCertificate(ca, { dnsNames: names, ipAddresses: ["127.0.0.1"] });

interface HandshakeResult {
  /** The client's TLS error code, when it refused the server. */
  clientError?: string;
  /** What the server saw of the client certificate. */
  clientCommonName?: string;
  clientTrusted?: boolean;
}

/** One TLS handshake on loopback between a server using `serverCertificate` and a client as described. */
async function handshake(
  serverCertificate: IssuedCertificate,
  client: { ca: string; servername?: string; cert?: string; key?: string },
): Promise<HandshakeResult> {
  const result: HandshakeResult = {};
  const tlsServer = createServer({
    cert: serverCertificate.certificatePem,
    key: serverCertificate.keyPem,
    ca: [ca.certificatePem],
    requestCert: true,
    rejectUnauthorized: false,
  });
  const seenByServer = new Promise<void>((resolve) => {
    tlsServer.on("secureConnection", (socket: TLSSocket) => {
      const peer = socket.getPeerCertificate();
      if (peer.subject) {
        result.clientCommonName = peer.subject.CN as string;
        result.clientTrusted = socket.authorized;
      }
      socket.end();
      resolve();
    });
  });
  tlsServer.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
  const { port } = tlsServer.address() as { port: number };
  await new Promise<void>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, ...client });
    socket.on("secureConnect", () => seenByServer.then(() => socket.end()).then(() => resolve()));
    socket.on("error", (error: Error & { code?: string }) => {
      result.clientError = error.code;
      resolve();
    });
  });
  await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  return result;
}

test("the CA is a self-signed v3 root: CA:true, keyCertSign + cRLSign, valid from yesterday for years", () => {
  const root = new X509Certificate(ca.certificatePem);
  assert.ok(root.ca);
  assert.ok(root.checkIssued(root));
  assert.ok(root.verify(root.publicKey));
  // keyUsage, critical, BIT STRING 0x06 with one unused bit = keyCertSign | cRLSign
  assert.ok(root.raw.includes(Buffer.from("0603551d0f0101ff040403020106", "hex")));
  const validFrom = Date.parse(root.validFrom);
  assert.ok(Math.abs(Date.now() - DAY_MS - validFrom) < 60_000, "back-dated one day");
  assert.ok(Date.parse(root.validTo) > Date.now() + 4 * 365 * DAY_MS, "valid for years");
});

test("the server certificate names every host and 127.0.0.1 and chains to the CA", () => {
  const leaf = new X509Certificate(server.certificatePem);
  assert.not.ok(leaf.ca);
  assert.ok(leaf.checkIssued(new X509Certificate(ca.certificatePem)));
  assert.ok(leaf.verify(new X509Certificate(ca.certificatePem).publicKey));
  for (const name of names) assert.is(leaf.checkHost(name), name);
  assert.is(leaf.checkIP("127.0.0.1"), "127.0.0.1");
  assert.is(leaf.checkHost("other-hub.azure-devices.net"), undefined);
  assert.equal(leaf.keyUsage, ["1.3.6.1.5.5.7.3.1"]);
});

test("every certificate gets its own key and serial", () => {
  const a = new X509Certificate(issueClientCertificate(ca, "device-a").certificatePem);
  const b = new X509Certificate(issueClientCertificate(ca, "device-a").certificatePem);
  assert.is.not(a.serialNumber, b.serialNumber);
  assert.is.not(a.publicKey.export({ format: "der", type: "spki" }).toString("hex"), b.publicKey.export({ format: "der", type: "spki" }).toString("hex"));
});

test("TLS: a client trusting the CA verifies the server by host name and by IP", async () => {
  for (const servername of names) {
    assert.equal(await handshake(server, { ca: ca.certificatePem, servername }), {}, servername);
  }
  assert.equal(await handshake(server, { ca: ca.certificatePem }), {}, "127.0.0.1 without SNI");
});

test("TLS: a name the certificate does not cover is refused", async () => {
  const result = await handshake(server, { ca: ca.certificatePem, servername: "other-hub.azure-devices.net" });
  assert.is(result.clientError, "ERR_TLS_CERT_ALTNAME_INVALID");
});

test("TLS: a client trusting only an unrelated CA refuses the server", async () => {
  const unrelated = createCertificateAuthority("unrelated root");
  const result = await handshake(server, { ca: unrelated.certificatePem, servername: "localhost" });
  assert.ok(result.clientError, "handshake must fail");
  assert.is(result.clientCommonName, undefined);
});

test("TLS: a client certificate is accepted and its CN is readable on the server", async () => {
  const device = issueClientCertificate(ca, "x509-device-7");
  const result = await handshake(server, {
    ca: ca.certificatePem,
    servername: "localhost",
    cert: device.certificatePem,
    key: device.keyPem,
  });
  assert.is(result.clientError, undefined);
  assert.is(result.clientCommonName, "x509-device-7");
  assert.is(result.clientTrusted, true);
  assert.equal(new X509Certificate(device.certificatePem).keyUsage, ["1.3.6.1.5.5.7.3.2"]);
});

test("TLS: a client certificate from another CA is seen as untrusted", async () => {
  const stranger = issueClientCertificate(createCertificateAuthority("unrelated root"), "x509-device-7");
  const result = await handshake(server, {
    ca: ca.certificatePem,
    servername: "localhost",
    cert: stranger.certificatePem,
    key: stranger.keyPem,
  });
  assert.is(result.clientCommonName, "x509-device-7");
  assert.is(result.clientTrusted, false);
});

test.run();
