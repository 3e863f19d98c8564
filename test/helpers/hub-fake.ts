// The hub client on a fake platform, with the test playing IoT Hub: shared by the hub unit tests.
import { HubClient, type HubEvents } from "../../core/hub";
import type { HubOptions } from "../../core/hub-options";
import { FakePlatform, type FakeSocket } from "./fake-platform";

export const KEY = Buffer.from("hub-device-key-0123456789abcdef!").toString("base64");
export const HOST = "hub-a.azure-devices.net";

/** A client for dev-1 on HOST, its events recorded. "desired" only when asked: a desired
 * listener makes the client GET the twin after connecting. */
export function setup(options: Partial<HubOptions> = {}, desired = false) {
  const platform = new FakePlatform(7);
  const client = new HubClient(platform, { hostName: HOST, deviceId: "dev-1", sharedAccessKey: KEY, ...options });
  const events: Array<[string, any, any?, any?]> = [];
  const names = ["connected", "disconnected", "error", "message", "reprovisioning"];
  if (desired) names.push("desired");
  for (const name of names) client.on(name as keyof HubEvents, (a?: any, b?: any, c?: any) => events.push([name, a, b, c]));
  return { platform, client, events };
}

/** Plays the hub's side of a connection until the client is subscribed: the CONNECT, the
 * SUBSCRIBE, and the publishes the client sent before SUBACK (queued telemetry goes at CONNACK). */
export function serve(socket: FakeSocket, granted?: number[]): any {
  socket.accept();
  const [connect] = socket.received();
  socket.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
  const early = socket.received();
  const subscribe = early.find((p) => p.cmd === "subscribe");
  socket.send({ cmd: "suback", messageId: subscribe.messageId, granted: granted ?? subscribe.subscriptions.map((s: any) => s.qos) });
  return { connect, subscribe, publishes: early.filter((p) => p.cmd === "publish") };
}

export function publishTo(socket: FakeSocket, topic: string, payload: unknown, qos = 0, messageId?: number) {
  const body = payload instanceof Uint8Array || typeof payload === "string" ? Buffer.from(payload as any) : Buffer.from(JSON.stringify(payload));
  socket.send({ cmd: "publish", topic, payload: body, qos, messageId, dup: false, retain: false });
}

export function rid(topic: string): string {
  return /\$rid=([^&]+)/.exec(topic)![1];
}
