// The Espruino-like sockets of the stripped realm behave as measured on the interpreter, so the
// stripped-realm run of the shipped modules would show a library bug that the interpreter shows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { createCertificateAuthority, issueServerCertificate } from "../../simulator/certificates";
import { waitFor } from "../helpers/wait-for";
import { EspruinoEnvironment } from "./espruino-environment";

type Events = [string, unknown][];

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

function environment(port: number, ca = ""): EspruinoEnvironment {
  return new EspruinoEnvironment({
    storage: {},
    ca,
    lookup: (host) => {
      if (host !== "device.test") throw new Error("unknown host " + host);
      return { host: "127.0.0.1", port };
    },
  });
}

/** Connects from inside the realm, as firmware would, recording every event in order. */
function open(env: EspruinoEnvironment, module: "net" | "tls", options: object = {}): { socket: any; events: Events } {
  const events: Events = [];
  const record = (name: string) => (value: unknown) => events.push([name, value && typeof value === "object" ? JSON.parse(JSON.stringify(value)) : value]);
  const socket = env.require(module).connect(env.value({ host: "device.test", port: 8883, ...options }), () => events.push(["connect", undefined]));
  for (const name of ["data", "end", "close", "error"]) socket.on(name, record(name));
  return { socket, events };
}

test("net: byte-string chunks of at most 536 bytes; a Uint8Array is written as its text; end and close(false) after the server ends", async () => {
  let received = Buffer.alloc(0);
  const server = createNetServer((socket: Socket) => {
    socket.on("data", (data) => {
      received = Buffer.concat([received, data]);
      if (received.toString("latin1").endsWith("END")) socket.end(Buffer.alloc(2000, 0xe9));
    });
  });
  const env = environment(await listen(server));
  try {
    const { socket, events } = open(env, "net");
    for (const method of ["once", "destroy", "setTimeout", "setNoDelay"]) assert.is(socket[method], undefined, method);
    assert.is(socket.write(env.evaluate("new Uint8Array([1, 2, 3])")), false);
    socket.write("\xff\x00END");
    await waitFor(() => events.some(([name]) => name === "close"), "close");
    assert.is(received.toString("latin1"), "1,2,3\xff\x00END");
    const data = events.filter(([name]) => name === "data").map(([, chunk]) => chunk as string);
    assert.ok(data.every((chunk) => typeof chunk === "string" && chunk.length <= 536), data.map((c) => c.length).join());
    assert.is(data.join(""), "\xe9".repeat(2000));
    assert.equal(events.filter(([name]) => name !== "data"), [["connect", undefined], ["end", undefined], ["close", false]]);
    assert.is(env.stats.nonStringWrites, 1);
  } finally {
    env.dispose();
    server.close();
  }
});

test("tls: the server's close gives error -30848, then end, then close(true); our own end() gives end and close(false)", async () => {
  const authority = createCertificateAuthority();
  const certificate = issueServerCertificate(authority, { dnsNames: ["device.test"], ipAddresses: ["127.0.0.1"] });
  const serverNames: (string | false | null)[] = [];
  const server = createTlsServer({ key: certificate.keyPem, cert: certificate.certificatePem }, (socket) => {
    serverNames.push(socket.servername);
    socket.on("data", (data) => (data.toString() === "bye" ? socket.end("ok") : undefined));
  });
  const env = environment(await listen(server as unknown as Server), authority.certificatePem);
  try {
    const first = open(env, "tls");
    first.socket.write("bye");
    await waitFor(() => first.events.some(([name]) => name === "close"), "close");
    assert.equal(first.events, [["connect", undefined], ["data", "ok"], ["error", { code: -30848, message: "unknown error" }], ["end", undefined], ["close", true]]);
    const second = open(env, "tls");
    await waitFor(() => second.events.length > 0, "connect");
    second.socket.end();
    await waitFor(() => second.events.some(([name]) => name === "close"), "close");
    assert.equal(second.events, [["connect", undefined], ["end", undefined], ["close", false]]);
    assert.equal(serverNames, ["device.test", "device.test"], "SNI is the host dialled (the interpreter sends none)");
  } finally {
    env.dispose();
    server.close();
  }
});

test("connect throws at once for an unknown host; PEM certificates are refused (the interpreter takes DER)", async () => {
  const env = environment(1);
  try {
    assert.throws(() => env.require("net").connect(env.value({ host: "elsewhere.test", port: 1 })), /Unable to create socket/);
    const pem = "-----BEGIN CERTIFICATE-----\n" + "A".repeat(64) + "\n-----END CERTIFICATE-----\n";
    assert.throws(() => env.require("tls").connect(env.value({ host: "device.test", port: 1, ca: pem })), /Invalid format/);
    // A string of 100 bytes or less is a file's path (the ESP32 firmware has a file system).
    assert.throws(() => env.require("tls").connect(env.value({ host: "device.test", port: 1, key: "0".repeat(51) })), /Could not open file/);
    assert.is(env.stats.opened, 0);
  } finally {
    env.dispose();
  }
});

test("timers: numeric ids, clearTimeout(undefined) throws, clearTimeout() clears them all", async () => {
  const env = environment(1);
  try {
    const fired: number[] = [];
    const set = env.evaluate("(function (f, ms) { return setTimeout(f, ms); })");
    const id = set(() => fired.push(1), 5);
    assert.type(id, "number");
    set(() => fired.push(2), 5);
    env.evaluate("clearTimeout()");
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(fired, []);
    assert.throws(() => env.evaluate("clearTimeout(undefined)"), /not allowed/);
    assert.is(env.liveTimers, 0);
  } finally {
    env.dispose();
  }
});

test.run();
