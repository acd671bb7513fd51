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

/** The original, supervisor-level steps the runner runs itself. */
export type SupervisorStep =
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

export type Step = SupervisorStep | ProcessStep;

/** A process-level step (see PROCESS_OPS); `by` makes the scripted process at that path run it. */
export type ProcessStep = { op: string; by?: string; [field: string]: JsonTerm };

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

/**
 * The process-level ops (runtime/scenario/ops.ts, the oracle's Scn.Ops): the fields each needs, the optional
 * ones with their kinds, and whether a successful run records a `result` event (quiet ops record only
 * failures). Any of them may carry `"by": path` (run by that scripted process) and may appear in a `body`.
 * One entry per op: add an op here, in ops.ts and in the oracle.
 */
export interface ProcessOpInfo {
  need: string[];
  /** Optional fields: "path" (a process path), "number", "boolean", "term" (any JSON term), "body", "string". */
  optional?: Record<string, FieldKind>;
  quiet?: boolean;
  /** Only inside a body or with "by" (it would end or block the runner). */
  processOnly?: boolean;
}
export type FieldKind = "path" | "number" | "boolean" | "term" | "body" | "string" | "timeout" | "options" | "shutdown" | "name";

const BODY = { body: "body" } as const;
export const PROCESS_OPS: Record<string, ProcessOpInfo> = {
  spawn: { need: ["id"], optional: { ...BODY, link: "boolean", monitor: "boolean", trap_exit: "boolean", as: "string" }, quiet: true },
  link: { need: ["target"], quiet: true },
  unlink: { need: ["target"], quiet: true },
  monitor: { need: ["target"], optional: { as: "string" }, quiet: true },
  demonitor: { need: ["ref"], optional: { options: "options" } },
  trap_exit: { need: ["value"], quiet: true },
  exit: { need: ["target", "reason"], quiet: true },
  exit_self: { need: [], optional: { reason: "term" }, processOnly: true },
  return: { need: [], optional: { value: "term" }, processOnly: true },
  sleep: { need: ["ms"], quiet: true },
  send: { need: ["target", "msg"], quiet: true },
  call: { need: ["target", "request"], optional: { timeout: "timeout" } },
  receive: { need: [], optional: { timeout: "timeout" }, quiet: true, processOnly: true },
  is_alive: { need: ["target"] },
  flush: { need: [] },
  gen_stop: { need: ["target"], optional: { reason: "term", timeout: "timeout" } },
  server_start: { need: ["id"], optional: { name: "name", trap_exit: "boolean", terminate_ms: "number" } },
  task_sup_start: { need: ["id"], optional: { max_children: "number" } },
  task_async: { need: ["id"], optional: { ...BODY, as: "string" }, quiet: true },
  task_async_nolink: { need: ["sup", "id"], optional: { ...BODY, as: "string" }, quiet: true },
  task_sup_async: { need: ["sup", "id"], optional: { ...BODY, as: "string" }, quiet: true },
  task_start_child: { need: ["sup", "id"], optional: BODY },
  task_await: { need: ["task"], optional: { timeout: "timeout" } },
  task_yield: { need: ["task"], optional: { timeout: "timeout" } },
  task_shutdown: { need: ["task"], optional: { shutdown: "shutdown" } },
  agent_start: { need: ["id", "value"] },
  agent_get: { need: ["target"], optional: { exit: "term", timeout: "timeout" } },
  agent_update: { need: ["target"], optional: { set: "term", exit: "term", timeout: "timeout" } },
  agent_get_and_update: { need: ["target"], optional: { set: "term", exit: "term", timeout: "timeout" } },
  agent_cast: { need: ["target"], optional: { set: "term", exit: "term" } },
  agent_stop: { need: ["target"], optional: { reason: "term", timeout: "timeout" } },
  registry_start: { need: ["id"], optional: { keys: "string" } },
  registry_register: { need: ["reg", "key"], optional: { value: "term" } },
  registry_unregister: { need: ["reg", "key"] },
  registry_lookup: { need: ["reg", "key"] },
  registry_keys: { need: ["reg", "target"] },
  registry_count: { need: ["reg"] },
  registry_send: { need: ["reg", "key", "msg"] },
  registry_dispatch: { need: ["reg", "key", "msg"] },
  via_call: { need: ["reg", "key", "request"], optional: { timeout: "timeout" } },
  via_whereis: { need: ["reg", "key"] },
  partition_start: { need: ["id"], optional: { partitions: "number" } },
  partition_call: { need: ["sup", "key", "request"], optional: { timeout: "timeout" } },
  partition_count: { need: ["sup"] },
  hot_load: { need: ["vsn"] },
  hot_start: { need: ["id"] },
  hot_spawn: { need: ["id"], optional: { link: "boolean" }, quiet: true },
  sys_suspend: { need: ["target"] },
  sys_resume: { need: ["target"] },
  sys_get_state: { need: ["target"] },
  sys_change_code: { need: ["target"], optional: { old_vsn: "term", extra: "term" } },
  purge: { need: [] },
  soft_purge: { need: [] },
};

/** Ops the runner runs itself (the original supervisor-level format); `send` and `call` are also process ops. */
const RUNNER_OPS = new Set(Object.keys(OPS));

/** Fields whose value must be a string naming something (a path, an id, a registry, a task or ref name). */
const STRING_FIELDS = ["target", "sup", "path", "id", "by", "reg", "task", "ref", "as", "keys"];

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
    if (PROCESS_OPS[s.op as string] && (s.by !== undefined || !RUNNER_OPS.has(s.op as string))) {
      checkProcessStep(file, f, s, s.by !== undefined);
      return;
    }
    const need = OPS[s.op as string];
    if (!need) throw new ScenarioFormatError(file, `${f}.op`, `one of ${[...Object.keys(OPS), ...Object.keys(PROCESS_OPS).filter((k) => !RUNNER_OPS.has(k))].join(", ")}`, s.op);
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

/** A process-level step, at the top level (inProcess: it has "by") or inside a body (inProcess: true). */
function checkProcessStep(file: string, f: string, s: Record<string, unknown>, inProcess: boolean): void {
  const info = PROCESS_OPS[s.op as string];
  if (!info) throw new ScenarioFormatError(file, `${f}.op`, `one of ${Object.keys(PROCESS_OPS).join(", ")} (the ops a process body can run)`, s.op);
  if (info.processOnly && !inProcess) throw new ScenarioFormatError(file, `${f}.by`, `a process path: op ${s.op} only runs inside a body or with "by" (the runner cannot ${s.op})`, s.by);
  for (const k of info.need) if (s[k] === undefined) throw new ScenarioFormatError(file, `${f}.${k}`, `a value (op ${s.op} needs ${info.need.join(", ")})`, undefined);
  const known = new Set(["op", "by", ...info.need, ...Object.keys(info.optional ?? {})]);
  for (const k of Object.keys(s)) {
    if (!known.has(k)) throw new ScenarioFormatError(file, `${f}.${k}`, `no such field for op ${s.op} (it takes ${[...known].filter((x) => x !== "op").join(", ")})`, s[k]);
  }
  for (const k of STRING_FIELDS) {
    if (s[k] !== undefined && typeof s[k] !== "string") throw new ScenarioFormatError(file, `${f}.${k}`, "a string (a path such as \"root/a\" or a name)", s[k]);
  }
  for (const k of ["ms", "vsn", "partitions", "max_children", "terminate_ms"]) {
    if (s[k] !== undefined && !(typeof s[k] === "number" && (s[k] as number) >= 0)) throw new ScenarioFormatError(file, `${f}.${k}`, "a number >= 0", s[k]);
  }
  for (const k of ["link", "monitor", "trap_exit"]) {
    if (s[k] !== undefined && typeof s[k] !== "boolean") throw new ScenarioFormatError(file, `${f}.${k}`, "true or false", s[k]);
  }
  if (s.op === "trap_exit" && typeof s.value !== "boolean") throw new ScenarioFormatError(file, `${f}.value`, "true or false", s.value);
  if (s.timeout !== undefined && s.timeout !== "infinity" && typeof s.timeout !== "number") throw new ScenarioFormatError(file, `${f}.timeout`, "milliseconds or \"infinity\"", s.timeout);
  if (s.shutdown !== undefined && s.shutdown !== "brutal_kill" && typeof s.shutdown !== "number") throw new ScenarioFormatError(file, `${f}.shutdown`, "milliseconds or \"brutal_kill\"", s.shutdown);
  if (s.options !== undefined && !(Array.isArray(s.options) && s.options.every((o) => o === "flush" || o === "info"))) {
    throw new ScenarioFormatError(file, `${f}.options`, "a list of \"flush\" and \"info\"", s.options);
  }
  if (s.keys !== undefined && s.keys !== "unique" && s.keys !== "duplicate") throw new ScenarioFormatError(file, `${f}.keys`, "\"unique\" or \"duplicate\"", s.keys);
  if (s.name !== undefined && typeof s.name !== "string") {
    const n = s.name as Record<string, unknown>;
    if (!(isObj(n) && Array.isArray(n.via) && n.via.length === 2 && typeof n.via[0] === "string")) {
      throw new ScenarioFormatError(file, `${f}.name`, "a local name (a string) or {\"via\": [registry, key]}", s.name);
    }
  }
  if (s.body !== undefined) {
    if (!Array.isArray(s.body)) throw new ScenarioFormatError(file, `${f}.body`, "a list of steps the process runs", s.body);
    s.body.forEach((b, j) => {
      if (!isObj(b)) throw new ScenarioFormatError(file, `${f}.body[${j}]`, "an object with an op", b);
      if (b.by !== undefined) throw new ScenarioFormatError(file, `${f}.body[${j}].by`, "nothing: a body step runs in the body's own process", b.by);
      checkProcessStep(file, `${f}.body[${j}]`, b, true);
    });
  }
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
