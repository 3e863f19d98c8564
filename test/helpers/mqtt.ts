// Bridges between our codec and mqtt-packet (the independent codec every byte is checked
// against): parse with mqtt-packet, and reduce packets from either library to the fields that
// carry meaning, bytes as hex, so they compare with assert.equal.
import mqtt from "mqtt-packet";

export function hex(bytes: Uint8Array | string | undefined | null): string | undefined {
  if (bytes === undefined || bytes === null) return undefined;
  const data = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return data.toString("hex");
}

/** The meaningful fields of a packet, from either library, in one canonical shape. */
export function comparable(packet: any): Record<string, unknown> {
  const out: Record<string, unknown> = { cmd: packet.cmd };
  switch (packet.cmd) {
    case "connect":
      out.clientId = packet.clientId;
      out.keepalive = packet.keepalive;
      out.clean = packet.clean;
      out.protocolVersion = packet.protocolVersion ?? 4;
      if (packet.username !== undefined) out.username = packet.username;
      if (packet.password !== undefined) out.password = hex(packet.password);
      if (packet.will) {
        out.will = { topic: packet.will.topic, payload: hex(packet.will.payload), qos: packet.will.qos ?? 0, retain: !!packet.will.retain };
      }
      break;
    case "connack":
      out.sessionPresent = packet.sessionPresent;
      out.returnCode = packet.returnCode;
      break;
    case "publish":
      out.topic = packet.topic;
      out.payload = hex(packet.payload);
      out.qos = packet.qos ?? 0;
      out.dup = !!packet.dup;
      out.retain = !!packet.retain;
      if ((packet.qos ?? 0) > 0) out.messageId = packet.messageId;
      break;
    case "subscribe":
      out.messageId = packet.messageId;
      out.subscriptions = packet.subscriptions.map((s: any) => ({ topic: s.topic, qos: s.qos }));
      break;
    case "suback":
      out.messageId = packet.messageId;
      out.granted = Array.from(packet.granted);
      break;
    case "unsubscribe":
      out.messageId = packet.messageId;
      out.unsubscriptions = Array.from(packet.unsubscriptions);
      break;
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
    case "unsuback":
      out.messageId = packet.messageId;
      break;
  }
  return out;
}

/** Every packet mqtt-packet finds in `bytes`; throws if it reports an error or leaves bytes over. */
export function parseWithMqttPacket(bytes: Uint8Array): any[] {
  const parser = mqtt.parser({ protocolVersion: 4 });
  const packets: any[] = [];
  let failure: Error | undefined;
  parser.on("packet", (packet: any) => packets.push(packet));
  parser.on("error", (error: Error) => (failure = failure ?? error));
  const left = parser.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  if (failure) throw failure;
  if (left !== 0) throw new Error("mqtt-packet left " + left + " bytes unparsed");
  return packets;
}

export function generateWithMqttPacket(packet: any): Uint8Array {
  const buffer = mqtt.generate(packet);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
}
