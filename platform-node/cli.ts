// The command line: `azure-iot-mqtt-lite provision ...` prints the DPS result as JSON and exits 0;
// `device ...` stays connected and prints what arrives as JSON lines (cli-device.ts). Errors are
// printed as JSON on stderr with exit code 1 (2 for a usage mistake).
import { DpsClient } from "../core/dps";
import { CONNECTION_FLAGS, DPS_FLAGS, dpsOptionsFrom, parseFlags, platformOptionsFrom, printError, usageError, USAGE } from "./cli-args";
import { runDevice } from "./cli-device";
import { nodePlatform } from "./platform";

async function provision(args: string[]): Promise<void> {
  const flags = parseFlags(args, [...DPS_FLAGS, ...CONNECTION_FLAGS]);
  const options = dpsOptionsFrom(flags);
  const result = await new DpsClient(nodePlatform(platformOptionsFrom(flags)), options).register();
  process.stdout.write(JSON.stringify(result, null, 2) + "\n");
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === "provision") return provision(rest);
  if (command === "device") {
    const flags = parseFlags(rest, [...DPS_FLAGS, ...CONNECTION_FLAGS, "connection-string", "model-id", "send", "interval", "property", "duration"]);
    return runDevice(flags);
  }
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE + "\n");
    return;
  }
  // The command is named back only if it looks like one: a connection string (with its key)
  // given without a command lands here too.
  usageError(!command ? "no command given" : /^[a-z-]{1,20}$/.test(command) ? "unknown command " + command : "unknown command (the first argument is provision or device)");
}

main(process.argv.slice(2)).catch(printError);
