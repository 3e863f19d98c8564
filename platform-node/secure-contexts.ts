// One TLS context per set of trust anchors and client certificate, instead of one per connection.
// tls.connect given `ca`/`cert`/`key` builds a fresh SecureContext (an OpenSSL SSL_CTX, the PEM
// parsed again) for every connection. A gateway holds thousands of connections and reconnects
// them all after an outage. Sharing the context, measured with 1,000 hub clients and a `ca`
// (npm run bench:gateway): 86 -> 70 KB resident per connection, 266 -> 356 connections/s; with
// Node's own roots, about 13 KB less per connection.
import { createSecureContext, type SecureContext } from "node:tls";
import type { TlsOptions } from "../core/platform";

export type CreateContext = (options: { ca?: string | string[]; cert?: string; key?: string; minVersion: "TLSv1.2" }) => SecureContext;

export interface SecureContexts {
  /** The context for a connection: one shared by every connection with the same trust anchors
   * (the target's `ca`, else the platform's) when the target brings no client certificate, else
   * the one kept for that options object (a client's, for its life). Throws what
   * createSecureContext throws for bad PEM; a failure is not kept. */
  forTarget(tls: TlsOptions | undefined): SecureContext;
}

/** Different sets of trust anchors kept for sharing, per way of making contexts; past this many,
 * each is built for its owner alone, as a client certificate's is. */
const MAX_SHARED_ANCHORS = 16;
// Contexts of trust anchors alone, by their text, across platforms: they carry no identity, so
// any connections with the same `ca` can share one. A gateway that makes a platform per device
// (createHubClient(options, { ca }) does) or gives each device its own `ca` in HubOptions would
// otherwise build one per client: measured with 1,000 clients, 93-98 KB resident per connection
// instead of 71-75, and a third more CPU per connect.
const byAnchors = new WeakMap<CreateContext, Map<string, SecureContext>>();

function anchorsContext(create: CreateContext, ca: string | string[] | undefined): SecureContext | undefined {
  let contexts = byAnchors.get(create);
  if (!contexts) byAnchors.set(create, (contexts = new Map()));
  const key = JSON.stringify(ca === undefined ? null : ca);
  let context = contexts.get(key);
  if (!context && contexts.size < MAX_SHARED_ANCHORS) {
    context = create({ ca, minVersion: "TLSv1.2" });
    contexts.set(key, context);
  }
  return context;
}

export function secureContexts(platformCa: string | string[] | undefined, create: CreateContext = createSecureContext): SecureContexts {
  // Keyed by the client's own options object, so a context lives exactly as long as the client
  // that owns it (a gateway's devices come and go; nothing here outlives them).
  const owned = new WeakMap<TlsOptions, SecureContext>();
  // The key of the platform's own context, when the target brings no options and the shared
  // anchors are full.
  const platformKey: TlsOptions = {};
  return {
    forTarget(tls) {
      const ca = (tls && tls.ca) || platformCa;
      const key = tls || platformKey;
      if (!(tls && (tls.cert || tls.key))) {
        const shared = anchorsContext(create, ca);
        if (shared) return shared;
      }
      let context = owned.get(key);
      if (!context) {
        context = create({ ca, cert: tls && tls.cert, key: tls && tls.key, minVersion: "TLSv1.2" });
        owned.set(key, context);
      }
      return context;
    },
  };
}
