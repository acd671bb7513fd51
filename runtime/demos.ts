/**
 * One-call demonstrations of the classic supervision lessons, for exploring outside the lessons:
 * each builds a small tree on the active runtime, does one thing to it, and returns what happened
 * (the tree before and after, and the events in between), which renders as a picture in a notebook.
 *
 * @example demoOneForAll()          // same crash as demoOneForOne, but every sibling restarts
 * @example demoIntensity({ intensity: 2, crashes: 4 })
 */

import { Pid } from "./process.js";
import { activeRuntime, snapshot } from "./processes.js";
import { defineModule, getModule, type Module } from "./code.js";
import { GenServer, type GenServerCallbacks } from "./gen_server.js";
import { Supervisor } from "./supervisor.js";
import { DynamicSupervisor } from "./dynamic_supervisor.js";
import { crash } from "./faults.js";
import { PartitionSupervisor } from "./partition_supervisor.js";
import { Task, TaskSupervisor } from "./task_supervisor.js";
import { sleep as sleepIn } from "./runtime.js";
import { JUPYTER_DISPLAY, renderAs, type MimeBundle } from "./display-hook.js";
import { textTree } from "./introspect.js";
import type { RuntimeEvent, Strategy, TreeSnapshot, RestartType } from "./observe.js";
import { formatTerm, type Term } from "./terms.js";
import { clusterOf, clusterSnapshot, heal, netEvents, netsplit, node, Node, startNode, type ClusterView } from "./nodes.js";
import { Global } from "./global.js";
import { exit, monitor, receive, spawn } from "./processes.js";

/** What a demo did: the tree before and after, and every event in between. */
export class DemoResult {
  constructor(
    readonly title: string,
    readonly sup: Pid,
    readonly before: TreeSnapshot,
    readonly after: TreeSnapshot | null,
    readonly events: RuntimeEvent[],
    /** One sentence that says what to notice. */
    readonly lesson: string,
  ) {}

  /** A short text account: the lesson, the restarts and exits in order. */
  summary(): string {
    const lines = [`${this.title}: ${this.lesson}`];
    for (const e of this.events) {
      if (e.type === "exit") lines.push(`  t=${e.t} exit ${e.pid} ${e.reason}`);
      if (e.type === "restart") lines.push(`  t=${e.t} restart ${e.id} ${e.oldPid ?? "-"} -> ${e.newPid ?? "-"}`);
      if (e.type === "report" && e.context === "shutdown") lines.push(`  t=${e.t} supervisor ${e.sup} gave up: ${e.reason}`);
    }
    return lines.join("\n");
  }

  [JUPYTER_DISPLAY](): MimeBundle {
    return renderAs("demo", this, () => `${this.summary()}\n\nbefore:\n${textTree(this.before.root)}\n\nafter:\n${this.after ? textTree(this.after.root) : "(supervisor gone)"}`);
  }
}

/** The demos' worker module, defined on first use and then reused (so its version stays 1). */
function workerModule(): Module<GenServerCallbacks> {
  const rt = activeRuntime();
  const existing = getModule(rt, "DemoWorker") as Module<GenServerCallbacks> | undefined;
  if (existing) return existing;
  return defineModule<GenServerCallbacks>(rt, "DemoWorker", {
    init: (name: string) => ["ok", { name, handled: 0 }],
    handleCall: (_req: Term, _from, s: { handled: number }) => ["reply", s.handled, { ...s, handled: s.handled + 1 }],
  });
}

/** A demo worker child spec. Each demo defines the module once: redefining it would load a new version. */
function worker(W: Module<GenServerCallbacks>, id: string, restart: RestartType = "permanent") {
  return { id, restart, start: () => GenServer.startLink(W, id) };
}

function childPid(sup: Pid, id: string): Pid {
  const snap = snapshot(sup);
  const n = snap.root.children?.find((c) => c.id === id);
  const p = n?.pid ? activeRuntime().processes().find((x) => x.label === n.pid) : undefined;
  if (!p) throw new Error(`demo: no running child '${id}'`);
  return p;
}

function run(title: string, lesson: string, sup: Pid, act: () => void): DemoResult {
  const rt = activeRuntime();
  rt.settle();
  const before = snapshot(sup);
  const from = rt.events.length;
  act();
  rt.settle();
  const events = rt.events.all().slice(from);
  return new DemoResult(title, sup, before, sup.alive ? snapshot(sup) : null, events, lesson);
}

function startTree(strategy: Strategy, children: unknown[], flags: { intensity?: number; period?: number } = {}): Pid {
  const r = Supervisor.startLink(children, { strategy, intensity: flags.intensity ?? 3, period: flags.period ?? 5 }).sync();
  if (!Array.isArray(r) || r[0] !== "ok") throw new Error(`demo: the supervisor did not start: ${String(r)}`);
  return r[1] as Pid;
}

function strategyDemo(strategy: Strategy, lesson: string): DemoResult {
  const W = workerModule();
  const sup = startTree(strategy, [worker(W, "a"), worker(W, "b"), worker(W, "c")]);
  return run(`${strategy}: b crashes`, lesson, sup, () => crash(childPid(sup, "b"), "boom"));
}

/** Three workers a, b, c under one_for_one; b crashes: only b restarts. */
export function demoOneForOne(): DemoResult {
  return strategyDemo("one_for_one", "only the crashed child (b) is restarted; a and c keep their pids.");
}

/** Same tree under one_for_all: c and a are stopped (newest first), then a, b, c start again in order. */
export function demoOneForAll(): DemoResult {
  return strategyDemo("one_for_all", "every child is stopped (c, then a) and all restart in start order a, b, c.");
}

/** Same tree under rest_for_one: c (started after b) is stopped, then b and c restart; a is untouched. */
export function demoRestForOne(): DemoResult {
  return strategyDemo("rest_for_one", "the children started after b (c) are stopped; b and c restart, a keeps its pid.");
}

/** Permanent, transient and temporary children each exit `normal`, then each crash. */
export function demoRestartTypes(): DemoResult {
  const W = workerModule();
  const sup = startTree("one_for_one", [worker(W, "permanent", "permanent"), worker(W, "transient", "transient"), worker(W, "temporary", "temporary")], { intensity: 10 });
  return run("restart types: normal exits, then crashes", "permanent always restarts; transient only after an abnormal exit; temporary never (its spec is removed).", sup, () => {
    const rt = activeRuntime();
    for (const id of ["permanent", "transient", "temporary"]) {
      crash(childPid(sup, id), "normal");
      rt.settle();
    }
    for (const id of ["permanent", "temporary"]) {
      try {
        crash(childPid(sup, id), "boom");
      } catch {
        // the temporary child is gone after its normal exit: nothing to crash
      }
      rt.settle();
    }
  });
}

/** A worker crashes `crashes` times, `everyMs` apart, under `intensity` restarts per `period` seconds. */
export function demoIntensity(opts: { intensity?: number; period?: number; crashes?: number; everyMs?: number } = {}): DemoResult {
  const intensity = opts.intensity ?? 3;
  const crashes = opts.crashes ?? intensity + 1;
  const every = opts.everyMs ?? 100;
  const W = workerModule();
  const sup = startTree("one_for_one", [worker(W, "flaky"), worker(W, "steady")], { intensity, period: opts.period ?? 5 });
  return run(`restart intensity ${intensity} in ${opts.period ?? 5} s, ${crashes} crashes`, `up to ${intensity} restarts in the window are fine; restart number ${intensity + 1} makes the supervisor give up and exit with reason shutdown.`, sup, () => {
    const rt = activeRuntime();
    for (let i = 0; i < crashes && sup.alive; i++) {
      crash(childPid(sup, "flaky"), "boom");
      rt.settle();
      rt.advance(every);
    }
  });
}

/** Nested supervisors: a worker deep in the tree keeps crashing until the failure climbs to the root. */
export function demoCascade(): DemoResult {
  const W = workerModule();
  const inner = () => Supervisor.startLink([worker(W, "db")], { strategy: "one_for_one", intensity: 1, period: 5 });
  const sup = startTree("one_for_one", [{ id: "inner", type: "supervisor", start: inner }, worker(W, "web")], { intensity: 1, period: 5 });
  return run("cascade: a crashing worker in a nested supervisor", "the inner supervisor gives up after its 2nd restart in the window and exits shutdown; the root restarts it once, then gives up too.", sup, () => {
    const rt = activeRuntime();
    for (let i = 0; i < 6 && sup.alive; i++) {
      const innerPid = childPid(sup, "inner");
      crash(childPid(innerPid, "db"), "boom");
      rt.settle();
    }
  });
}

/** A DynamicSupervisor with max_children 3: start 4 children, crash one, terminate one. */
export function demoDynamic(): DemoResult {
  const rt = activeRuntime();
  const r = DynamicSupervisor.startLink({ maxChildren: 3 }).sync();
  const sup = (r as [string, Pid])[1];
  const W = workerModule();
  return run("DynamicSupervisor with max_children 3", "children start on demand; the 4th start answers {error, max_children}; a crashed child restarts under a new pid; terminate_child removes one.", sup, () => {
    const pids: Pid[] = [];
    for (const id of ["w1", "w2", "w3", "w4"]) {
      const res = DynamicSupervisor.startChild(sup, { id, start: () => GenServer.startLink(W, id) }).sync();
      if (Array.isArray(res) && res[0] === "ok") pids.push(res[1] as Pid);
    }
    crash(pids[0], "boom");
    rt.settle();
    DynamicSupervisor.terminateChild(sup, pids[1]).sync();
  });
}

/** A name for a demo's registered process that no running process has yet (demos may run more than once). */
function freeName(base: string): string {
  const rt = activeRuntime();
  for (let i = 1; ; i++) {
    const name = i === 1 ? base : `${base}${i}`;
    if (!rt.whereis(name)) return name;
  }
}

/**
 * A PartitionSupervisor of `partitions` (default 4) workers; six keys are routed to their partitions, then the
 * partition serving "alice" crashes: only that partition restarts, the keys on the others keep their server.
 */
export function demoPartitionSupervisor(opts: { partitions?: number } = {}): DemoResult {
  const n = opts.partitions ?? 4;
  const W = workerModule();
  const name = freeName("DemoPartitions");
  const r = PartitionSupervisor.startLink({ name, childSpec: [W, null], partitions: n, withArguments: (_args, p) => `partition ${p}` }).sync();
  if (!Array.isArray(r) || r[0] !== "ok") throw new Error(`demo: the PartitionSupervisor did not start: ${String(r)}`);
  const sup = r[1] as Pid;
  const keys = ["alice", "bob", "carol", "dave", "erin", "frank"];
  // Which partition serves each key: `:erlang.phash2(key, partitions)`, as Elixir's PartitionSupervisor routes.
  const routes = keys.map((k) => `${k}→${PartitionSupervisor.partitionOf(name, k)}`).join(", ");
  const hit = PartitionSupervisor.partitionOf(name, "alice");
  return run(
    `PartitionSupervisor ${name} with ${n} partitions: alice's partition crashes`,
    `keys are routed by phash2(key, ${n}) (${routes}); a crash restarts only partition ${hit}, the others keep their pids.`,
    sup,
    () => {
      const server = PartitionSupervisor.whereisName(name, "alice");
      if (!server) throw new Error("demo: no server for alice");
      crash(server, "boom");
    },
  );
}

/**
 * A Task.Supervisor runs three tasks for the caller with `async_nolink`: one answers 42, one raises, one is still
 * sleeping when the caller stops waiting (and shuts it down). The caller lives on; crashed tasks are not
 * restarted (they are temporary).
 */
export function demoTaskSupervisor(): DemoResult {
  const r = TaskSupervisor.startLink().sync();
  if (!Array.isArray(r) || r[0] !== "ok") throw new Error(`demo: the Task.Supervisor did not start: ${String(r)}`);
  const sup = r[1] as Pid;
  const results: Term[] = [];
  const result = run(
    "Task.Supervisor: async_nolink tasks that answer, crash and overrun",
    "",
    sup,
    () => {
      const ok = TaskSupervisor.asyncNolink(sup, () => 6 * 7).sync();
      const bad = TaskSupervisor.asyncNolink(sup, () => {
        throw new Error("boom");
      }).sync();
      const slow = TaskSupervisor.asyncNolink(sup, function* () {
        yield* sleepIn(10_000);
        return "late";
      }).sync();
      for (const t of [ok, bad, slow]) results.push(Task.yield(t, 100).sync());
      Task.shutdown(slow, "brutal_kill").sync();
    },
  );
  const shown = results.map((x) => (x === null ? "nil" : formatTerm(x)));
  return new DemoResult(
    result.title,
    result.sup,
    result.before,
    result.after,
    result.events,
    `Task.yield gives ${shown[0]}, then ${shown[1]} (the crash arrives as the monitor's DOWN: the caller is not linked and lives on), then ${shown[2]} for the task still running after 100 ms, which Task.shutdown stops; no task is restarted.`,
  );
}

/** What `demoNetsplit` did: the cluster at each stage, and what the network and `:global` did in between. */
export class NetsplitDemo {
  constructor(
    readonly title: string,
    readonly stages: Array<{ label: string; view: ClusterView }>,
    readonly events: string[],
    /** One sentence that says what to notice. */
    readonly lesson: string,
  ) {}

  summary(): string {
    return [`${this.title}: ${this.lesson}`, ...this.events.map((e) => `  ${e}`)].join("\n");
  }

  [JUPYTER_DISPLAY](): MimeBundle {
    const stage = (s: { label: string; view: ClusterView }) =>
      `${s.label}\n${s.view.nodes.map((n) => `  ${n.name}${n.up ? "" : " (stopped)"}: ${n.processes.join(", ") || "no processes"}`).join("\n")}\n  global: ${s.view.globals.map((g) => `${g.name} -> ${g.pid} on ${g.node} (seen by ${g.seenBy.join(", ")})`).join("; ") || "none"}`;
    return renderAs("netsplit", this, () => `${this.summary()}\n\n${this.stages.map(stage).join("\n\n")}`);
  }
}

/** A node name `base@host` (then `base2@host`...) that this runtime's cluster does not have yet. */
function freeNodeName(base: string, host: string): string {
  const taken = clusterOf().nodes;
  for (let i = 1; ; i++) {
    const name = `${i === 1 ? base : `${base}${i}`}@${host}`;
    if (!taken.has(name)) return name;
  }
}

/**
 * A singleton kept alive by a watcher on each of two nodes through a `:global` name (the seed's distributed
 * supervision): the network splits the singleton's node away, the other side starts a second singleton, and
 * when the split heals `:global` kills one of the two. Starts the nodes it needs (and names this node
 * `a@lab` if it has no name yet).
 */
export function demoNetsplit(): NetsplitDemo {
  if (!Node.isAlive()) Node.start("a@lab");
  const here = node();
  const host = here.split("@")[1]!;
  const b = startNode(freeNodeName("demo_b", host));
  const c = startNode(freeNodeName("demo_c", host));
  const rt = activeRuntime();
  const first = netEvents().length;
  let name = "demo_singleton";
  for (let i = 2; Global.whereisName(name) !== "undefined"; i++) name = `demo_singleton${i}`;
  const started: string[] = [];
  // Each watcher registers a new singleton under the global name, or monitors the one that holds it; when that
  // one goes (crash, node down, cut off), it tries again.
  const watcher = function* () {
    for (;;) {
      const mine = spawn(function* () {
        yield* receive(() => false);
      });
      if (Global.registerName(name, mine) === "yes") {
        started.push(`${mine.label} on ${node(mine)}`);
        monitor(mine);
      } else {
        exit(mine, "kill");
        const holder = Global.whereisName(name);
        if (holder === "undefined") continue;
        monitor(holder);
      }
      yield* receive((m) => Array.isArray(m) && m[0] === "DOWN");
    }
  };
  spawn(b, watcher);
  rt.settle();
  spawn(c, watcher);
  rt.settle();
  const stages = [{ label: `1. one singleton, on ${b}; a watcher on ${b} and on ${c}`, view: clusterSnapshot(rt) }];
  netsplit([[here, c], [b]]);
  rt.settle();
  stages.push({ label: `2. ${b} split away: ${c}'s watcher started a second singleton`, view: clusterSnapshot(rt) });
  heal();
  rt.settle();
  stages.push({ label: "3. healed: :global killed one of the two", view: clusterSnapshot(rt) });
  const events = netEvents()
    .slice(first)
    .flatMap((e) => {
      if (e.type === "netsplit") return [`t=${e.t} netsplit ${e.groups.map((g) => `[${g.join(", ")}]`).join(" | ")}`];
      if (e.type === "heal") return [`t=${e.t} heal`];
      if (e.type === "global_conflict") return [`t=${e.t} :global name clash on ${e.name}: kept ${e.kept}, killed ${e.killed}`];
      return [];
    });
  events.unshift(...started.map((s) => `singleton started: ${s}`));
  return new NetsplitDemo(
    "A global singleton in a net split",
    stages,
    events,
    `during the split each side has its own singleton (${started.length} were started); on healing, :global keeps one and kills the other.`,
  );
}