// What a client shows when logged (console.log, util.inspect, JSON.stringify, a logger or crash
// reporter serialising its context): who it is, never its credentials, which its fields hold
// (the options given, the connection string, the key). Loaded by the package's entry points
// (core/index.ts), not by the Espruino modules: the interpreter has no util.inspect, and each
// method there would hold variables for as long as the module is loaded.
import { DpsClient } from "./dps";
import { HubClient } from "./hub";

type Shown = { [name: string]: unknown };

function showAs(prototype: object, name: string, shown: (self: any) => Shown): void {
  Object.defineProperty(prototype, "toJSON", { value: function (this: unknown) { return shown(this); }, configurable: true, writable: true });
  // Node's util.inspect (console.log) looks this symbol up; other runtimes ignore it.
  Object.defineProperty(prototype, Symbol.for("nodejs.util.inspect.custom"), {
    value: function (this: unknown, _depth: number, options: unknown, inspect?: (value: unknown, options: unknown) => string) {
      return name + " " + (inspect ? inspect(shown(this), options) : JSON.stringify(shown(this)));
    },
    configurable: true,
    writable: true,
  });
}

showAs(HubClient.prototype, "HubClient", (client: HubClient) => ({ hostName: client.hostName, deviceId: client.deviceId, connected: client.connected }));
showAs(DpsClient.prototype, "DpsClient", (client: DpsClient) => {
  const options = (client as unknown as { options_: { idScope: string; registrationId: string } }).options_;
  return { idScope: options.idScope, registrationId: options.registrationId };
});
