/**
 * Multi-node conformance scenarios: the document, its validation, its Erlang form for the oracle
 * (test/conformance/distribution/dist_oracle.erl) and the canonical text both sides print what they saw in.
 *
 * A scenario names the peer nodes it starts besides `a` (the shell's node), then steps. Each node has one
 * observer process that traps exits and logs, in arrival order, every message it gets and the result of each
 * step it runs (`by`). The oracle's observers run on real nodes (OTP 25 `peer`), the model's on simulated
 * ones (dist-run.ts); the two logs must be equal, line by line, per node.
 *
 * Written in JSON: node names are short (`"b"`, printed so on both sides), strings are atoms, arrays are
 * tuples, `{"list": [...]}` is a list and `"$w"` is the pid or monitor reference bound to `w` by an earlier step.
 *
 * Kept apart from format.ts (the single-node supervision scenarios) on purpose; the two may merge later.
 */

import { Crash, ErlList, Pid, Ref, type Term } from "../index.js";

export type Short = string;

export type DistStep =
  | { op: "spawn"; by: Short; on: Short; as: string; body: "echo" | "trap" | "wait"; link?: boolean; monitor?: boolean; ref?: string }
  | { op: "send"; by: Short; to: string; msg: unknown }
  | { op: "link" | "unlink"; by: Short; to: string }
  | { op: "monitor"; by: Short; to: string; as: string }
  | { op: "exit"; by: Short; to: string; reason: unknown }
  | { op: "monitor_node"; by: Short; node: Short }
  | { op: "monitor_nodes" | "nodes"; by: Short }
  | { op: "connect" | "disconnect"; by: Short; node: Short }
  | { op: "global_register"; by: Short; name: string; pid: string }
  | { op: "global_unregister" | "global_whereis"; by: Short; name: string }
  | { op: "global_send"; by: Short; name: string; msg: unknown }
  | { op: "pg_join" | "pg_leave"; by: Short; group: string; pid: string }
  | { op: "pg_members"; by: Short; group: string }
  | { op: "pg_monitor"; by: Short; group: string; as: string }
  | { op: "erpc_call"; by: Short; node: Short; fn: RemoteFnName; ms?: number; timeout?: number }
  | { op: "erpc_cast"; by: Short; node: Short; fn: RemoteFnName; ms?: number }
  | { op: "multicall"; by: Short; nodes: Short[]; fn: RemoteFnName; ms?: number; timeout?: number }
  | { op: "sleep"; ms: number }
  | { op: "netsplit"; groups: Short[][] }
  | { op: "heal" }
  | { op: "stop_node" | "start_node"; node: Short };

/** Functions a remote call can run, the same on both sides: node() / error(boom) / exit(bye) / sleep ms / message back. */
export type RemoteFnName = "node" | "crash" | "exit" | "sleep" | "send_back";

export interface DistScenario {
  /** A sentence: "Tests what happens if ...". */
  name: string;
  /** Peers started and connected to `a` before the steps. */
  nodes?: Short[];
  /** Peers started but not connected. */
  unconnected?: Short[];
  /** Wait after every step (ms, default 50): what a step caused has arrived before the next. */
  settle_ms?: number;
  /**
   * The kernel parameter of every node (default true, as in OTP 25). A scenario that splits a group of two or
   * more nodes from others sets it false: with it on, OTP's global may cut connections inside the group too,
   * depending on a race (see net.ts).
   */
  prevent_overlapping_partitions?: boolean;
  steps: DistStep[];
}

/** Per node, the observer's log lines. */
export type DistLog = Record<Short, string[]>;

/** What a recording file holds: the runs on real OTP, which must agree, and where. */
export interface DistRecording {
  scenario: string;
  otp: string;
  runs: DistLog[];
}

export class DistFormatError extends Error {
  constructor(file: string, field: string, expected: string, got: unknown) {
    super(`${file}: ${field}: expected ${expected}; got ${JSON.stringify(got)}`);
    this.name = "DistFormatError";
  }
}

const FIELDS: Record<DistStep["op"], Record<string, "short" | "name" | "term" | "number" | "bool" | "body" | "fn" | "shorts" | "groups">> = {
  spawn: { by: "short", on: "short", as: "name", body: "body" },
  send: { by: "short", to: "name", msg: "term" },
  link: { by: "short", to: "name" },
  unlink: { by: "short", to: "name" },
  monitor: { by: "short", to: "name", as: "name" },
  exit: { by: "short", to: "name", reason: "term" },
  monitor_node: { by: "short", node: "short" },
  monitor_nodes: { by: "short" },
  nodes: { by: "short" },
  connect: { by: "short", node: "short" },
  disconnect: { by: "short", node: "short" },
  global_register: { by: "short", name: "name", pid: "name" },
  global_unregister: { by: "short", name: "name" },
  global_whereis: { by: "short", name: "name" },
  global_send: { by: "short", name: "name", msg: "term" },
  pg_join: { by: "short", group: "name", pid: "name" },
  pg_leave: { by: "short", group: "name", pid: "name" },
  pg_members: { by: "short", group: "name" },
  pg_monitor: { by: "short", group: "name", as: "name" },
  erpc_call: { by: "short", node: "short", fn: "fn" },
  erpc_cast: { by: "short", node: "short", fn: "fn" },
  multicall: { by: "short", nodes: "shorts", fn: "fn" },
  sleep: { ms: "number" },
  netsplit: { groups: "groups" },
  heal: {},
  stop_node: { node: "short" },
  start_node: { node: "short" },
};
const OPTIONAL: Record<string, "number" | "bool" | "name"> = { link: "bool", monitor: "bool", ref: "name", ms: "number", timeout: "number" };
const NAME = /^[a-z][a-z0-9_]*$/;

/** Checks a parsed scenario; every problem names the file, the field, what was expected and what came. */
export function validateDistScenario(doc: unknown, file: string): DistScenario {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new DistFormatError(file, field, expected, got);
  };
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) fail("(top)", "an object", doc);
  const d = doc as Record<string, unknown>;
  if (typeof d.name !== "string") fail("name", 'a sentence "Tests what happens if ..."', d.name);
  const nodes = ["a"];
  for (const key of ["nodes", "unconnected"] as const) {
    if (d[key] === undefined) continue;
    if (!Array.isArray(d[key]) || !(d[key] as unknown[]).every((n) => typeof n === "string" && NAME.test(n) && n !== "a")) fail(key, 'short node names other than "a", e.g. ["b", "c"]', d[key]);
    nodes.push(...(d[key] as string[]));
  }
  if (d.prevent_overlapping_partitions !== undefined && typeof d.prevent_overlapping_partitions !== "boolean") fail("prevent_overlapping_partitions", "true or false", d.prevent_overlapping_partitions);
  if (d.settle_ms !== undefined && !(typeof d.settle_ms === "number" && d.settle_ms >= 0)) fail("settle_ms", "a number of ms >= 0", d.settle_ms);
  if (!Array.isArray(d.steps)) fail("steps", "a list of steps", d.steps);
  (d.steps as unknown[]).forEach((s, i) => {
    const at = `steps[${i}]`;
    if (typeof s !== "object" || s === null) fail(at, "an object with op", s);
    const step = s as Record<string, unknown>;
    const spec = FIELDS[step.op as DistStep["op"]];
    if (!spec) fail(`${at}.op`, `one of ${Object.keys(FIELDS).join(", ")}`, step.op);
    for (const [k, kind] of Object.entries(spec)) {
      const v = step[k];
      const ok =
        kind === "short" ? typeof v === "string" && nodes.includes(v) :
        kind === "name" ? typeof v === "string" && NAME.test(v) :
        kind === "term" ? v !== undefined :
        kind === "number" ? typeof v === "number" && v >= 0 :
        kind === "body" ? v === "echo" || v === "trap" || v === "wait" :
        kind === "fn" ? ["node", "crash", "exit", "sleep", "send_back"].includes(v as string) :
        kind === "shorts" ? Array.isArray(v) && v.every((n) => nodes.includes(n)) :
        kind === "groups" ? Array.isArray(v) && v.every((g) => Array.isArray(g) && g.every((n) => nodes.includes(n))) : false;
      if (!ok) fail(`${at}.${k}`, kind === "short" || kind === "shorts" || kind === "groups" ? `node(s) of this scenario (${nodes.join(", ")})` : `a ${kind}`, v);
    }
    for (const k of Object.keys(step)) {
      if (k === "op" || k in spec) continue;
      const kind = OPTIONAL[k];
      if (!kind) fail(`${at}.${k}`, `no such field for ${String(step.op)} (fields: ${Object.keys(spec).join(", ")})`, step[k]);
      const v = step[k];
      if (kind === "bool" ? typeof v !== "boolean" : kind === "number" ? typeof v !== "number" : typeof v !== "string") fail(`${at}.${k}`, `a ${kind}`, v);
    }
  });
  return d as unknown as DistScenario;
}

// ------------------------------------------------------------------ the Erlang form, for file:consult

/** The scenario as one Erlang term (a map with atom keys; strings become atoms, as the oracle reads them). */
export function toErlangTerms(s: DistScenario): string {
  // The name is prose (and may exceed Erlang's 255-character atoms): the oracle does not need it.
  const { name: _name, ...rest } = s;
  return `${erl(rest)}.\n`;
}

function erl(v: unknown): string {
  if (typeof v === "string") return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Math.round(v));
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(erl).join(",")}]`;
  if (typeof v === "object" && v !== null) return `#{${Object.entries(v).map(([k, x]) => `${erl(k)} => ${erl(x)}`).join(",")}}`;
  throw new TypeError(`toErlangTerms: cannot write ${String(v)}`);
}

// ------------------------------------------------------------------ the canonical text

/**
 * Prints a term as the oracle's `fmt/2` does: names for the pids and refs a scenario bound, `pid@b` / `ref`
 * for others, node names short (`b`), atoms quoted only when Erlang quotes them, `{Reason,stack}` for an error
 * with its stacktrace. A list of pids is printed
 * sorted, because neither `pg` nor `nodes()` promises an order.
 */
export function canonical(t: Term, names: Map<unknown, string>): string {
  if (t instanceof Pid || t instanceof Ref) {
    const n = names.get(t);
    if (n !== undefined) return n;
    return t instanceof Pid ? `pid@${shortNode(t.node === null ? localName(t) : t.node.name)}` : "ref";
  }
  if (typeof t === "string") {
    if (/@/.test(t)) return shortNode(t);
    return /^[a-z][a-zA-Z0-9_]*$/.test(t) ? t : `'${t}'`;
  }
  if (typeof t === "boolean") return String(t);
  if (typeof t === "number") return String(t);
  // An error reason with its stacktrace, `{Reason, Stack}` in Erlang: the stack prints as `stack` on both sides.
  if (t instanceof Crash) return `{${canonical(t.error instanceof Error ? t.error.message : t.error, names)},stack}`;
  if (t instanceof ErlList) {
    const items = t.map((x) => canonical(x as Term, names));
    if (t.length > 0 && t.every((x) => x instanceof Pid)) items.sort();
    return `[${items.join(",")}]`;
  }
  if (Array.isArray(t)) return `{${t.map((x) => canonical(x as Term, names)).join(",")}}`;
  return String(t);
}

function shortNode(name: string): string {
  return name.split("@")[0];
}

/** A pid of the runtime's own node: the cluster knows that node's name (it is `a` in every scenario). */
function localName(_p: Pid): string {
  return "a@lab";
}
