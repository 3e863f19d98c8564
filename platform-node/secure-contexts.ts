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
  /** The context for a connection: the platform's shared one when the target brings no TLS
   * options of its own, else the one kept for that options object (a client's, for its life).
   * Throws what createSecureContext throws for bad PEM; a failure is not kept. */
  forTarget(tls: TlsOptions | undefined): SecureContext;
}

export function secureContexts(platformCa: string | string[] | undefined, create: CreateContext = createSecureContext): SecureContexts {
  let shared: SecureContext | undefined;
  // Keyed by the client's own options object, so a context lives exactly as long as the client
  // that owns it (a gateway's devices come and go; nothing here outlives them).
  const owned = new WeakMap<TlsOptions, SecureContext>();
  return {
    forTarget(tls) {
      if (!tls || (!tls.ca && !tls.cert && !tls.key)) {
        if (!shared) shared = create({ ca: platformCa, minVersion: "TLSv1.2" });
        return shared;
      }
      let context = owned.get(tls);
      if (!context) {
        context = create({ ca: tls.ca || platformCa, cert: tls.cert, key: tls.key, minVersion: "TLSv1.2" });
        owned.set(tls, context);
      }
      return context;
    },
  };
}
