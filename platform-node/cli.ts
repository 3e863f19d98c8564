// The command line: `azure-iot-mqtt-lite provision ...` prints the DPS result as JSON and exits 0,
// or prints the typed error as JSON on stderr and exits 1 (2 for a usage mistake).
import { readFileSync } from "node:fs";
import { DpsClient, type DpsOptions } from "../core/dps";
import type { LiteError } from "../core/errors";
import { nodePlatform } from "./platform";

const USAGE = `usage:
  azure-iot-mqtt-lite provision --id-scope SCOPE --registration-id ID
      (--symmetric-key KEY | --group-key KEY | --cert FILE --key FILE)
      [--payload JSON] [--host HOST] [--port PORT] [--ca FILE] [--api-version VERSION] [--timeout MS]`;

type Flags = { [name: string]: string };

function usageError(message: string): never {
  process.stderr.write(message + "\n" + USAGE + "\n");
  process.exit(2);
}

/** `--name value` and `--name=value`; every flag takes a value; unknown flags are refused. */
export function parseFlags(args: string[], allowed: string[]): Flags {
  const flags: Flags = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) usageError("unexpected argument: " + arg);
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (!allowed.includes(name)) usageError("unknown option --" + name);
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined) usageError("--" + name + " needs a value");
    if (name in flags) usageError("--" + name + " given twice");
    flags[name] = value;
  }
  return flags;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    return usageError("cannot read " + what + " file " + path + ": " + (error as Error).message);
  }
}

function printError(error: LiteError): never {
  const { code, message, status, errorCode, retryable } = error;
  process.stderr.write(JSON.stringify({ error: { code: code ?? "UNEXPECTED", message, status, errorCode, retryable } }) + "\n");
  process.exit(1);
}

async function provision(args: string[]): Promise<void> {
  const flags = parseFlags(args, ["id-scope", "registration-id", "symmetric-key", "group-key", "cert", "key", "payload", "host", "port", "ca", "api-version", "timeout"]);
  if (!flags["id-scope"] || !flags["registration-id"]) usageError("--id-scope and --registration-id are required");
  const options: DpsOptions = {
    idScope: flags["id-scope"],
    registrationId: flags["registration-id"],
    symmetricKey: flags["symmetric-key"],
    groupKey: flags["group-key"],
    host: flags.host,
    apiVersion: flags["api-version"],
  };
  if (flags.cert || flags.key) {
    if (!flags.cert || !flags.key) usageError("--cert and --key go together");
    options.cert = readText(flags.cert, "certificate");
    options.key = readText(flags.key, "key");
  }
  if (flags.port) options.port = Number(flags.port);
  if (flags.timeout) options.timeoutMs = Number(flags.timeout);
  if (flags.ca) options.ca = readText(flags.ca, "CA");
  if (flags.payload !== undefined) {
    try {
      options.payload = JSON.parse(flags.payload);
    } catch {
      usageError("--payload must be JSON");
    }
  }
  const result = await new DpsClient(nodePlatform(), options).register();
  process.stdout.write(JSON.stringify(result, null, 2) + "\n");
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === "provision") return provision(rest);
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE + "\n");
    return;
  }
  usageError(command ? "unknown command " + command : "no command given");
}

main(process.argv.slice(2)).catch(printError);
