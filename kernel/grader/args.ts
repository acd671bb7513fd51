/**
 * Command-line parsing shared by `assign`, `run` and `grade`: Node's `parseArgs`, with every mistake turned
 * into a `BadInput` that repeats the usage line.
 */
import { parseArgs } from "node:util";
import { BadInput } from "./notebook.js";

/** Options by name; all of ours take a value (`--out FILE`). */
export type OptionSpec = Record<string, { type: "string"; short?: string }>;

export function parse(argv: string[], options: OptionSpec, usage: string): { values: Record<string, string | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | undefined>, positionals };
  } catch (err) {
    throw new BadInput(`${(err as Error).message}\n${usage}`);
  }
}

/** A positive number of seconds (`--timeout 30`), as milliseconds. */
export function seconds(value: string | undefined, flag: string, fallback: number, usage: string): number {
  if (value === undefined) return fallback * 1000;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new BadInput(`${flag} wants a positive number of seconds, not '${value}'\n${usage}`);
  return Math.round(n * 1000);
}

export function positiveInt(value: string | undefined, flag: string, fallback: number, usage: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new BadInput(`${flag} wants a positive whole number, not '${value}'\n${usage}`);
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
