/**
 * Command-line parsing shared by `assign`, `run` and `grade`: Node's `parseArgs`, with every mistake turned
 * into a `BadInput` that repeats the usage line. Options take a value (`--out FILE`) unless declared as flags
 * (`--allow-unsandboxed`); `--help` prints a command's full help.
 */
import { parseArgs } from "node:util";
import { BadInput } from "./notebook.js";

/** Options by name: `string` ones take a value, `boolean` ones are flags. */
export type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

/** The options every command that runs a notebook takes: time limits, memory, output caps. */
export const RUN_OPTIONS: OptionSpec = {
  timeout: { type: "string" },
  budget: { type: "string" },
  memory: { type: "string" },
  "max-cell-output": { type: "string" },
  "max-notebook-output": { type: "string" },
  "max-cell-outputs": { type: "string" },
};

/** `RUN_OPTIONS` and what grading adds: Gradescope visibility of hidden tests, and running without the OS sandbox. */
export const GRADING_OPTIONS: OptionSpec = {
  ...RUN_OPTIONS,
  "hidden-visibility": { type: "string" },
  "allow-unsandboxed": { type: "boolean" },
};

export interface Parsed {
  values: Record<string, string | undefined>;
  flags: Record<string, boolean>;
  positionals: string[];
}

export function parse(argv: string[], options: OptionSpec, usage: string): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    const strings: Record<string, string | undefined> = {};
    const flags: Record<string, boolean> = {};
    for (const [name, spec] of Object.entries(options)) {
      const v = (values as Record<string, unknown>)[name];
      if (spec.type === "boolean") flags[name] = v === true;
      else strings[name] = typeof v === "string" ? v : undefined;
    }
    return { values: strings, flags, positionals };
  } catch (err) {
    throw new BadInput(`${(err as Error).message}\n${usage}`);
  }
}

/** True when `--help` or `-h` is among the arguments (checked before parsing, so it works with any others). */
export function wantsHelp(argv: string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

/** A positive number of seconds (`--timeout 30`), as milliseconds. */
export function seconds(value: string | undefined, flag: string, fallback: number, usage: string): number {
  if (value === undefined) return fallback * 1000;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new BadInput(`${flag} wants a positive number of seconds, not '${value}'\n${usage}`);
  return Math.round(n * 1000);
}

/** A positive number (`--max-cell-output 0.5`). */
export function positiveNumber(value: string | undefined, flag: string, fallback: number, what: string, usage: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new BadInput(`${flag} wants a positive number of ${what}, not '${value}'\n${usage}`);
  return n;
}

export function positiveInt(value: string | undefined, flag: string, fallback: number, usage: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n <= 0) throw new BadInput(`${flag} wants a positive whole number, not '${value}'\n${usage}`);
  return n;
}

/** Runs a command body, mapping bad input to exit code 2 with its message on stderr. */
export async function withExitCodes(command: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof BadInput) {
      process.stderr.write(`otp-lab ${command}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
