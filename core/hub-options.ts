// From what an application gives (a connection string, or host/device/credential fields) to what
// a connection needs: the identity, where to dial, the CONNECT username and a fresh password.
import { parseConnectionString } from "./connection-string";
import type { CryptoProvider } from "./crypto";
import { liteError } from "./errors";
import type { Params } from "./params";
import { checkHubIdentity, hubClientId, hubResourceUri, hubUsername } from "./hub-credentials";
import { checkClientOptions, checkNonEmpty, type HubIdentity } from "./identity";
import type { SocketTarget } from "./platform";
import { decodeKey, sasExpiry, sasToken } from "./sas";
import type { SystemProperties } from "./hub-topics";

export interface HubWill extends SystemProperties {
  payload: string | Uint8Array;
  properties?: Params;
  qos?: 0 | 1;
}

export interface HubOptions {
  /** `HostName=...;DeviceId=...;SharedAccessKey=...` (or the fields below). */
  connectionString?: string;
  hostName?: string;
  deviceId?: string;
  moduleId?: string;
  /** The device's (or module's) symmetric key, base64: tokens are signed and renewed from it. */
  sharedAccessKey?: string;
  /** A ready-made token; it cannot be renewed: once it expires (its `se`) the client stops, with
   * an "error" SAS_EXPIRED (or connect() rejecting with it), and wants a new client. */
  sasToken?: string;
  /** X.509 client certificate chain and key (PEM). */
  cert?: string;
  key?: string;
  /** Dial this host (an IoT Edge gateway) instead of hostName; identity and token still name hostName. */
  gatewayHostName?: string;
  /** Default 8883. */
  port?: number;
  /** Trust anchors (PEM) replacing the platform's defaults. */
  ca?: string | string[];
  /** IoT Plug and Play model id (DTMI), announced in the username. */
  modelId?: string;
  /** Default 2021-04-12. */
  apiVersion?: string;
  /** CleanSession. Default false: cloud-to-device messages wait for the device across connections. */
  clean?: boolean;
  /** Default 240 s; more than 1177 (the hub's longest) counts as 1177. 0 sends no pings, but the
   * hub still closes a connection silent for 1767 s (its load balancer's idle limit), which the
   * client then notices only when it next sends: for tests, not for devices. */
  keepAliveSeconds?: number;
  /** Lifetime of each SAS token; the client reconnects with a fresh one before it ends. Default 3600 s. */
  sasTtlSeconds?: number;
  /** Sent by the hub as telemetry (iothub-MessageType: Will) if the connection drops without DISCONNECT. */
  will?: HubWill;
  /** Wait for each twin response, and for CONNACK/SUBACK/PUBACK. Default 30,000 ms. */
  requestTimeoutMs?: number;
  /** Reconnect backoff: full jitter between 0 and min(max, min * 2^attempt). Defaults 1,000 / 60,000 ms. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Offline queue and inflight bounds (see MqttSession). */
  maxQueuedMessages?: number;
  maxQueuedBytes?: number;
  maxInflight?: number;
  maxPacketBytes?: number;
}

export interface ResolvedHub {
  identity: HubIdentity;
  key?: string;
  sasToken?: string;
  target: SocketTarget;
  clientId: string;
  username: string;
}

/** Checks and resolves options; throws typed errors for anything missing or contradictory. */
export function resolveHub(options: HubOptions): ResolvedHub {
  checkClientOptions(options);
  let identity: HubIdentity;
  let key = options.sharedAccessKey;
  let sasToken = options.sasToken;
  let x509 = !!(options.cert || options.key);
  let gateway = options.gatewayHostName;
  if (options.connectionString) {
    const parsed = parseConnectionString(options.connectionString);
    identity = { hostName: parsed.hostName, deviceId: parsed.deviceId, moduleId: parsed.moduleId };
    key = key || parsed.sharedAccessKey;
    sasToken = sasToken || parsed.sharedAccessSignature;
    x509 = x509 || !!parsed.x509;
    gateway = gateway || parsed.gatewayHostName;
  } else {
    identity = checkHubIdentity({ hostName: options.hostName as string, deviceId: options.deviceId as string, moduleId: options.moduleId });
  }
  if ((key ? 1 : 0) + (sasToken ? 1 : 0) + (x509 ? 1 : 0) !== 1) {
    throw liteError("ARGUMENT_INVALID", "needs sharedAccessKey, sasToken or cert+key");
  }
  if (key) decodeKey(key, "sharedAccessKey");
  if (x509) {
    checkNonEmpty(options.cert, "cert");
    checkNonEmpty(options.key, "key");
  }
  const target: SocketTarget = { host: gateway || identity.hostName, port: options.port || 8883 };
  if (options.ca || x509) target.tls = { ca: options.ca, cert: options.cert, key: options.key };
  return {
    identity,
    key,
    sasToken,
    target,
    clientId: hubClientId(identity),
    username: hubUsername(identity, options.modelId, options.apiVersion),
  };
}

/** This connection's password: a fresh token from the key, the given token, or none for X.509.
 * A given token past its expiry (`se`) throws SAS_EXPIRED: it cannot be renewed, and the hub
 * would refuse it on every attempt (before, a client retried it for good, a TLS handshake each). */
export function hubPassword(hub: ResolvedHub, epochSeconds: number, ttlSeconds: number, crypto?: CryptoProvider): string | undefined {
  // hubSasToken written out: one function fewer held on a device.
  if (hub.key) return sasToken(hubResourceUri(hub.identity), hub.key, sasExpiry(epochSeconds, ttlSeconds), undefined, crypto);
  const given = hub.sasToken;
  const expiry = given && /[ &]se=(\d+)/.exec(given);
  if (expiry && +expiry[1] <= epochSeconds) {
    throw liteError("SAS_EXPIRED", "sasToken expired at " + expiry[1]);
  }
  return given;
}
