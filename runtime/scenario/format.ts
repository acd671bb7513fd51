/**
 * The conformance scenario document (otp-semantics.md §3.2) and its validation.
 *
 * A malformed scenario gets one message naming the file, the field and what was expected, so an author can
 * fix it without reading this code: `s1.json: steps[2].op: expected one of crash, raise, ...; got "krash"`.
 */

export type JsonTerm = unknown;

export interface ScenarioNode {
  id: string;
  kind?: "worker" | "supervisor" | "dynamic_supervisor";
  type?: string;
  strategy?: "one_for_one" | "one_for_all" | "rest_for_one";
  intensity?: number;
  period?: number;
  auto_shutdown?: "never" | "any_significant" | "all_significant";
  max_children?: number;
  restart?: "permanent" | "transient" | "temporary";
  shutdown?: number | "infinity" | "brutal_kill";
  significant?: boolean;
  trap_exit?: boolean;
  terminate_ms?: number;
  children?: ScenarioNode[];
  kind_of_sup?: string;
}

export type Step =
  | { op: "crash" | "kill" | "stop"; target: string; reason?: JsonTerm; timeout?: number }
  | { op: "raise"; target: string }
  | { op: "wait"; ms: number }
  | { op: "set_start_results"; path: string; results: JsonTerm[] }
  | { op: "start_child"; sup: string; spec: ScenarioNode }
  | { op: "terminate_child" | "restart_child" | "delete_child"; sup: string; id: string }
  | { op: "terminate_child_pid"; sup: string; target: string }
  | { op: "which_children" | "count_children"; sup: string }
  | { op: "send" | "cast"; target: string; msg: JsonTerm }
  | { op: "call"; target: string; request: JsonTerm; timeout?: number };

export interface Scenario {
  name?: string;
  start_results?: Record<string, JsonTerm[]>;
  tree: ScenarioNode;
  steps: Step[];
  expect?: JsonTerm[];
}

export class ScenarioFormatError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`${file}: ${field}: expected ${expected}; got ${describe(got)}`);
    this.name = "ScenarioFormatError";
  }
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing (the field is missing)";
  const s = JSON.stringify(v);
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

const OPS: Record<string, string[]> = {
  crash: ["target"],
  raise: ["target"],
  kill: ["target"],
  stop: ["target"],
  wait: ["ms"],
  set_start_results: ["path", "results"],
  start_child: ["sup", "spec"],
  terminate_child: ["sup", "id"],
  restart_child: ["sup", "id"],
  delete_child: ["sup", "id"],
  terminate_child_pid: ["sup", "target"],
  which_children: ["sup"],
  count_children: ["sup"],
  send: ["target", "msg"],
  cast: ["target", "msg"],
  call: ["target", "request"],
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses and validates a scenario; throws ScenarioFormatError. */
export function parseScenario(file: string, text: string): Scenario {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ScenarioFormatError(file, "(document)", "valid JSON", (e as Error).message);
  }
  if (!isObj(doc)) throw new ScenarioFormatError(file, "(document)", "a JSON object with tree, steps and expect", doc);
  if (doc.name !== undefined && typeof doc.name !== "string") throw new ScenarioFormatError(file, "name", "a string", doc.name);
  checkNode(file, "tree", doc.tree, true);
  if (doc.start_results !== undefined) {
    if (!isObj(doc.start_results)) throw new ScenarioFormatError(file, "start_results", "an object mapping paths to lists of results", doc.start_results);
    for (const [k, v] of Object.entries(doc.start_results)) {
      if (!Array.isArray(v)) throw new ScenarioFormatError(file, `start_results.${k}`, "a list of results (\"ok\", \"ignore\", {\"error\": R}, {\"init_stop\": R})", v);
      v.forEach((r, i) => checkStartResult(file, `start_results.${k}[${i}]`, r));
    }
  }
  const steps = doc.steps ?? [];
  if (!Array.isArray(steps)) throw new ScenarioFormatError(file, "steps", "a list of steps", steps);
  steps.forEach((s, i) => {
    const f = `steps[${i}]`;
    if (!isObj(s)) throw new ScenarioFormatError(file, f, "an object with an op", s);
    const need = OPS[s.op as string];
    if (!need) throw new ScenarioFormatError(file, `${f}.op`, `one of ${Object.keys(OPS).join(", ")}`, s.op);
    for (const k of need) if (s[k] === undefined) throw new ScenarioFormatError(file, `${f}.${k}`, `a value (op ${s.op} needs ${need.join(", ")})`, undefined);
    if (s.op === "wait" && !(typeof s.ms === "number" && s.ms >= 0)) throw new ScenarioFormatError(file, `${f}.ms`, "a number of milliseconds >= 0", s.ms);
    if (s.op === "start_child") checkNode(file, `${f}.spec`, s.spec, false);
    if (s.op === "set_start_results") {
      if (!Array.isArray(s.results)) throw new ScenarioFormatError(file, `${f}.results`, "a list of results", s.results);
      (s.results as unknown[]).forEach((r, j) => checkStartResult(file, `${f}.results[${j}]`, r));
    }
    for (const k of ["target", "sup", "path", "id"]) {
      if (s[k] !== undefined && typeof s[k] !== "string") throw new ScenarioFormatError(file, `${f}.${k}`, "a path string such as \"root/a\"", s[k]);
    }
    if (s.timeout !== undefined && typeof s.timeout !== "number") throw new ScenarioFormatError(file, `${f}.timeout`, "a number of milliseconds", s.timeout);
  });
  if (doc.expect !== undefined && !Array.isArray(doc.expect)) throw new ScenarioFormatError(file, "expect", "a list of events", doc.expect);
  (doc.expect as unknown[] | undefined)?.forEach((e, i) => {
    if (!isObj(e)) throw new ScenarioFormatError(file, `expect[${i}]`, "an event object or {\"any_order\": [...]}", e);
    if ("any_order" in e && !Array.isArray(e.any_order)) throw new ScenarioFormatError(file, `expect[${i}].any_order`, "a list of events", e.any_order);
  });
  return { ...(doc as object), steps } as Scenario;
}

function checkStartResult(file: string, field: string, r: unknown): void {
  if (r === "ok" || r === "ignore") return;
  if (isObj(r) && ("error" in r || "init_stop" in r) && Object.keys(r).length === 1) return;
  throw new ScenarioFormatError(file, field, "\"ok\", \"ignore\", {\"error\": R} or {\"init_stop\": R}", r);
}

function checkNode(file: string, field: string, n: unknown, root: boolean): void {
  if (!isObj(n)) throw new ScenarioFormatError(file, field, "an object describing a process (id, kind, ...)", n);
  if (typeof n.id !== "string" || n.id === "" || n.id.includes("/")) throw new ScenarioFormatError(file, `${field}.id`, "a non-empty string without '/'", n.id);
  const kind = n.kind ?? n.type ?? (root ? "supervisor" : "worker");
  const kinds = root ? ["supervisor", "dynamic_supervisor"] : ["worker", "supervisor", "dynamic_supervisor"];
  if (!kinds.includes(kind as string)) throw new ScenarioFormatError(file, `${field}.kind`, `one of ${kinds.join(", ")}`, kind);
  const oneOf = (k: string, allowed: unknown[]) => {
    if (n[k] !== undefined && !allowed.includes(n[k])) throw new ScenarioFormatError(file, `${field}.${k}`, `one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`, n[k]);
  };
  oneOf("strategy", ["one_for_one", "one_for_all", "rest_for_one"]);
  oneOf("restart", ["permanent", "transient", "temporary"]);
  oneOf("auto_shutdown", ["never", "any_significant", "all_significant"]);
  for (const k of ["intensity", "period", "max_children", "terminate_ms"]) {
    if (n[k] !== undefined && typeof n[k] !== "number") throw new ScenarioFormatError(file, `${field}.${k}`, "a number", n[k]);
  }
  if (n.shutdown !== undefined && typeof n.shutdown !== "number" && n.shutdown !== "infinity" && n.shutdown !== "brutal_kill") {
    throw new ScenarioFormatError(file, `${field}.shutdown`, "milliseconds, \"infinity\" or \"brutal_kill\"", n.shutdown);
  }
  for (const k of ["trap_exit", "significant"]) {
    if (n[k] !== undefined && typeof n[k] !== "boolean") throw new ScenarioFormatError(file, `${field}.${k}`, "true or false", n[k]);
  }
  if (n.children !== undefined) {
    if (!Array.isArray(n.children)) throw new ScenarioFormatError(file, `${field}.children`, "a list of child nodes", n.children);
    n.children.forEach((c, i) => checkNode(file, `${field}.children[${i}]`, c, false));
  }
}
