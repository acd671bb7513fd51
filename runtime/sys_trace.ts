/**
 * `sys:trace(Server, true)` for GenServers: one line per message the server takes in and per reply or new
 * state it produces, worded as gen_server's `print_event/3` in OTP 25 prints them (what `:sys.trace/2` shows in
 * iex too):
 *
 *   *DBG* counter got call get from <0.96.0>
 *   *DBG* counter sent 0 to <0.96.0>, new state 0
 *   *DBG* counter got cast {add,2}
 *   *DBG* counter new state 2
 *   *DBG* <0.103.0> got {hello,[1,2],<<"bin">>,1.5}
 *
 * Terms are written in Erlang syntax (`style: "erlang"`, the default, as the BEAM prints them, on one line where
 * `~tp` would wrap long terms) or in Elixir's (`style: "elixir"`: `*DBG* :counter got call :get from
 * #PID<0.96.0>`). Lines go to `print`, by default `console.log`, which a notebook shows in the running cell.
 */

import { Pid, Ref } from "./process.js";
import { Bin, Crash, ErlList, formatTerm, type Term } from "./terms.js";

export interface TraceOptions {
  /** "erlang" (default): terms as `erl` prints them; "elixir": as `inspect` does. */
  style?: "erlang" | "elixir";
  /** Where each line goes; default `console.log`. */
  print?: (line: string) => void;
}

/** A traced server's settings (kept in its GenServer record while tracing is on). */
export class TraceSink {
  readonly style: "erlang" | "elixir";
  private readonly printer: ((line: string) => void) | undefined;
  /**
   * `name`: what gen_server calls the server in its lines: its local name, the name inside a via or global name
   * (`{reg,<<"alice">>}` for `{via, Registry, {reg, <<"alice">>}}`), or its pid.
   */
  constructor(
    readonly name: Term,
    opts: TraceOptions,
  ) {
    if (opts.style !== undefined && opts.style !== "erlang" && opts.style !== "elixir") {
      throw new TypeError(`sys.trace: style must be "erlang" or "elixir", got ${formatTerm(opts.style)}.`);
    }
    this.style = opts.style ?? "erlang";
    this.printer = opts.print;
  }

  private term(t: Term): string {
    return this.style === "erlang" ? formatErlang(t) : formatTerm(t);
  }

  private line(text: string): void {
    const s = `*DBG* ${this.term(this.name)} ${text}`;
    try {
      if (this.printer) this.printer(s);
      else console.log(s);
    } catch {
      // a broken printer must not change what the server does
    }
  }

  /** `{in, Msg}`: a call, a cast or any other message. */
  in(msg: Term): void {
    if (Array.isArray(msg) && msg[0] === "$gen_call" && Array.isArray(msg[1])) {
      this.line(`got call ${this.term(msg[2])} from ${this.term(msg[1][0])}`);
    } else if (Array.isArray(msg) && msg[0] === "$gen_cast" && msg.length === 2) {
      this.line(`got cast ${this.term(msg[1])}`);
    } else {
      this.line(`got ${this.term(msg)}`);
    }
  }

  /** `{out, Reply, To, State}`: a reply sent with the state it leaves. */
  out(reply: Term, to: Pid, state: Term): void {
    this.line(`sent ${this.term(reply)} to ${this.term(to)}, new state ${this.term(state)}`);
  }

  /** `{noreply, State}`. */
  noreply(state: Term): void {
    this.line(`new state ${this.term(state)}`);
  }
}

const BARE_ATOM = /^[a-z][a-zA-Z0-9_@]*$/;
const RESERVED = new Set(["after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case", "catch", "cond", "div", "end", "fun", "if", "let", "not", "of", "or", "orelse", "receive", "rem", "try", "when", "xor", "maybe", "else"]);

function atom(name: string): string {
  if (BARE_ATOM.test(name) && !RESERVED.has(name)) return name;
  return `'${name.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** Printable as an Erlang string by `~p` (latin-1 printable characters and the usual escapes). */
function isPrintable(l: readonly Term[]): boolean {
  return l.length > 0 && l.every((c) => typeof c === "number" && Number.isInteger(c) && ((c >= 32 && c <= 126) || (c >= 160 && c <= 255) || c === 10 || c === 9 || c === 13));
}

function erlString(s: string): string {
  return JSON.stringify(s);
}

function float(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const s = String(x);
  const m = /^(-?\d+)(?:\.(\d+))?e([+-])(\d+)$/.exec(s);
  if (m) return `${m[1]}.${m[2] ?? "0"}e${m[3] === "-" ? "-" : ""}${m[4]}`;
  return s.includes(".") ? s : `${s}.0`;
}

/** A term as `io:format("~p")` prints it, on one line: `{add,2}`, `<<"x">>`, `#{a => 1}`, `<0.96.0>`. */
export function formatErlang(t: Term, depth = 0): string {
  if (depth > 12) return "...";
  if (typeof t === "string") return atom(t);
  if (typeof t === "boolean") return String(t);
  if (t === null || t === undefined) return "nil";
  if (typeof t === "bigint") return String(t);
  if (typeof t === "number") return Number.isInteger(t) ? String(t) : float(t);
  if (t instanceof Pid) return t.toString().replace(/^#PID/, "");
  if (t instanceof Ref) return `#Ref<0.0.0.${t.id}>`;
  if (t instanceof Bin) return `<<${erlString(t.s)}>>`;
  if (t instanceof Crash) return `{${formatErlang(t.error, depth + 1)},[...]}`; // the stack is not kept as terms
  if (t instanceof Error) return formatTerm(t);
  if (typeof t === "function") return `#Fun<${t.name || "anonymous"}>`;
  if (t instanceof ErlList) return isPrintable(t) ? erlString(String.fromCharCode(...(t as number[]))) : `[${t.map((x) => formatErlang(x, depth + 1)).join(",")}]`;
  if (Array.isArray(t)) return `{${t.map((x) => formatErlang(x, depth + 1)).join(",")}}`;
  if (t instanceof Map) return `#{${[...t].map(([k, v]) => `${formatErlang(k, depth + 1)} => ${formatErlang(v, depth + 1)}`).join(",")}}`;
  if (typeof t === "object" && Object.getPrototypeOf(t) === Object.prototype) {
    const entries = Object.entries(t as Record<string, Term>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `#{${entries.map(([k, v]) => `${atom(k)} => ${formatErlang(v, depth + 1)}`).join(",")}}`;
  }
  return formatTerm(t);
}
