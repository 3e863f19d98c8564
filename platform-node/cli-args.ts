// Command-line arguments: the usage text, flag parsing, and options built from flags. Shared by
// the commands in cli.ts and cli-device.ts.
import { readFileSync } from "node:fs";
import type { DpsOptions } from "../core/dps";
import type { LiteError } from "../core/errors";
import type { NodePlatformOptions } from "./platform";

export const USAGE = `usage:
  azure-iot-mqtt-lite provision DPS_OPTIONS
  azure-iot-mqtt-lite device (--connection-string CS | DPS_OPTIONS) [--model-id DTMI]
      [--send N] [--interval MS] [--property NAME=VALUE ...] [--duration SECONDS]
where DPS_OPTIONS = --id-scope SCOPE --registration-id ID
      (--symmetric-key KEY | --group-key KEY | --cert FILE --key FILE) [--host DPS_HOST]
      [--payload JSON] [--api-version VERSION] [--timeout MS]
and for both: [--port PORT] [--ca FILE] [--connect-to ADDRESS:PORT]
  KEY and CS may be given as env:NAME (read from that environment variable) or file:PATH (read
  from that file): a value on the command line is visible to other users in ps and stays in the
  shell's history.
  --connect-to dials ADDRESS:PORT for every connection while TLS still checks the real host name
  (for a local simulator or a test network).`;

export type Flags = { [name: string]: string | string[] };

/** Flags that may be given more than once; their values are collected in order. */
const REPEATABLE = ["property"];

export function usageError(message: string): never {
  process.stderr.write(message + "\n" + USAGE + "\n");
  process.exit(2);
}

/** `--name value` and `--name=value`; every flag takes a value; unknown flags are refused. */
export function parseFlags(args: string[], allowed: string[]): Flags {
  const flags: Flags = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") {
      process.stdout.write(USAGE + "\n");
      process.exit(0);
    }
    // Not echoed: a key given without its flag name would land in a log.
    if (!arg.startsWith("--")) usageError("unexpected argument number " + (i + 1) + " (every value follows its --flag)");
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (!allowed.includes(name)) usageError("unknown option --" + name);
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined) usageError("--" + name + " needs a value");
    if (REPEATABLE.includes(name)) {
      flags[name] = ((flags[name] as string[] | undefined) || []).concat(value);
    } else {
      if (name in flags) usageError("--" + name + " given twice");
      flags[name] = value;
    }
  }
  return flags;
}

export function flag(flags: Flags, name: string): string | undefined {
  return flags[name] as string | undefined;
}

/** A numeric flag's value, undefined when absent; a usage error when it is not a number in range. */
export function numberFlag(flags: Flags, name: string, min: number, max: number): number | undefined {
  const value = flag(flags, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === "" || !(number >= min && number <= max)) usageError("--" + name + " must be a number from " + min + " to " + max);
  return number;
}

/** A secret flag's value: `env:NAME` and `file:PATH` keep it off the command line. */
export function secret(flags: Flags, name: string): string | undefined {
  const value = flag(flags, name);
  if (value === undefined) return undefined;
  if (value.startsWith("env:")) {
    const fromEnv = process.env[value.slice(4)];
    if (!fromEnv) usageError("--" + name + ": environment variable " + value.slice(4) + " is not set");
    return fromEnv;
  }
  if (value.startsWith("file:")) return readText(value.slice(5), "--" + name).trim();
  return value;
}

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    // Neither the path nor Node's message (which repeats it): what was given as a path is often
    // the secret itself, a key or a PEM pasted where its file's name belongs.
    // (A key in base64 ends in padding, as Azure's 32- and 64-byte keys do; a path seldom does.)
    const pasted = path.indexOf("-----BEGIN") >= 0 || /^[A-Za-z0-9+/]{20,}={1,2}$/.test(path);
    return usageError("cannot read the " + what + " file (" + ((error as { code?: string }).code || "error") + ")" + (pasted ? ": give the path of a file, not its contents" : ""));
  }
}

/** Codes the library throws for options it refuses before any connection: usage mistakes. */
const USAGE_CODES = /^(ARGUMENT_INVALID|KEY_INVALID|CONNECTION_STRING_\w+|\w+_ID_INVALID|ID_SCOPE_INVALID)$/;

export function printError(error: LiteError): never {
  const { code, message, status, errorCode, retryable } = error;
  process.stderr.write(JSON.stringify({ error: { code: code ?? "UNEXPECTED", message, status, errorCode, retryable } }) + "\n");
  process.exit(code && USAGE_CODES.test(code) ? 2 : 1);
}

export const DPS_FLAGS = ["id-scope", "registration-id", "symmetric-key", "group-key", "cert", "key", "host", "payload", "api-version", "timeout"];
export const CONNECTION_FLAGS = ["port", "ca", "connect-to"];

/** DPS options from flags (the key, certificate and CA read from their files). */
export function dpsOptionsFrom(flags: Flags): DpsOptions {
  if (!flag(flags, "id-scope") || !flag(flags, "registration-id")) usageError("--id-scope and --registration-id are required");
  const options: DpsOptions = {
    idScope: flag(flags, "id-scope") as string,
    registrationId: flag(flags, "registration-id") as string,
    symmetricKey: secret(flags, "symmetric-key"),
    groupKey: secret(flags, "group-key"),
    host: flag(flags, "host"),
    apiVersion: flag(flags, "api-version"),
  };
  const credentials = ["symmetric-key", "group-key", "cert"].filter((name) => flag(flags, name) !== undefined).length;
  if (credentials !== 1) usageError("give one of --symmetric-key, --group-key, or --cert with --key");
  if (flag(flags, "cert") || flag(flags, "key")) {
    if (!flag(flags, "cert") || !flag(flags, "key")) usageError("--cert and --key go together");
    options.cert = readText(flag(flags, "cert") as string, "certificate");
    options.key = readText(flag(flags, "key") as string, "key");
  }
  options.port = numberFlag(flags, "port", 1, 65535);
  options.timeoutMs = numberFlag(flags, "timeout", 1, 2147483647);
  if (flag(flags, "ca")) options.ca = readText(flag(flags, "ca") as string, "CA");
  const payload = flag(flags, "payload");
  if (payload !== undefined) {
    try {
      options.payload = JSON.parse(payload);
    } catch {
      usageError("--payload must be JSON");
    }
  }
  return options;
}

/** Platform options: --connect-to dials one address for every host, keeping the TLS name. */
export function platformOptionsFrom(flags: Flags): NodePlatformOptions {
  const connectTo = flag(flags, "connect-to");
  if (!connectTo) return {};
  const colon = connectTo.lastIndexOf(":");
  const port = Number(connectTo.slice(colon + 1));
  if (colon < 1 || !(port > 0 && port < 65536)) usageError("--connect-to needs ADDRESS:PORT");
  return { resolve: () => ({ host: connectTo.slice(0, colon), port }) };
}

