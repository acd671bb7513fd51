/**
 * `Op<T>`: one blocking operation (a call, a start, a sleep) usable from both sides of the process boundary.
 *
 * - Inside a process (a generator body or callback): `const r = yield* GenServer.call(pid, req)` blocks that
 *   process only, exactly like a receive in Erlang.
 * - Outside any process (a notebook cell, a test): `const r = await GenServer.call(pid, req)` runs it in a
 *   temporary driver process; with the virtual clock it completes at once, moving time as far as it needs.
 *   `.sync()` does the same without a promise.
 *
 * No promise is created per message: promises appear only where outside code awaits.
 */

import type { Blocking } from "./process.js";
import type { Runtime } from "./runtime.js";

/**
 * Told of each Op made outside any process (by a notebook cell, a test), when set: a host can warn about Ops that
 * were never run (the kernel does, at the end of a cell). Ops made inside processes are not reported: a process
 * body `yield*`s what it makes. Unset, it costs one comparison per Op.
 */
let observer: ((op: Op<unknown>) => void) | null = null;

/** Sets (or, with null, removes) the observer of Ops made outside processes. Not part of the notebook's scope. */
export function observeOps(fn: ((op: Op<unknown>) => void) | null): void {
  observer = fn;
}

/** Whether `op` has run: been awaited, `yield*`ed or `.sync()`ed. */
export function opRan(op: Op<unknown>): boolean {
  return op["ran"];
}

/** The call `op` stands for, as `toString()` shows it: `GenServer.call(#PID<0.85.0>, "get")`. */
export function opCall(op: Op<unknown>): string {
  return op["describeCall"]();
}

export class Op<T> implements PromiseLike<T> {
  /** Set when the operation is first run (awaited, `yield*`ed or `.sync()`ed): an Op that never ran did nothing. */
  private ran = false;

  constructor(
    protected readonly rt: Runtime,
    /** The operation's generator function; null in a subclass that implements `start` instead. */
    private readonly body: (() => Blocking<T>) | null,
    /** How the operation is named in error messages, e.g. "GenServer.call(...)". */
    readonly what: string,
    /** The arguments it was made with, shown when the Op itself is printed (`GenServer.call(#PID<0.85.0>, "get")`). */
    private readonly args?: readonly unknown[],
  ) {
    if (observer !== null && rt.current === null) observer(this);
  }

  /** A new run of the operation. */
  protected start(): Blocking<T> {
    return this.body!();
  }

  /** The arguments shown when the Op is printed; undefined shows `(…)`. */
  protected shownArgs(): readonly unknown[] | undefined {
    return this.args;
  }

  [Symbol.iterator](): Blocking<T> {
    this.ran = true;
    return this.start();
  }

  /** Runs to completion now (virtual clock) and returns the value; throws `ExitSignal` if the caller would exit. */
  sync(): T {
    this.ran = true;
    return this.rt.runSync(this.body ?? (() => this.start()), this.what);
  }

  then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    this.ran = true;
    return this.rt.runAsync(this.body ?? (() => this.start()), this.what).then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.then(undefined, onRejected);
  }

  /**
   * What a printed Op says. An Op only describes work: nothing happens until it is awaited (`yield*`ed inside a
   * process), so a cell whose value is an Op shows `Op GenServer.call(#PID<0.85.0>, "get") — not run: did you
   * forget \`await\`?`.
   */
  toString(): string {
    const call = this.describeCall();
    return this.ran ? `Op ${call} — already run; each \`await\` runs it again` : `Op ${call} — not run: did you forget \`await\`?`;
  }

  /** The call as it would be written: `GenServer.call(#PID<0.85.0>, "get")`. */
  private describeCall(): string {
    const args = this.shownArgs();
    return `${this.what}(${args ? args.map((a) => formatArg(a, 0)).join(", ") : "…"})`;
  }

  /** `console.log`, `util.inspect` and cell results show `toString()`, not the runtime inside. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** An argument as it would be written in a cell: `"get"`, `42`, `#PID<0.85.0>`, `["push", 1]`, `Counter`. */
function formatArg(v: unknown, depth: number): string {
  let text: string;
  try {
    text = formatArgFull(v, depth);
  } catch {
    text = "…"; // a user object whose toString throws
  }
  return text.length > 60 ? text.slice(0, 59) + "…" : text;
}

function formatArgFull(v: unknown, depth: number): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
    case "boolean":
    case "undefined":
      return String(v);
    case "bigint":
      return `${v}n`;
    case "symbol":
      return v.toString();
    case "function":
      return v.name ? `[Function ${v.name}]` : "[Function]";
  }
  if (v === null) return "null";
  if (depth >= 2) return Array.isArray(v) ? "[…]" : "{…}";
  if (Array.isArray(v)) return `[${v.map((x) => formatArg(x, depth + 1)).join(", ")}]`;
  const o = v as Record<string, unknown>;
  // Pids, refs and modules (`defmodule`) print as themselves: `#PID<0.85.0>`, `#Reference<3>`, `Counter`.
  if (o.constructor?.name === "Module" && typeof o.name === "string") return o.name;
  if (typeof o.toString === "function" && o.toString !== Object.prototype.toString) return String(o);
  const proto = Object.getPrototypeOf(o);
  if (proto !== Object.prototype && proto !== null) return `${o.constructor?.name ?? "Object"} {…}`;
  const entries = Object.entries(o).map(([k, x]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${formatArg(x, depth + 1)}`);
  return entries.length ? `{ ${entries.join(", ")} }` : "{}";
}
