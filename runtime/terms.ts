/**
 * Erlang terms in TypeScript.
 *
 * The runtime speaks OTP's vocabulary so that results and exit reasons read like the Erlang/Elixir docs:
 * - an atom is a JS string: `"normal"`, `"shutdown"`, `"ok"`;
 * - a tuple is a JS array: `["ok", pid]`, `["shutdown", "db_down"]`, `["error", ["already_started", pid]]`;
 * - a list, where the difference matters (rare: call-failure reasons), is an `ErlList` made by `list(...)`;
 * - an exception that escaped a process is a `Crash` (OTP's `{Reason, Stacktrace}`, R12);
 * - numbers, objects and everything else pass through unchanged.
 */

import type { Pid } from "./process.js";

export type Term = unknown;

/** A proper list, distinguished from a tuple (plain array) where an OTP result really holds a list. */
export class ErlList<T = Term> extends Array<T> {}

export function list<T>(...items: T[]): ErlList<T> {
  const l = new ErlList<T>();
  l.push(...items);
  return l;
}

/**
 * An Erlang binary such as Elixir's `"x"` (a JS string is an atom here): `new Bin("x")` holds the text, or
 * raw bytes with `Bin.of(bytes)`. Scenarios write it `{"str": "x"}`.
 */
export class Bin {
  private raw: Uint8Array | null = null;
  constructor(readonly s: string) {}
  /** A binary of arbitrary bytes (not necessarily UTF-8 text). */
  static of(bytes: Uint8Array): Bin {
    const b = new Bin(new TextDecoder().decode(bytes));
    b.raw = bytes;
    return b;
  }
  /** The bytes of the binary (the UTF-8 of its text unless made by `Bin.of`). */
  bytes(): Uint8Array {
    return (this.raw ??= new TextEncoder().encode(this.s));
  }
  toString(): string {
    return JSON.stringify(this.s);
  }
}

/** Node's hook for `util.inspect`, `console.log` and the kernel's text of a value (no import of `node:util`). */
export const INSPECT: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

/**
 * An exception that escaped a process: OTP's `{E, Stacktrace}` for `error:E` and `{{nocatch,T}, Stacktrace}` for
 * `throw:T` (R12). `error` holds E (a JS Error, or the thrown term wrapped as `["nocatch", T]`).
 *
 * Prints as its short OTP form, e.g. `{%RuntimeError{message: "boom"}, [stacktrace]}`, in `console.log`,
 * `util.inspect` and cell results, alone or inside a message such as `["EXIT", pid, crash]`; the JS stack is
 * in `stack`.
 */
export class Crash {
  constructor(
    readonly error: Term,
    readonly stack: string,
  ) {}
  toString(): string {
    return formatTerm(this);
  }
  [INSPECT](): string {
    return formatTerm(this);
  }
}

/**
 * Thrown to make the current process exit with `reason` (Erlang's `exit(Reason)`); catching it is like
 * `catch exit:Reason`. Blocking calls that fail (`GenServer.call` timeouts, `noproc`) throw it too.
 * Prints as `%ExitSignal{reason: :noproc}` (its `reason` in OTP form), not as a JS stack.
 */
export class ExitSignal extends Error {
  constructor(readonly reason: Term) {
    super(`process exited: ${formatTerm(reason)}`);
    this.name = "ExitSignal";
  }
  [INSPECT](): string {
    return formatTerm(this);
  }
}

/**
 * An `error:Reason` raised by a BIF, Elixir's `ErlangError` (`%ErlangError{original: :noproc}`): e.g. `link` to a
 * dead process raises `noproc`. Uncaught, the process exits with `{Reason, Stack}` (a `Crash` of `original`), as
 * on the BEAM.
 */
export class ErlangError extends Error {
  constructor(readonly original: Term) {
    super(`Erlang error: ${formatTerm(original)}`);
    this.name = "ErlangError";
  }
}

/** Elixir's `RuntimeError`, the exception `raise "message"` makes. */
export class RuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RuntimeError";
  }
}

/** Exit reason for a JS value thrown out of a process (R12). */
export function reasonFromThrow(err: unknown): Term {
  if (err instanceof ExitSignal) return err.reason;
  if (err instanceof ErlangError) return new Crash(err.original, err.stack ?? "");
  if (err instanceof Error) return new Crash(err, err.stack ?? "");
  return new Crash(["nocatch", err], new Error().stack ?? "");
}

/**
 * A message links and monitors deliver: `["EXIT", pid, reason]` (to a process trapping exits) or
 * `["DOWN", ref, "process", pid, reason]` (to a monitor's owner). Shown as `{:EXIT, #PID<0.84.0>, :killed}`.
 */
export function isSignalMessage(t: Term): t is Term[] {
  if (!Array.isArray(t)) return false;
  if (t.length === 3 && t[0] === "EXIT") return isPidLike(t[1]);
  return t.length === 5 && t[0] === "DOWN" && t[2] === "process" && isPidLike(t[3]);
}

export function isTuple(t: Term): t is Term[] {
  return Array.isArray(t) && !(t instanceof ErlList);
}

/** `normal`, `shutdown` or `{shutdown, _}`: reasons a transient child may exit with and stay down (R39). */
export function isCleanExit(reason: Term): boolean {
  return reason === "normal" || reason === "shutdown" || (isTuple(reason) && reason.length === 2 && reason[0] === "shutdown");
}

/** Deep equality on terms (tuples, lists, atoms, numbers, binaries, plain objects); pids compare by identity. */
export function termEquals(a: Term, b: Term): boolean {
  if (a === b) return true;
  if (a instanceof Bin && b instanceof Bin) {
    const x = a.bytes();
    const y = b.bytes();
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length || (a instanceof ErlList) !== (b instanceof ErlList)) return false;
    for (let i = 0; i < a.length; i++) if (!termEquals(a[i], b[i])) return false;
    return true;
  }
  if (a && b && typeof a === "object" && typeof b === "object" && Object.getPrototypeOf(a) === Object.prototype && Object.getPrototypeOf(b) === Object.prototype) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => termEquals((a as Record<string, Term>)[k], (b as Record<string, Term>)[k]));
  }
  return false;
}

let pidFormatter: ((pid: Pid) => string) | null = null;

/** The runtime installs how pids print (it knows the Pid class; this module must not import it at runtime). */
export function setPidFormatter(f: (pid: Pid) => string): void {
  pidFormatter = f;
}

const ATOM_RE = /^[a-z][a-zA-Z0-9_@]*$/;

/**
 * Renders a term the way Elixir's `inspect` would, e.g. `{:shutdown, :db_down}`, `%RuntimeError{message: "x"}`,
 * `#PID<0.12.0>`. Used for event logs, diagrams and error messages. `depth` keeps huge states readable.
 */
export function formatTerm(t: Term, depth = 0): string {
  if (depth > 6) return "…";
  if (typeof t === "string") return ATOM_RE.test(t) || t === "EXIT" || t === "DOWN" ? `:${t}` : `:${JSON.stringify(t)}`;
  if (typeof t === "number" || typeof t === "bigint" || typeof t === "boolean") return String(t);
  if (t === null || t === undefined) return "nil";
  if (typeof t === "function") return `#Function<${t.name || "anonymous"}>`;
  if (typeof t === "symbol") return t.toString();
  if (t instanceof Crash) {
    const e = t.error;
    if (e instanceof Error) return `{${formatException(e)}, [stacktrace]}`;
    return `{${formatTerm(e, depth + 1)}, [stacktrace]}`;
  }
  if (t instanceof ExitSignal) return `%ExitSignal{reason: ${formatTerm(t.reason, depth + 1)}}`;
  if (t instanceof Error) return formatException(t);
  if (pidFormatter && isPidLike(t)) return pidFormatter(t as Pid);
  if (t instanceof ErlList) return `[${t.map((x) => formatTerm(x, depth + 1)).join(", ")}]`;
  if (Array.isArray(t)) return `{${t.map((x) => formatTerm(x, depth + 1)).join(", ")}}`;
  if (t instanceof Map) return `%{${[...t].map(([k, v]) => `${formatTerm(k, depth + 1)} => ${formatTerm(v, depth + 1)}`).join(", ")}}`;
  if (typeof t === "object") {
    const custom = (t as { toString?: () => string }).toString;
    if (custom && custom !== Object.prototype.toString) return custom.call(t);
    const entries = Object.entries(t as Record<string, Term>);
    return `%{${entries.map(([k, v]) => `${ATOM_RE.test(k) ? k : JSON.stringify(k)}: ${formatTerm(v, depth + 1)}`).join(", ")}}`;
  }
  return String(t);
}

function formatException(e: Error): string {
  return `%${e.name}{message: ${JSON.stringify(e.message)}}`;
}

function isPidLike(t: Term): boolean {
  return typeof t === "object" && t !== null && (t as { __pid?: boolean }).__pid === true;
}
