/**
 * Hand-written runtime data for the widget tests: a small shop application whose tree shows every status,
 * old code and awkward labels, the events of a crash that exhausts a supervisor's restart intensity, metric
 * samples, and a generator for a 10,000-process tree. Times are virtual-clock milliseconds.
 */
import type { MetricSample, ProcessInfo, RuntimeEvent, TreeNode, TreeSnapshot } from "../../runtime/observe.js";

/** The shop before the crash. */
export function shopBefore(): TreeSnapshot {
  return {
    t: 1000,
    root: {
      id: "Shop.Sup", pid: "<0.80.0>", kind: "supervisor", behaviour: "supervisor", strategy: "one_for_one",
      intensity: 3, period: 5, status: "running", restarts: 0, module: "Shop.Sup", version: 1,
      children: [
        { id: "cache", pid: "<0.81.0>", kind: "worker", behaviour: "gen_server", restart: "permanent", shutdown: 5000,
          status: "running", restarts: 0, module: "Shop.Cache", version: 2, oldCode: false, mailbox: 0, memory: 2400 },
        { id: "payments", pid: "<0.82.0>", kind: "supervisor", behaviour: "supervisor", strategy: "rest_for_one",
          intensity: 1, period: 5, restart: "permanent", status: "running", restarts: 0, module: "Shop.Payments", version: 1,
          children: [
            { id: "gateway", pid: "<0.83.0>", kind: "worker", behaviour: "gen_server", restart: "permanent",
              status: "running", restarts: 0, module: "Shop.Gateway", version: 1 },
            { id: "ledger", pid: "<0.84.0>", kind: "worker", behaviour: "agent", restart: "transient",
              status: "running", restarts: 0, module: "Shop.Ledger", version: 1 },
          ] },
        { id: "mailer", pid: "<0.85.0>", kind: "worker", behaviour: "gen_server", restart: "temporary",
          status: "running", restarts: 0, module: "Shop.Mailer", version: 1 },
      ],
    },
  };
}

/** The shop after: cache restarted twice (new pid, old code), gateway restarting, ledger gone, mailer removed, audit added. */
export function shopAfter(): TreeSnapshot {
  return {
    t: 4250,
    root: {
      id: "Shop.Sup", pid: "<0.80.0>", kind: "supervisor", behaviour: "supervisor", strategy: "one_for_one",
      intensity: 3, period: 5, status: "running", restarts: 0, module: "Shop.Sup", version: 1,
      children: [
        { id: "cache", pid: "<0.95.0>", kind: "worker", behaviour: "gen_server", restart: "permanent", shutdown: 5000,
          status: "running", restarts: 2, lastExitReason: '%RuntimeError{message: "<boom> & \\"bust\\"; #1"}',
          module: "Shop.Cache", version: 2, oldCode: true, mailbox: 3, memory: 5100 },
        { id: "payments", pid: "<0.82.0>", kind: "supervisor", behaviour: "supervisor", strategy: "rest_for_one",
          intensity: 1, period: 5, restart: "permanent", status: "running", restarts: 0, module: "Shop.Payments", version: 1,
          children: [
            { id: "gateway", pid: null, kind: "worker", behaviour: "gen_server", restart: "permanent",
              status: "restarting", restarts: 1, lastExitReason: "{:shutdown, :timeout}", module: "Shop.Gateway", version: 1 },
            { id: "ledger", pid: null, kind: "worker", behaviour: "agent", restart: "transient",
              status: "undefined", restarts: 0, lastExitReason: "normal", module: "Shop.Ledger", version: 1 },
          ] },
        { id: "audit", pid: "<0.97.0>", kind: "worker", behaviour: "task", restart: "temporary",
          status: "running", restarts: 0, module: "Shop.Audit", version: 1 },
      ],
    },
  };
}

/** Events of a short run: messages, a crash, restarts, an exhausted supervisor (payments, limit 1 in 5 s, gives up at 3,000 ms). */
export function shopEvents(): RuntimeEvent[] {
  return [
    { type: "spawn", t: 0, pid: "<0.80.0>", name: "Shop.Sup", behaviour: "supervisor", module: "Shop.Sup", version: 1 },
    { type: "spawn", t: 0, pid: "<0.81.0>", parent: "<0.80.0>", name: "cache", behaviour: "gen_server", module: "Shop.Cache", version: 1 },
    { type: "spawn", t: 0, pid: "<0.82.0>", parent: "<0.80.0>", name: "Shop.Payments", behaviour: "supervisor", module: "Shop.Payments", version: 1 },
    { type: "spawn", t: 0, pid: "<0.83.0>", parent: "<0.82.0>", name: "gateway", behaviour: "gen_server", module: "Shop.Gateway", version: 1 },
    { type: "send", t: 100, to: "<0.81.0>", msg: "{:put, :apple, 3}" },
    { type: "send", t: 120, from: "<0.81.0>", to: "<0.83.0>", msg: '{:charge, "<card>"; 42 & more #tag}' },
    { type: "code_load", t: 150, module: "Shop.Cache", version: 2 },
    { type: "exit", t: 200, pid: "<0.81.0>", name: "cache", reason: '%RuntimeError{message: "boom"}' },
    { type: "signal", t: 200, from: "<0.81.0>", to: "<0.80.0>", reason: '%RuntimeError{message: "boom"}' },
    { type: "report", t: 200, sup: "<0.80.0>", context: "child_terminated", child: "<0.81.0>", id: "cache", reason: '%RuntimeError{message: "boom"}' },
    { type: "restart", t: 200, sup: "<0.80.0>", id: "cache", oldPid: "<0.81.0>", newPid: "<0.95.0>" },
    { type: "spawn", t: 200, pid: "<0.95.0>", parent: "<0.80.0>", name: "cache", behaviour: "gen_server", module: "Shop.Cache", version: 2 },
    { type: "exit", t: 1500, pid: "<0.83.0>", name: "gateway", reason: "killed" },
    { type: "signal", t: 1500, from: "<0.83.0>", to: "<0.82.0>", reason: "killed" },
    { type: "restart", t: 1500, sup: "<0.82.0>", id: "gateway", oldPid: "<0.83.0>", newPid: "<0.96.0>" },
    { type: "exit", t: 3000, pid: "<0.96.0>", name: "gateway", reason: "killed" },
    { type: "report", t: 3000, sup: "<0.82.0>", context: "shutdown", id: "gateway", child: "<0.96.0>", reason: "reached_max_restart_intensity" },
    { type: "exit", t: 3000, pid: "<0.82.0>", name: "Shop.Payments", reason: "shutdown" },
    { type: "restart", t: 3000, sup: "<0.80.0>", id: "payments", oldPid: "<0.82.0>", newPid: "<0.99.0>" },
    { type: "restart", t: 3200, sup: "<0.80.0>", id: "cache", oldPid: "<0.95.0>", newPid: "<0.98.0>" },
    { type: "code_change", t: 4100, pid: "<0.98.0>", module: "Shop.Cache", from: 1, to: 2, ok: true },
    { type: "code_purge", t: 4200, module: "Shop.Cache", version: 1, killed: [] },
  ];
}

export function shopProcesses(): ProcessInfo[] {
  return [
    { pid: "<0.80.0>", name: "Shop.Sup", status: "waiting", behaviour: "supervisor", module: "Shop.Sup", version: 1, oldCode: false,
      mailbox: 0, links: ["<0.95.0>", "<0.82.0>"], monitors: [], monitoredBy: [], trapExit: true, restarts: 0, memory: 2816, reductions: 120 },
    { pid: "<0.95.0>", name: "cache", status: "running", behaviour: "gen_server", module: "Shop.Cache", version: 2, oldCode: true,
      mailbox: 3, links: ["<0.80.0>"], monitors: ["<0.82.0>"], monitoredBy: [], trapExit: false, restarts: 2, memory: 5100, reductions: 4711 },
    { pid: "<0.100.0>", name: undefined, status: "suspended", behaviour: "process", oldCode: false,
      mailbox: 1200, links: [], monitors: [], monitoredBy: [], trapExit: false, restarts: 0, memory: 1_572_864, reductions: 9 },
    { pid: "<0.82.0>", name: "<script>alert(1)</script>", status: "exiting", behaviour: "supervisor", module: "Shop.Payments", version: 1, oldCode: false,
      mailbox: 0, links: ["<0.80.0>"], monitors: [], monitoredBy: ["<0.95.0>"], trapExit: true, restarts: 0, memory: 1900, reductions: 77 },
  ];
}

/** Two processes sampled every 500 ms from 0 to 3,000 ms: cache grows, its mailbox backs up and drains. */
export function shopSamples(): MetricSample[] {
  const out: MetricSample[] = [];
  for (let t = 0; t <= 3000; t += 500) {
    out.push({ t, pid: "<0.81.0>", name: "cache", memory: 2000 + t, mailbox: t <= 1500 ? t / 100 : (3000 - t) / 100, reductions: t });
    out.push({ t, pid: "<0.83.0>", name: "gateway", memory: 1500, mailbox: 0, reductions: t / 2 });
  }
  return out;
}

/**
 * A 10,000-process tree: the root supervisor, a registry, a pool supervisor with `workers` identical workers
 * (three of them restarted once), and a small metrics supervisor. Total = 3 + workers + 3 + ... see count below.
 */
export function bigTree(workers = 9_994): TreeSnapshot {
  const pool: TreeNode[] = [];
  for (let i = 0; i < workers; i++) {
    pool.push({ id: `worker_${i}`, pid: `<0.${200 + i}.0>`, kind: "worker", behaviour: "gen_server", restart: "temporary",
      status: "running", restarts: i % 3000 === 7 ? 1 : 0, module: "Pool.Worker", version: 1 });
  }
  return {
    t: 60_000,
    root: {
      id: "Big.Sup", pid: "<0.100.0>", kind: "supervisor", behaviour: "supervisor", strategy: "one_for_one", intensity: 3, period: 5,
      status: "running", restarts: 0,
      children: [
        { id: "registry", pid: "<0.101.0>", kind: "worker", behaviour: "gen_server", restart: "permanent", status: "running", restarts: 0 },
        { id: "pool", pid: "<0.102.0>", kind: "supervisor", behaviour: "dynamic_supervisor", strategy: "one_for_one", intensity: 3,
          period: 5, restart: "permanent", status: "running", restarts: 0, maxChildren: null, children: pool },
        { id: "metrics", pid: "<0.103.0>", kind: "supervisor", behaviour: "supervisor", strategy: "one_for_all", intensity: 1,
          period: 5, restart: "permanent", status: "running", restarts: 0, children: [
            { id: "sampler", pid: "<0.104.0>", kind: "worker", behaviour: "gen_server", restart: "permanent", status: "running", restarts: 0 },
            { id: "sink", pid: "<0.105.0>", kind: "worker", behaviour: "gen_server", restart: "permanent", status: "running", restarts: 0 },
          ] },
      ],
    },
  };
}

export function countProcesses(node: TreeNode): number {
  return 1 + (node.children ?? []).reduce((n, c) => n + countProcesses(c), 0);
}
