// The hub client's event API is typed: npm test type-checks this file, and each expected-error
// directive below fails that check if the line after it compiles (a regression to untyped
// listeners would let misspelt events and wrong payload types through).
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { HubClient } from "../../core/hub";

function typedUse(client: HubClient): void {
  // @ts-expect-error: no such event
  client.on("mesage", () => undefined);
  // @ts-expect-error: a cloud-to-device payload is bytes, not text
  client.on("message", (message) => message.payload.toUpperCase());
  // @ts-expect-error: the error has a `code`, not a `cod`
  client.on("disconnected", (error) => error.cod);
  // @ts-expect-error: `complete` is a boolean
  client.on("desired", (_desired, _version, complete: string) => complete);
  client.on("desired", (desired, version, complete) => {
    const atVersion: number | undefined = version;
    const whole: boolean = complete;
    return [desired.anything, atVersion, whole];
  });
  client.on("error", (error) => error.code.toLowerCase());
}

test("the event API's types are checked at build time (see the file's expected errors)", () => {
  assert.type(typedUse, "function");
});

test.run();
