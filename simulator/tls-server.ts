// The simulator's single TLS listener on 127.0.0.1, dispatching each connection by the SNI host
// name the client sent.
//
// Why one port for DPS and every hub, not one port each: in Azure every endpoint is addressed by
// name on 8883 and the name travels in SNI, so dispatching on SNI keeps the simulator that shape.
// A client that forgets SNI, or sends the wrong name, fails here as it would there, instead of
// working by accident because it dialled the right port. It also keeps one listener, one server
// certificate and a trivial `resolve` (every served name maps to the same loopback port). What it
// gives up, "this hub's port is unreachable", can be simulated per host name instead.
//
// For clients that send no SNI at all (the Espruino interpreter's TLS), listenFor(host) adds a
// port that serves one host name whatever SNI arrives; records still show the SNI actually sent.
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
  /** How long a connection may wait before sending CONNECT; default DEFAULT_CONNECT_WAIT_MS. */
  connectWaitMs?: number;
}

export class TlsListener {
  readonly connections: ConnectionRecord[] = [];
  private readonly options: TlsListenerOptions;
  private readonly server: Server;
  /** Ports opened by listenFor, each serving one host name regardless of SNI. */
  private readonly fixedRoutes: Server[] = [];
  private readonly live = new Set<MqttServerConnection>();
  /** Raw TCP sockets, including those still in the TLS handshake, so close() can end every one. */
  private readonly sockets = new Set<Socket>();

  private constructor(options: TlsListenerOptions) {
    this.options = options;
    this.server = this.createServer(undefined);
  }

  /** A TLS server with the simulator's certificate; `fixedHost` routes every connection to that host. */
  private createServer(fixedHost: string | undefined): Server {
    const options = this.options;
    const server = createServer({
      key: options.keyPem,
      cert: options.certificatePem,
      ca: [options.caPem],
      // Ask for a client certificate (X.509 attestation) but let the service decide what a missing or
      // untrusted one means: DPS answers CONNACK 5, as the real service does, rather than a TLS alert.
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2", // PROTOCOL.md §1
    });
    server.on("connection", (socket: Socket) => {
      socket.setNoDelay(true); // small packets: Nagle plus delayed ACKs would add ~40 ms per exchange
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    server.on("secureConnection", (socket: TLSSocket) => this.accept(socket, fixedHost));
    // A client that rejects our certificate (the "untrusted CA" tests) ends the handshake; nothing to do.
    server.on("tlsClientError", () => undefined);
    return server;
  }

  private static listen(server: Server, port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  }

  static async start(options: TlsListenerOptions): Promise<TlsListener> {
    const listener = new TlsListener(options);
    await TlsListener.listen(listener.server, options.port ?? 0);
    return listener;
  }

  /** Opens another loopback port (ephemeral) where every connection goes to `host` (lower case),
   * with or without SNI; resolves with its number. */
  async listenFor(host: string): Promise<number> {
    const server = this.createServer(host);
    this.fixedRoutes.push(server);
    await TlsListener.listen(server, 0);
    return (server.address() as { port: number }).port;
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
    await Promise.all([this.server, ...this.fixedRoutes].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  private accept(socket: TLSSocket, fixedHost: string | undefined): void {
    const host = typeof socket.servername === "string" && socket.servername ? socket.servername.toLowerCase() : undefined;
    const route = this.options.route(fixedHost ?? host);
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
    const connection = new MqttServerConnection(socket, record, this.options.clock, this.options.connectWaitMs);
    this.live.add(connection);
    socket.on("close", () => this.live.delete(connection));
    if (!route) return connection.drop(host ? "no-service-for-host" : "no-sni");
    connection.attach(route.open(connection));
  }
}
