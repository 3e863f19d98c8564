// The simulator's single TLS listener on 127.0.0.1, dispatching each connection by the SNI host
// name the client sent.
//
// Why one port for DPS and every hub, not one port each: in Azure every endpoint is addressed by
// name on 8883 and the name travels in SNI, so dispatching on SNI keeps the simulator that shape.
// A client that forgets SNI, or sends the wrong name, fails here as it would there, instead of
// working by accident because it dialled the right port. It also keeps one listener, one server
// certificate and a trivial `resolve` (every served name maps to the same loopback port). What it
// gives up, "this hub's port is unreachable", can be simulated per host name instead.
import type { Socket } from "node:net";
import { createServer, type Server, type TLSSocket } from "node:tls";
import { MqttServerConnection, type ServiceSession } from "./mqtt-connection";
import type { ConnectionRecord } from "./record";

export interface Route {
  service: "dps" | "hub";
  open(connection: MqttServerConnection): ServiceSession;
}

export interface TlsListenerOptions {
  certificatePem: string;
  keyPem: string;
  /** Client certificates are checked against this CA; untrusted ones are let through and judged per service. */
  caPem: string;
  /** The service for a lower-cased SNI host name; undefined closes the connection. */
  route(host: string | undefined): Route | undefined;
  /** Milliseconds since the simulator started; stamps every record. */
  clock: () => number;
  port?: number;
}

export class TlsListener {
  readonly connections: ConnectionRecord[] = [];
  private readonly options: TlsListenerOptions;
  private readonly server: Server;
  private readonly live = new Set<MqttServerConnection>();
  /** Raw TCP sockets, including those still in the TLS handshake, so close() can end every one. */
  private readonly sockets = new Set<Socket>();

  private constructor(options: TlsListenerOptions) {
    this.options = options;
    this.server = createServer({
      key: options.keyPem,
      cert: options.certificatePem,
      ca: [options.caPem],
      // Ask for a client certificate (X.509 attestation) but let the service decide what a missing or
      // untrusted one means: DPS answers CONNACK 5, as the real service does, rather than a TLS alert.
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2", // PROTOCOL.md §1
    });
    this.server.on("connection", (socket: Socket) => {
      socket.setNoDelay(true); // small packets: Nagle plus delayed ACKs would add ~40 ms per exchange
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.server.on("secureConnection", (socket: TLSSocket) => this.accept(socket));
    // A client that rejects our certificate (the "untrusted CA" tests) ends the handshake; nothing to do.
    this.server.on("tlsClientError", () => undefined);
  }

  static async start(options: TlsListenerOptions): Promise<TlsListener> {
    const listener = new TlsListener(options);
    await new Promise<void>((resolve, reject) => {
      listener.server.once("error", reject);
      listener.server.listen(options.port ?? 0, "127.0.0.1", () => {
        listener.server.off("error", reject);
        resolve();
      });
    });
    return listener;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("listener is not bound to a TCP port");
    return address.port;
  }

  /** Ends every connection (recorded as "simulator-closed") and the listener; resolves once it is closed. */
  async close(): Promise<void> {
    for (const connection of this.live) connection.drop("simulator-closed");
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: TLSSocket): void {
    const host = typeof socket.servername === "string" && socket.servername ? socket.servername.toLowerCase() : undefined;
    const route = this.options.route(host);
    const record: ConnectionRecord = {
      id: this.connections.length + 1,
      host,
      service: route?.service,
      openedAtMs: this.options.clock(),
      packets: [],
      events: [],
    };
    const peer = socket.getPeerCertificate();
    if (peer && peer.subject) {
      const commonName = peer.subject.CN as string | string[] | undefined;
      record.clientCertificateCommonName = Array.isArray(commonName) ? commonName[0] : commonName;
      record.clientCertificateTrusted = socket.authorized;
    }
    this.connections.push(record);
    const connection = new MqttServerConnection(socket, record, this.options.clock);
    this.live.add(connection);
    socket.on("close", () => this.live.delete(connection));
    if (!route) return connection.drop(host ? "no-service-for-host" : "no-sni");
    connection.attach(route.open(connection));
  }
}
