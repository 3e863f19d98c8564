// The Node platform's TLS contexts: one per set of trust anchors for connections with no client
// certificate, shared across platforms, one per client options object otherwise, never a failure
// kept; and a shared context still verifies the server and holds TLS 1.2 as the floor.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, createSecureContext, type Server } from "node:tls";
import type { AddressInfo } from "node:net";
import { secureContexts, type CreateContext } from "../../platform-node/secure-contexts";
import { nodePlatform } from "../../platform-node/platform";
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate } from "../../simulator/certificates";
import type { LiteError } from "../../core/errors";

// Node ignores a `ca` it cannot read (no anchor: the server then fails verification); a client
// certificate or key it cannot read throws.
const BAD_PEM = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
const BAD_CLIENT = { cert: BAD_PEM, key: "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n" };

function counting(): { create: CreateContext; calls: Array<{ ca?: unknown; cert?: string }> } {
  const calls: Array<{ ca?: unknown; cert?: string }> = [];
  return {
    calls,
    create: (options) => {
      calls.push({ ca: options.ca, cert: options.cert });
      return createSecureContext(options);
    },
  };
}

test("connections with no TLS options share the platform's one context, built with the platform's ca", () => {
  const calls: unknown[] = [];
  const contexts = secureContexts("PLATFORM-CA", (options) => {
    calls.push({ ca: options.ca });
    return { made: calls.length } as never;
  });
  const first = contexts.forTarget(undefined);
  assert.is(contexts.forTarget(undefined), first);
  assert.is(contexts.forTarget({}), first, "an options object with nothing in it is no options");
  assert.equal(calls, [{ ca: "PLATFORM-CA" }]);
});

test("a client certificate gets one context for as long as its options object lives; another client's gets another", () => {
  const { create, calls } = counting();
  const contexts = secureContexts(undefined, create);
  const authority = createCertificateAuthority("contexts-test-ca");
  const device = issueClientCertificate(authority, "contexts-dev");
  const mine = { cert: device.certificatePem, key: device.keyPem };
  const theirs = { cert: device.certificatePem, key: device.keyPem };
  const a = contexts.forTarget(mine);
  assert.is(contexts.forTarget(mine), a, "reconnects of one client reuse its context");
  assert.is.not(contexts.forTarget(theirs), a, "an equal but separate client is not handed another's identity");
  assert.is(calls.length, 2);
});

test("trust anchors alone are shared by their text, across clients and platforms: a gateway making a platform or a ca per device builds one context", () => {
  const { create, calls } = counting();
  const ca = createCertificateAuthority("contexts-anchors-ca").certificatePem;
  const platforms = [secureContexts(ca, create), secureContexts(ca, create)];
  const first = platforms[0].forTarget(undefined);
  assert.is(platforms[1].forTarget(undefined), first, "two platforms with one ca");
  assert.is(platforms[0].forTarget({ ca }), first, "a client's own ca equal to it");
  assert.is(platforms[1].forTarget({ ca: ca + "" }), first, "another client's, another string of the same text");
  assert.is(calls.length, 1);
  const other = secureContexts(undefined, create).forTarget(undefined);
  assert.is.not(other, first, "Node's own roots are other anchors");
  assert.is(calls.length, 2);
});

test("past 16 different sets of anchors, each is built for its owner alone (and kept for it)", () => {
  const { create, calls } = counting();
  const contexts = secureContexts(undefined, create);
  contexts.forTarget(undefined);
  const authorities = Array.from({ length: 16 }, (_, i) => createCertificateAuthority("contexts-many-" + i).certificatePem);
  for (const ca of authorities.slice(0, 15)) contexts.forTarget({ ca });
  assert.is(calls.length, 16, "16 shared: Node's roots and 15 more");
  const late = { ca: authorities[15] };
  const a = contexts.forTarget(late);
  assert.is(contexts.forTarget(late), a, "its owner's reconnects reuse it");
  assert.is.not(contexts.forTarget({ ca: authorities[15] }), a, "another owner's is its own");
  assert.is(calls.length, 18);
});

test("a context that cannot be built (bad PEM) throws on every attempt: a failure is not kept", () => {
  const { create, calls } = counting();
  const contexts = secureContexts(undefined, create);
  const bad = { ...BAD_CLIENT };
  assert.throws(() => contexts.forTarget(bad));
  assert.throws(() => contexts.forTarget(bad));
  assert.is(calls.length, 2);
  assert.not.throws(() => contexts.forTarget(undefined), "one client's bad options do not spoil the shared context");
});

interface Served {
  server: Server;
  port: number;
}
function serve(options: { ca: ReturnType<typeof createCertificateAuthority>; maxVersion?: "TLSv1.1" | "TLSv1.2" | "TLSv1.3" }): Promise<Served> {
  const issued = issueServerCertificate(options.ca, { dnsNames: ["contexts.test"] });
  const server = createServer({ key: issued.keyPem, cert: issued.certificatePem, minVersion: "TLSv1", maxVersion: options.maxVersion || "TLSv1.3", ciphers: "DEFAULT:@SECLEVEL=0" }, (socket) => socket.end());
  server.on("tlsClientError", () => undefined);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as AddressInfo).port })));
}

function dial(platform: ReturnType<typeof nodePlatform>, port: number, tls?: { cert: string; key: string }): Promise<"connected" | LiteError | undefined> {
  return new Promise((resolve) => {
    let connected = false;
    platform.connect(
      { host: "contexts.test", port, tls },
      {
        connected: (socket) => {
          connected = true;
          socket.close();
        },
        data: () => undefined,
        closed: (error) => resolve(connected ? "connected" : error),
      },
    );
  });
}

test("over the shared context: the right CA connects, twice; another CA's server is refused; TLS 1.1 is refused", async () => {
  const ca = createCertificateAuthority("contexts-test-ca");
  const stranger = createCertificateAuthority("contexts-test-stranger");
  const good = await serve({ ca });
  const old = await serve({ ca, maxVersion: "TLSv1.1" });
  const impostor = await serve({ ca: stranger });
  try {
    const platform = nodePlatform({ ca: ca.certificatePem, resolve: (_host, port) => ({ host: "127.0.0.1", port }) });
    assert.is(await dial(platform, good.port), "connected");
    assert.is(await dial(platform, good.port), "connected", "the second connection over the same context");
    const refused = (await dial(platform, impostor.port)) as LiteError;
    assert.is(refused && refused.code, "TLS_CERTIFICATE_INVALID");
    const tooOld = (await dial(platform, old.port)) as LiteError;
    assert.ok(tooOld && tooOld.code && tooOld.code !== "TLS_CERTIFICATE_INVALID", "TLS 1.1 ends the handshake: " + (tooOld && tooOld.code));
  } finally {
    for (const { server } of [good, old, impostor]) server.close();
  }
});

test("a client certificate Node cannot read is TLS_CONFIG_INVALID on each connection, reported later as closed(error)", async () => {
  const platform = nodePlatform({ resolve: (_host, port) => ({ host: "127.0.0.1", port }) });
  const tls = { ...BAD_CLIENT };
  for (let attempt = 0; attempt < 2; attempt++) {
    const error = (await dial(platform, 1, tls)) as LiteError;
    assert.is(error && error.code, "TLS_CONFIG_INVALID");
    assert.not.ok(error.retryable);
  }
});

test.run();
