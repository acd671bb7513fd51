/**
 * JSON <-> runtime terms, the scenario encoding of otp-semantics.md §3.1 (same as the oracle's `Scn.Term`).
 */

import { Pid, Ref } from "../process.js";
import { Bin, Crash, ErlList, isTuple, type Term } from "../terms.js";
import { ChildRecord, Restarting } from "../child_spec.js";

/** An Erlang binary (`{"str": "x"}`), kept apart from atoms, which are plain strings (defined in terms.ts). */
export { Bin };

export function decode(j: unknown): Term {
  if (typeof j === "string" || typeof j === "number" || typeof j === "boolean" || j === null) return j;
  if (Array.isArray(j)) {
    const l = new ErlList<Term>();
    for (const x of j) l.push(decode(x));
    return l;
  }
  const o = j as Record<string, unknown>;
  if ("tuple" in o && Array.isArray(o.tuple)) return o.tuple.map(decode);
  if ("shutdown" in o) return ["shutdown", decode(o.shutdown)];
  if ("str" in o) return new Bin(String(o.str));
  return j;
}

/**
 * `nil` is what the process-level ops (ops.ts) get as JS null from Elixir APIs (Task.yield, GenServer.whereis,
 * a registry value), and the oracle prints Elixir's nil as JSON null; the supervisor-level trace has Erlang's
 * `undefined` there instead (a child's pid), so the caller says which.
 */
export function encode(t: Term, names: Map<Pid, string>, nil: null | "undefined" = "undefined"): unknown {
  if (typeof t === "boolean" || typeof t === "number") return t;
  if (t === null || t === undefined) return nil;
  if (typeof t === "string") return t;
  if (t instanceof Bin) return { str: t.s };
  if (t instanceof Pid) return names.get(t) ?? "<unknown pid>";
  if (t instanceof Ref) return "<ref>";
  if (typeof t === "function") return "<fun>";
  if (t instanceof Crash) {
    if (t.error instanceof Error) return { exception: t.error.name };
    return { error: encode(t.error, names) };
  }
  if (t instanceof Error) return { exception: t.name };
  if (t instanceof ChildRecord) return "<child_record>";
  if (t instanceof Restarting) return { tuple: ["restarting", encode(t.old, names)] };
  if (t instanceof ErlList) return t.map((x) => encode(x, names, nil));
  if (isTuple(t)) {
    if (t.length === 2 && t[0] === "shutdown") return { shutdown: encode(t[1], names, nil) };
    return { tuple: t.map((x) => encode(x, names, nil)) };
  }
  if (typeof t === "object") {
    const o = t as Record<string, Term>;
    // A %Task{} (task_supervisor.ts): the oracle prints it as {"task": its pid}.
    if (o.pid instanceof Pid && o.ref instanceof Ref && o.owner instanceof Pid && "mfa" in o) return { task: encode(o.pid, names) };
    const entries = Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { map: entries.map(([k, v]) => [k, encode(v, names, nil)]) };
  }
  return String(t);
}

/** JSON with keys sorted at every level, as the oracle prints events. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(",")}]`;
  if (v && typeof v === "object") {
    const keys = Object.keys(v as object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}
