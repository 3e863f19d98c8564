// The Storage module's exports. Written out as a plain object because Espruino ignores the
// property getters bundlers use for ES module namespaces (measured: a getter came back instead of
// the function it should return).
import { connectViaDps, DpsClient, espruinoPlatform, HubClient, utf8Decode } from "./index";

module.exports = { espruinoPlatform, DpsClient, HubClient, connectViaDps, utf8Decode };
