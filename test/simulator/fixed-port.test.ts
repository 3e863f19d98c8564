// openPortFor(host): an extra loopback port serving one host name whatever SNI the client sends,
// for clients that send none (the Espruino interpreter's TLS). The main port still routes by SNI.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { connect as connectTcp } from "node:net";
import { startSimulator } from "../../simulator";
import { dpsConnectPacket } from "../helpers/dps-credentials";
import { hubConnectPacket } from "../helpers/hub-credentials";
import { RawMqttClient } from "../helpers/raw-mqtt-client";
import { waitFor } from "../helpers/wait-for";

test("without SNI, the port opened for DPS reaches DPS and the one for a hub reaches that hub; records keep the SNI sent", async () => {
  const sim = await startSimulator({ hubs: ["hub-a.example.test", "hub-b.example.test"] });
  try {
    const key = randomBytes(32).toString("base64");
    sim.dps.enrollIndividual({ registrationId: "no-sni-1", attestation: { type: "symmetricKey", primaryKey: key } });
    const dpsPort = await sim.openPortFor(sim.dpsHost);
    assert.is.not(dpsPort, sim.port);
    const dps = await RawMqttClient.open({ port: dpsPort, ca: sim.ca }); // dialling an IP: no SNI
    dps.send(dpsConnectPacket({ idScope: sim.idScope, registrationId: "no-sni-1", key }));
    assert.is((await dps.expect("connack")).returnCode, 0);
    await dps.end();

    const { primaryKey } = sim.hub("hub-b.example.test").addDevice({ deviceId: "no-sni-dev" });
    const hubPort = await sim.openPortFor("HUB-B.example.test");
    assert.is.not(hubPort, dpsPort);
    assert.is(await sim.openPortFor("hub-b.example.test"), hubPort, "the same port for the same name");
    // Any SNI, even another served name, still lands on the port's host.
    const hub = await RawMqttClient.open({ port: hubPort, servername: "hub-a.example.test", ca: sim.ca });
    hub.send(hubConnectPacket({ host: "hub-b.example.test", deviceId: "no-sni-dev", key: primaryKey }));
    assert.is((await hub.expect("connack")).returnCode, 0);
    assert.ok(sim.hub("hub-b.example.test").isConnected("no-sni-dev"));
    await hub.end();

    await waitFor(() => sim.connections.length === 2 && sim.connections.every((c) => c.closedAtMs !== undefined), "both connections recorded and closed");
    assert.equal(
      sim.connections.map((c) => [c.host, c.service, c.clientId, c.refusal]),
      [
        [undefined, "dps", "no-sni-1", undefined],
        ["hub-a.example.test", "hub", "no-sni-dev", undefined],
      ],
    );

    // The main port is unchanged: no SNI there is still closed.
    const noSni = await RawMqttClient.open({ port: sim.port, ca: sim.ca });
    assert.ok(await noSni.closesWithin(1000));
    await waitFor(() => sim.connections[2]?.closeReason === "no-sni", "the main port to refuse a client without SNI");
  } finally {
    await sim.close();
  }
});

test("openPortFor rejects a name the simulator does not serve; close() closes the extra ports too", async () => {
  const sim = await startSimulator();
  const port = await sim.openPortFor(sim.hubs[0]);
  assert.type(await sim.openPortFor("localhost"), "number", "localhost is a DPS name too");
  let failure: Error | undefined;
  await sim.openPortFor("elsewhere.example.test").catch((error: Error) => (failure = error));
  assert.match(String(failure?.message), /does not serve/);
  await sim.close();
  const refused = await new Promise<string>((resolve) => {
    const socket = connectTcp({ host: "127.0.0.1", port });
    socket.on("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(String(error.code)));
  });
  assert.is(refused, "ECONNREFUSED");
});

test.run();
