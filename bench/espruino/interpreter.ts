// Runs a script on an Espruino interpreter built for Linux (the command in ESPRUINO) and follows
// its console: the bench's device-side firmware reports "@@ <step> <number>" lines (the number is
// its peak of variables in use, or what the step measured). Everything ends the run: a step the
// firmware calls DONE or FAIL, the interpreter's own complaints, its exit, or a silence.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { writeFileSync } from "node:fs";

/** A silence this long ends a run: any step restarts it. */
export const STEP_TIMEOUT_MS = 60_000;

export interface Outcome {
  done: boolean;
  /** The highest number any step reported. */
  peak: number;
  /** Why it did not finish, with the last lines the interpreter printed. */
  why: string;
}

export interface RunOptions {
  /** The interpreter's command. */
  interpreter: string;
  /** Its working directory, where its flash file is (the measuring build takes ESPRUINO_FLASH too). */
  dir: string;
  script: string;
  /** Variables it may use (ESPRUINO_VARS, read by the measuring build); undefined: its default. */
  vars?: number;
  onStep?: (step: string, value: number) => void;
  /** Every other line, without the console's prompt; true ends the run as done. */
  onLine?: (line: string) => boolean;
  echo?: boolean;
}

/** Texts pass through a JavaScript string literal byte for byte only when they are ASCII. */
function ascii(name: string, text: string): string {
  if (/[^\x00-\x7f]/.test(text)) throw new Error(name + " is not ASCII: the bench would not write it byte for byte");
  return text;
}

export function runInterpreter(options: RunOptions): Promise<Outcome> {
  const { dir, vars } = options;
  writeFileSync(join(dir, "run.js"), ascii("the script", options.script));
  const env = { ...process.env, ...(vars ? { ESPRUINO_VARS: String(vars) } : {}), ESPRUINO_TLS_HEAP: "1", ESPRUINO_FLASH: join(dir, "espruino.flash") };
  // Its own process group, so a wrapper script that does not exec the interpreter is ended with it.
  const child = spawn(options.interpreter, ["run.js"], { cwd: dir, env, stdio: ["pipe", "pipe", "pipe"], detached: true });
  return new Promise((resolve) => {
    let peak = 0;
    let tail: string[] = [];
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (done: boolean, why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      resolve({ done, peak, why: why && why + " (last lines: " + tail.join(" | ") + ")" });
    };
    const silence = (after: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false, "nothing for " + STEP_TIMEOUT_MS + " ms after " + after), STEP_TIMEOUT_MS);
    };
    silence("the start");
    let pending = "";
    const handle = (raw: string) => {
      // The console's prompt (">\r\x1b[J") comes first on a line the firmware prints.
      const line = raw.split("\x1b[J").pop()!.trim();
      tail = [...tail.slice(-5), line];
      if (options.echo) console.error("  [" + (vars ?? "-") + "] " + line);
      const step = /^@@ (.*) (\d+)$/.exec(line);
      if (!step) {
        // The interpreter stops the firmware's code without a catchable error, and says so.
        if (/Out of Memory|Uncaught|ERROR|Execution Interrupted/i.test(line)) return finish(false, "the interpreter: " + line);
        if (options.onLine && options.onLine(line)) finish(true, "");
        return;
      }
      const [, name, value] = step;
      peak = Math.max(peak, Number(value));
      silence(name);
      if (name.startsWith("FAIL")) return finish(false, name);
      if (name === "DONE") return finish(true, "");
      if (options.onStep) options.onStep(name, Number(value));
    };
    const read = (chunk: Buffer) => {
      pending += chunk.toString("latin1");
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (settled) return;
        try {
          handle(line);
        } catch (error) {
          finish(false, "bench: " + (error as Error).message);
        }
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("error", (error) => finish(false, "could not run " + options.interpreter + ": " + error.message));
    // "close", not "exit": the last output is read by then.
    child.on("close", () => finish(false, "the interpreter exited"));
  });
}

/** Erases the interpreter's Storage and writes `files` into it (with the interpreter's default
 * variable count: the texts pass through its memory once). */
export async function install(interpreter: string, dir: string, files: Record<string, string>): Promise<void> {
  const writes = Object.entries(files).map(([name, text]) => `s.write(${JSON.stringify(name)}, ${JSON.stringify(ascii(name, text))});`);
  const script = `var s = require("Storage"); s.eraseAll(); ${writes.join("\n")}\nconsole.log("@@ DONE 0");`;
  const outcome = await runInterpreter({ interpreter, dir, script });
  if (!outcome.done) throw new Error("could not write the interpreter's Storage: " + outcome.why);
}
