#!/usr/bin/env node
// Differential-fuzzing scenario generator (see README.md in this folder).
//
//   node generate.mjs SEED [OUT.json]        writes one scenario (stdout when OUT is omitted)
//
// Produces a random scenario (otp-semantics.md part 3) that should be deterministic on real OTP: it only uses
// tree fields and step ops the oracle implements, and it keeps away from everything §3.4 and the conformance
// README call fragile. To do that it runs every candidate step on a small model of OTP supervision (liveness,
// restart intensity with an uncertain clock, start-result queues) and rejects the step when the model sees a
// fragile situation: a restart-window edge, a DynamicSupervisor with more than one child being shut down, a
// supervisor whose init would fail (start_link result/exit race), a dead target, and so on. The model is only a
// guide: it also writes its predicted start/exit counts per path into "_fuzz.model" so the driver can flag
// scenarios where the model (and hence its liveness guesses) went wrong.
import fs from "node:fs";

class Unsafe extends Error {}

// ---------------------------------------------------------------- seeded PRNG (mulberry32)
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
    weighted: (pairs) => {
      const total = pairs.reduce((s, [w]) => s + w, 0);
      let x = next() * total;
      for (const [w, v] of pairs) if ((x -= w) < 0) return v;
      return pairs[pairs.length - 1][1];
    },
  };
  return r;
}

// ---------------------------------------------------------------- random tree nodes
const REASONS = ["normal", "shutdown", { shutdown: "x" }, "boom", { tuple: ["bad", 1] }];

function workerNode(R, id, parentAuto) {
  const n = { id, kind: "worker" };
  n.restart = R.weighted([[5, "permanent"], [3, "transient"], [2, "temporary"]]);
  if (n.restart === "permanent" && R.chance(0.3)) delete n.restart; // default
  if (R.chance(0.35)) n.trap_exit = true;
  // terminate_ms and shutdown kept far apart (>= 8x or <= 1/10), never shutdown 0
  const tms = n.trap_exit ? R.weighted([[6, 0], [2, 10], [2, 300]]) : R.weighted([[8, 0], [2, 10]]);
  if (tms) n.terminate_ms = tms;
  const sh = R.weighted([[4, null], [2, "brutal_kill"], [2, "infinity"], [1, 30], [2, 3000]]);
  if (sh !== null) {
    if (sh === 30 && tms === 10) n.shutdown = 3000;
    else n.shutdown = sh;
  }
  if (parentAuto && parentAuto !== "never" && (n.restart === "transient" || n.restart === "temporary") && R.chance(0.5))
    n.significant = true;
  return n;
}

function supNode(R, id, depth, parentAuto) {
  const dyn = depth > 0 && R.chance(0.2);
  const n = { id, kind: dyn ? "dynamic_supervisor" : "supervisor" };
  n.intensity = R.weighted([[1, 0], [3, 1], [3, 2], [3, 3], [1, 5]]);
  n.period = R.weighted([[2, 1], [2, 2], [3, 5], [3, 30]]);
  if (dyn) {
    if (R.chance(0.4)) n.max_children = R.int(1, 3);
    n.children = [];
  } else {
    n.strategy = R.pick(["one_for_one", "one_for_all", "rest_for_one"]);
    if (R.chance(0.3)) n.auto_shutdown = R.pick(["never", "any_significant", "all_significant"]);
    const k = R.int(1, depth === 0 ? 4 : 3);
    n.children = [];
    for (let i = 0; i < k; i++) {
      const cid = String.fromCharCode(97 + i);
      if (depth < 2 && R.chance(depth === 0 ? 0.3 : 0.2)) n.children.push(supNode(R, cid, depth + 1, n.auto_shutdown));
      else n.children.push(workerNode(R, cid, n.auto_shutdown));
    }
  }
  if (depth > 0) {
    n.restart = R.weighted([[6, "permanent"], [3, "transient"], [1, "temporary"]]);
    if (parentAuto && parentAuto !== "never" && n.restart !== "permanent" && R.chance(0.5)) n.significant = true;
    // supervisor children: default (infinity) or a huge timeout; brutal_kill would race the grandchildren's links
    if (R.chance(0.3)) n.shutdown = R.pick(["infinity", 20000]);
  }
  return n;
}

// ---------------------------------------------------------------- the model
// sup: {path, cfg, kind, children: [entry], restarts: [[lo,hi]], nextDyn}
// entry: {id, cfg, path, alive, sup (child sup model when alive and a supervisor)}
const isNormalish = (r) => r === "normal" || r === "shutdown" || (r && typeof r === "object" && "shutdown" in r);
const kindOf = (cfg) => cfg.kind ?? cfg.type ?? "worker";

function newModel(tree, startResults) {
  return { t: { lo: 0, hi: 0 }, results: structuredClone(startResults), starts: {}, exits: {}, rootDead: false, root: null, tree };
}

function bump(m, key, path) {
  m[key][path] = (m[key][path] ?? 0) + 1;
}

function nextResult(m, path) {
  const l = m.results[path];
  if (l && l.length) return l.shift();
  return "ok";
}

// Starts the node for `cfg` at `path`; returns {res: "ok"|"ignore"|"error", sup}.
function startNode(m, path, cfg) {
  const kind = kindOf(cfg);
  if (kind === "worker") {
    const r = nextResult(m, path);
    if (r === "ok") {
      bump(m, "starts", path);
      return { res: "ok" };
    }
    if (r === "ignore") return { res: "ignore" };
    return { res: "error" };
  }
  bump(m, "starts", path);
  m.t.hi += 5;
  const sup = { path, cfg, kind, children: [], restarts: [], nextDyn: 1 };
  if (kind === "supervisor") {
    for (const c of cfg.children ?? []) {
      const e = { id: c.id, cfg: c, path: `${path}/${c.id}`, alive: false, sup: null };
      const r = startNode(m, e.path, c);
      // a failed child start during init: the start_link result races the supervisor's exit (R16, §3.4)
      if (r.res === "error") throw new Unsafe("init failure");
      if (r.res === "ok") {
        e.alive = true;
        e.sup = r.sup ?? null;
        sup.children.push(e);
      } else if ((c.restart ?? "permanent") !== "temporary") sup.children.push(e);
    }
  }
  return { res: "ok", sup };
}

function aliveWorkerTrapping(cfg) {
  return kindOf(cfg) === "worker" && cfg.trap_exit;
}

// Stops a live child the way its supervisor does (shutdown spec); marks it dead.
function shutdownEntry(m, e) {
  if (!e.alive) return;
  if (e.sup) shutdownSupChildren(m, e.sup);
  const cfg = e.cfg;
  if (aliveWorkerTrapping(cfg) && cfg.shutdown !== "brutal_kill") {
    const tms = cfg.terminate_ms ?? 0;
    const sh = cfg.shutdown ?? 5000;
    const spent = sh === "infinity" ? tms : Math.min(tms, sh);
    m.t.lo += spent;
    m.t.hi += spent + 5;
  }
  m.t.hi += 2;
  e.alive = false;
  e.sup = null;
  bump(m, "exits", e.path);
}

function shutdownSupChildren(m, sup) {
  const live = sup.children.filter((c) => c.alive);
  // DynamicSupervisor stops its children concurrently: order unspecified (R65)
  if (sup.kind === "dynamic_supervisor" && live.length > 1) throw new Unsafe("dyn shutdown >1");
  for (const c of [...sup.children].reverse()) shutdownEntry(m, c);
  if (sup.kind === "dynamic_supervisor") sup.children = [];
}

function findSup(m, path) {
  const walk = (s) => {
    if (!s) return null;
    if (s.path === path) return s;
    for (const c of s.children) {
      const r = c.sup && walk(c.sup);
      if (r) return r;
    }
    return null;
  };
  return m.rootDead ? null : walk(m.root);
}

// The parent of a path and its entry.
function findEntry(m, path) {
  const i = path.lastIndexOf("/");
  const sup = findSup(m, path.slice(0, i));
  if (!sup) return null;
  const e = sup.children.find((c) => c.path === path && c.alive);
  return e ? { sup, e } : null;
}

// add_restart: true when the restart is allowed. Every entry must be surely inside or surely outside the window.
function addRestart(m, sup) {
  const intensity = sup.cfg.intensity ?? (sup.kind === "dynamic_supervisor" ? 3 : 1);
  const period = sup.cfg.period ?? 5;
  const now = { ...m.t };
  const kept = [];
  for (const r of sup.restarts) {
    const dmax = now.hi - r.lo;
    const dmin = now.lo - r.hi;
    if (dmax < period * 1000 - 50) kept.push(r);
    else if (dmin >= (period + 1) * 1000 + 50) continue;
    else throw new Unsafe("window edge");
  }
  kept.push(now);
  sup.restarts = kept;
  return kept.length <= intensity;
}

// A supervisor gives up (intensity or auto_shutdown): stop its children and report its exit to its parent.
function supGivesUp(m, sup) {
  shutdownSupChildren(m, sup);
  supExited(m, sup, "shutdown");
}

function supExited(m, sup, reason) {
  bump(m, "exits", sup.path);
  if (sup === m.root) {
    m.rootDead = true;
    return;
  }
  const hit = findEntry(m, sup.path);
  if (!hit) throw new Error("model: lost supervisor " + sup.path);
  hit.e.alive = false;
  hit.e.sup = null;
  childExited(m, hit.sup, hit.e, reason);
}

// A child of `sup` died with `reason` (entry already marked dead, exit already counted).
function childExited(m, sup, e, reason) {
  m.t.hi += 3;
  const restart = e.cfg.restart ?? "permanent";
  if (sup.kind === "dynamic_supervisor") {
    const doRestart = restart === "permanent" || (restart === "transient" && !isNormalish(reason));
    if (!doRestart) {
      sup.children = sup.children.filter((c) => c !== e);
      return;
    }
    for (;;) {
      if (!addRestart(m, sup)) {
        sup.children = sup.children.filter((c) => c !== e);
        return supGivesUp(m, sup);
      }
      const r = startNode(m, e.path, e.cfg);
      if (r.res === "ok") {
        e.alive = true;
        return;
      }
      if (r.res === "ignore") {
        sup.children = sup.children.filter((c) => c !== e);
        return;
      }
    }
  }
  let restartIt;
  if (restart === "permanent") restartIt = true;
  else if (isNormalish(reason)) restartIt = false;
  else restartIt = restart === "transient";
  if (!restartIt) {
    if (restart === "temporary") sup.children = sup.children.filter((c) => c !== e);
    if (e.cfg.significant && sup.cfg.auto_shutdown && sup.cfg.auto_shutdown !== "never") {
      const any = sup.cfg.auto_shutdown === "any_significant";
      const otherSig = sup.children.some((c) => c.alive && c.cfg.significant);
      if (any || !otherSig) return supGivesUp(m, sup);
    }
    return;
  }
  restartStrategy(m, sup, e);
}

function restartStrategy(m, sup, failed) {
  const strategy = sup.cfg.strategy ?? "one_for_one";
  let from = failed;
  for (;;) {
    if (!addRestart(m, sup)) return supGivesUp(m, sup);
    let group;
    if (strategy === "one_for_one") group = [from];
    else {
      const idx = sup.children.indexOf(from);
      const range = strategy === "one_for_all" ? sup.children.slice() : sup.children.slice(idx);
      for (const c of [...range].reverse()) shutdownEntry(m, c);
      // temporary children in the range are stopped and dropped
      sup.children = sup.children.filter((c) => !(range.includes(c) && (c.cfg.restart ?? "permanent") === "temporary"));
      group = range.filter((c) => sup.children.includes(c));
    }
    let failedAt = null;
    for (const c of group) {
      const r = startNode(m, c.path, c.cfg);
      if (r.res === "ok") {
        c.alive = true;
        c.sup = r.sup ?? null;
      } else if (r.res === "error") {
        failedAt = c;
        break;
      }
    }
    if (!failedAt) return;
    from = failedAt;
  }
}

// A worker dies by itself or from an outside signal.
function workerDies(m, path, reason, runsTerminate) {
  const hit = findEntry(m, path);
  if (!hit) throw new Unsafe("dead target");
  if (runsTerminate) {
    const tms = hit.e.cfg.terminate_ms ?? 0;
    m.t.lo += tms;
    m.t.hi += tms + 5;
  }
  hit.e.alive = false;
  bump(m, "exits", path);
  childExited(m, hit.sup, hit.e, reason);
}

// ---------------------------------------------------------------- step generation
function liveWorkers(m) {
  const out = [];
  const walk = (s) => {
    for (const c of s.children) {
      if (!c.alive) continue;
      if (c.sup) walk(c.sup);
      else out.push(c);
    }
  };
  if (!m.rootDead) walk(m.root);
  return out;
}

function liveSups(m) {
  const out = [];
  const walk = (s) => {
    out.push(s);
    for (const c of s.children) if (c.alive && c.sup) walk(c.sup);
  };
  if (!m.rootDead) walk(m.root);
  return out;
}

function randomResults(R) {
  const n = R.int(1, 3);
  const out = [];
  for (let i = 0; i < n; i++) out.push(R.weighted([[3, { error: R.pick(["e1", "e2"]) }], [2, "ignore"], [2, { init_stop: "bad_init" }], [1, "ok"]]));
  return out;
}

// Applies `st` to the model (may throw Unsafe). Returns extra steps to append after it (none so far).
function apply(m, st, R) {
  m.t.hi += 15;
  switch (st.op) {
    case "crash":
      return workerDies(m, st.target, st.reason, true);
    case "raise":
      return workerDies(m, st.target, "exception", true);
    case "kill": {
      const hit = findEntry(m, st.target);
      if (!hit) throw new Unsafe("dead target");
      const isSup = !!hit.e.sup;
      if (isSup) {
        if (st.reason === "kill") throw new Unsafe("kill sup");
        return; // non-parent signals to a supervisor are ignored (R38)
      }
      if (st.reason === "kill") return workerDies(m, st.target, "killed", false);
      if (hit.e.cfg.trap_exit) return; // becomes a message
      if (st.reason === "normal") return;
      return workerDies(m, st.target, st.reason, false);
    }
    case "stop": {
      shutdownSupChildren(m, m.root);
      bump(m, "exits", m.root.path);
      m.rootDead = true;
      return;
    }
    case "wait":
      m.t.lo += st.ms;
      m.t.hi += st.ms;
      return;
    case "set_start_results":
      m.results[st.path] = structuredClone(st.results);
      return;
    case "call": {
      if (!findEntry(m, st.target)) throw new Unsafe("dead target");
      const req = st.request;
      if (req?.tuple?.[0] === "sleep") {
        m.t.lo += req.tuple[1];
        m.t.hi += req.tuple[1] + 5;
      }
      return;
    }
    case "cast":
    case "send":
      if (!findEntry(m, st.target)) throw new Unsafe("dead target");
      return;
    case "which_children":
    case "count_children": {
      const sup = findSup(m, st.sup);
      if (!sup) throw new Unsafe("dead sup");
      if (st.op === "which_children" && sup.kind === "dynamic_supervisor" && sup.children.length > 1) throw new Unsafe("dyn order");
      return;
    }
    case "start_child": {
      const sup = findSup(m, st.sup);
      if (!sup) throw new Unsafe("dead sup");
      const path = `${st.sup}/${st.spec.id}`;
      if (sup.kind === "dynamic_supervisor") {
        if (sup.cfg.max_children !== undefined && sup.children.length >= sup.cfg.max_children) return;
        const r = startNode(m, path, st.spec);
        if (r.res === "ok") sup.children.push({ id: st.spec.id, cfg: st.spec, path, alive: true, sup: r.sup ?? null });
        return;
      }
      if (sup.children.some((c) => c.id === st.spec.id)) return; // already_started / already_present
      const r = startNode(m, path, st.spec);
      const e = { id: st.spec.id, cfg: st.spec, path, alive: r.res === "ok", sup: r.sup ?? null };
      if (r.res === "ok" || (r.res === "ignore" && (st.spec.restart ?? "permanent") !== "temporary")) sup.children.push(e);
      return;
    }
    case "terminate_child": {
      const sup = findSup(m, st.sup);
      if (!sup) throw new Unsafe("dead sup");
      const e = sup.children.find((c) => c.id === st.id);
      if (!e) return;
      shutdownEntry(m, e);
      if ((e.cfg.restart ?? "permanent") === "temporary") sup.children = sup.children.filter((c) => c !== e);
      return;
    }
    case "terminate_child_pid": {
      const sup = findSup(m, st.sup);
      if (!sup) throw new Unsafe("dead sup");
      const e = sup.children.find((c) => c.path === st.target && c.alive);
      if (!e) throw new Unsafe("dead target");
      shutdownEntry(m, e);
      sup.children = sup.children.filter((c) => c !== e);
      return;
    }
    case "restart_child": {
      const sup = findSup(m, st.sup);
      if (!sup) throw new Unsafe("dead sup");
      const e = sup.children.find((c) => c.id === st.id);
      if (!e || e.alive) return;
      const r = startNode(m, e.path, e.cfg);
      if (r.res === "ok") {
        e.alive = true;
        e.sup = r.sup ?? null;
      }
      return;
    }
    case "delete_child": {
      const sup = findSup(m, st.sup);
      if (!sup) throw new Unsafe("dead sup");
      const e = sup.children.find((c) => c.id === st.id);
      if (e && !e.alive) sup.children = sup.children.filter((c) => c !== e);
      return;
    }
  }
  throw new Error("model: unknown op " + st.op);
}

function candidate(m, R, fresh) {
  const workers = liveWorkers(m);
  const sups = liveSups(m);
  const kind = R.weighted([
    [workers.length ? 10 : 0, "crash"],
    [workers.length ? 2 : 0, "raise"],
    [workers.length ? 5 : 0, "kill"],
    [sups.length > 1 ? 1 : 0, "kill_sup"],
    [4, "set_start_results"],
    [3, "admin"],
    [3, "start_child"],
    [3, "inspect"],
    [workers.length ? 3 : 0, "call"],
    [workers.length ? 2 : 0, "msg"],
    [1, "wait"],
  ]);
  const w = () => R.pick(workers).path;
  switch (kind) {
    case "crash":
      return [{ op: "crash", target: w(), reason: R.pick(REASONS) }];
    case "raise":
      return [{ op: "raise", target: w() }];
    case "kill":
      return [{ op: "kill", target: w(), reason: R.pick(["kill", "kill", "boom", "normal", "shutdown", { shutdown: "x" }]) }];
    case "kill_sup":
      return [{ op: "kill", target: R.pick(sups.slice(1)).path, reason: R.pick(["normal", "shutdown", "boom"]) }];
    case "set_start_results": {
      // target a path that exists in the tree (live or not), workers only
      const paths = [];
      for (const s of sups) for (const c of s.children) if (kindOf(c.cfg) === "worker") paths.push(c.path);
      if (!paths.length) return null;
      return [{ op: "set_start_results", path: R.pick(paths), results: randomResults(R) }];
    }
    case "admin": {
      const s = R.pick(sups);
      if (s.kind === "dynamic_supervisor") {
        const live = s.children.filter((c) => c.alive);
        if (!live.length) return null;
        return [{ op: "terminate_child_pid", sup: s.path, target: R.pick(live).path }];
      }
      const ids = s.children.map((c) => c.id);
      const id = ids.length && R.chance(0.85) ? R.pick(ids) : "nosuch";
      return [{ op: R.weighted([[3, "terminate_child"], [3, "restart_child"], [2, "delete_child"]]), sup: s.path, id }];
    }
    case "start_child": {
      const s = R.pick(sups);
      if (s.kind === "dynamic_supervisor") {
        const spec = workerNode(R, `w${fresh()}`, null);
        spec.kind_of_sup = "dynamic";
        return [{ op: "start_child", sup: s.path, spec }];
      }
      const ids = s.children.map((c) => c.id);
      const id = ids.length && R.chance(0.2) ? R.pick(ids) : `n${fresh()}`;
      const depth = s.path.split("/").length - 1;
      const spec = depth < 2 && R.chance(0.25) ? supNode(R, id, depth + 1, s.cfg.auto_shutdown) : workerNode(R, id, s.cfg.auto_shutdown);
      const steps = [];
      if (kindOf(spec) === "worker" && R.chance(0.3)) steps.push({ op: "set_start_results", path: `${s.path}/${id}`, results: randomResults(R).slice(0, 1) });
      steps.push({ op: "start_child", sup: s.path, spec });
      return steps;
    }
    case "inspect": {
      const s = R.pick(sups);
      return [{ op: R.pick(["which_children", "count_children"]), sup: s.path }];
    }
    case "call": {
      const t = w();
      const k = R.weighted([[4, "echo"], [2, "unknown"], [1, "sleep_short"], [1, "timeout"]]);
      if (k === "echo") return [{ op: "call", target: t, request: { tuple: ["echo", R.int(1, 9)] } }];
      if (k === "unknown") return [{ op: "call", target: t, request: "what" }];
      if (k === "sleep_short") return [{ op: "call", target: t, request: { tuple: ["sleep", 20] }, timeout: 5000 }];
      // a call timeout far from the handler time, then let the handler finish before anything else happens
      return [
        { op: "call", target: t, request: { tuple: ["sleep", 800] }, timeout: 100 },
        { op: "wait", ms: 900 },
      ];
    }
    case "msg":
      return [{ op: R.pick(["send", "cast"]), target: w(), msg: R.pick(["hello", { tuple: ["ping", 1] }]) }];
    case "wait":
      return [{ op: "wait", ms: R.pick([50, 1300, 2500]) }];
  }
  return null;
}

// ---------------------------------------------------------------- process-level programs
/**
 * A program over the process-level steps (format.ts PROCESS_OPS): plain processes that link, monitor, trap and
 * send exit signals to each other, plus a Registry, an Agent and a Task.Supervisor with tasks. No liveness
 * model is needed: a step aimed at a dead process is itself part of the behaviour (noproc, ignored sends), and
 * the oracle keeps a dead path's last pid. It avoids what OTP does not pin down: waits near a timeout, and
 * awaiting a task that never answers (a 5 s timeout). Crashes that Elixir logs (tasks, agents) are followed by a
 * 300 ms wait, since the logger runs before the process dies.
 */
function processProgram(seed, R) {
  const steps = [];
  const procs = [];
  const tasks = []; // { id, returns, done }
  let reg = null;
  let agent = null;
  let tsup = null;
  let nProc = 0;
  let nTask = 0;
  let nMsg = 0;
  const REASONS_P = ["normal", "kill", "boom", "shutdown", { shutdown: "x" }];
  const spawnStep = () => {
    const id = `p${++nProc}`;
    const st = { op: "spawn", id };
    const how = R.weighted([[3, "plain"], [3, "link"], [3, "monitor"]]);
    if (how !== "plain") st[how] = true;
    if (R.chance(0.4)) st.trap_exit = true;
    if (R.chance(0.3)) st.body = [{ op: "receive" }];
    procs.push(id);
    return [st];
  };
  const other = (p) => R.pick(procs.filter((q) => q !== p));
  // Each program focuses on some of the services (started up front), so their steps are frequent enough.
  const useReg = R.chance(0.5);
  const useAgent = R.chance(0.4);
  const useTasks = R.chance(0.5);
  const choices = [
    [3, () => (procs.length < 5 ? spawnStep() : null)],
    [3, () => [{ op: "send", target: R.pick(procs), msg: `m${++nMsg}` }]],
    [3, () => { const p = R.pick(procs); return procs.length > 1 ? [{ op: "link", target: other(p), by: p }] : null; }],
    [1, () => { const p = R.pick(procs); return procs.length > 1 ? [{ op: "unlink", target: other(p), by: p }] : null; }],
    [2, () => { const p = R.pick(procs); return procs.length > 1 ? [{ op: "monitor", target: other(p), by: p }] : null; }],
    [2, () => [{ op: "monitor", target: R.pick(procs), as: `m${++nMsg}` }]],
    [3, () => {
      const p = R.pick(procs);
      const st = { op: "exit", target: procs.length > 1 && R.chance(0.7) ? other(p) : p, reason: R.pick(REASONS_P) };
      if (R.chance(0.7)) st.by = p;
      return [st];
    }],
    [2, () => [{ op: "trap_exit", value: R.chance(0.5), by: R.pick(procs) }]],
    [2, () => [{ op: "exit_self", reason: R.pick(["normal", "boom", { shutdown: "x" }]), by: R.pick(procs) }]],
    [2, () => [{ op: "flush" }]],
    [1, () => [{ op: "is_alive", target: R.pick(procs) }]],
    [useReg ? 6 : 0, () => {
      if (!reg) {
        reg = { id: "reg", keys: R.pick(["unique", "duplicate"]) };
        return [{ op: "registry_start", id: reg.id, keys: reg.keys }];
      }
      return [R.pick([
        { op: "registry_register", reg: reg.id, key: R.pick(["a", "b"]), value: R.int(0, 9), by: R.pick(procs) },
        { op: "registry_register", reg: reg.id, key: R.pick(["a", "b"]), value: R.int(0, 9), by: R.pick(procs) },
        { op: "registry_unregister", reg: reg.id, key: R.pick(["a", "b"]), by: R.pick(procs) },
        { op: "registry_lookup", reg: reg.id, key: R.pick(["a", "b"]) },
        { op: "registry_count", reg: reg.id },
        { op: "registry_dispatch", reg: reg.id, key: R.pick(["a", "b"]), msg: "news" },
      ])];
    }],
    [useAgent ? 4 : 0, () => {
      if (!agent) {
        agent = "ag";
        return [{ op: "agent_start", id: agent, value: 0 }];
      }
      return R.pick([
        [{ op: "agent_get", target: agent }],
        [{ op: "agent_update", target: agent, set: R.int(1, 9) }],
        [{ op: "agent_get_and_update", target: agent, set: R.int(1, 9), ...(R.chance(0.5) ? { by: R.pick(procs) } : {}) }],
        [{ op: "agent_cast", target: agent, set: R.int(1, 9) }],
        [{ op: "agent_update", target: agent, exit: "bad" }, { op: "wait", ms: 300 }],
        [{ op: "exit", target: agent, reason: R.pick(["kill", "boom"]), by: R.pick(procs) }, { op: "wait", ms: 300 }],
      ]);
    }],
    [useTasks ? 6 : 0, () => {
      if (!tsup) {
        tsup = "ts";
        return [{ op: "task_sup_start", id: tsup }];
      }
      const open = tasks.filter((t) => !t.done);
      if (open.length === 0 || R.chance(0.4)) {
        const t = { id: `t${++nTask}`, returns: R.chance(0.7), done: false };
        const crash = !t.returns && R.chance(0.5);
        tasks.push(t);
        const body = t.returns ? [{ op: "return", value: R.int(0, 9) }] : crash ? [{ op: "exit_self", reason: "boom" }] : [];
        if (crash) t.returns = true; // its DOWN answers an await at once
        const op = R.weighted([[3, "task_async_nolink"], [1, "task_async"], [1, "task_start_child"]]);
        const st = op === "task_async" ? { op, id: t.id, body } : { op, sup: tsup, id: t.id, body };
        if (op === "task_start_child") t.done = true; // nobody can await it
        return crash ? [st, { op: "wait", ms: 300 }] : [st];
      }
      const t = R.pick(open);
      const op = t.returns ? R.pick(["task_await", "task_yield", "task_shutdown"]) : R.pick(["task_yield", "task_shutdown", "task_shutdown"]);
      if (op === "task_yield" && !t.returns) return [{ op, task: t.id, timeout: 20 }];
      t.done = true;
      return [op === "task_shutdown" ? { op, task: t.id, ...(R.chance(0.3) ? { shutdown: "brutal_kill" } : {}) } : { op, task: t.id }];
    }],
    [1, () => [{ op: "wait", ms: 10 }]],
  ];
  steps.push(...spawnStep(), ...spawnStep());
  if (useReg) steps.push(...choices[11][1]());
  if (useAgent) steps.push(...choices[12][1]());
  if (useTasks) steps.push(...choices[13][1]());
  const n = R.int(6, 18);
  for (let tries = 0; steps.length < n + 2 && tries < 200; tries++) {
    const c = R.weighted(choices)();
    if (c) steps.push(...c);
  }
  steps.push({ op: "wait", ms: 300 }, { op: "flush" });
  return {
    name: `Tests what happens if fuzz seed ${seed} runs (a process-level program generated by test/conformance/fuzz/generate.mjs).`,
    _fuzz: { seed, kind: "processes" },
    tree: { id: "root", children: [] },
    steps,
  };
}

/** Even seeds: a process-level program; odd seeds: a supervision tree program (as in the first campaigns). */
export function generate(seed) {
  if (seed % 2 === 0) return processProgram(seed, prng(seed * 2246822519 + 777));
  const R = prng(seed * 2654435761 + 12345);
  for (let attempt = 0; attempt < 50; attempt++) {
    const tree = supNode(R, "root", 0, null);
    if (R.chance(0.1)) {
      // a DynamicSupervisor root, filled by start_child steps
      tree.kind = "dynamic_supervisor";
      delete tree.strategy;
      delete tree.auto_shutdown;
      tree.children = [];
      if (R.chance(0.4)) tree.max_children = R.int(1, 3);
    }
    const startResults = {};
    const m = newModel(tree, startResults);
    try {
      m.root = startNode(m, "root", tree).sup;
    } catch (e) {
      if (e instanceof Unsafe) continue;
      throw e;
    }
    let freshN = 0;
    const fresh = () => ++freshN;
    const steps = [];
    let model = m;
    const nSteps = R.int(3, 12);
    let tries = 0;
    while (steps.length < nSteps && !model.rootDead && tries < 200) {
      tries++;
      const cand = candidate(model, R, fresh);
      if (!cand) continue;
      const next = structuredClone(model);
      try {
        for (const st of cand) apply(next, st, R);
      } catch (e) {
        if (e instanceof Unsafe) continue;
        throw e;
      }
      model = next;
      steps.push(...cand);
    }
    if (!model.rootDead && R.chance(0.4)) {
      const st = { op: "stop", target: "root", reason: R.pick(["shutdown", "normal", "boom", { shutdown: "maintenance" }]) };
      const next = structuredClone(model);
      try {
        apply(next, st, R);
        model = next;
        steps.push(st);
      } catch (e) {
        if (!(e instanceof Unsafe)) throw e;
      }
    }
    // processes may still have work after the last supervisor died; the oracle settles only ~6 ms then
    steps.push({ op: "wait", ms: 300 });
    model.t.lo += 300;
    return {
      name: `Tests what happens if fuzz seed ${seed} runs (generated by test/conformance/fuzz/generate.mjs).`,
      _fuzz: { seed, model: { starts: model.starts, exits: model.exits, rootDead: model.rootDead, t_lo: model.t.lo } },
      tree,
      steps,
    };
  }
  throw new Error(`seed ${seed}: no safe tree found in 50 attempts`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seed = Number(process.argv[2]);
  if (!Number.isInteger(seed)) {
    console.error("usage: node generate.mjs SEED [OUT.json]");
    process.exit(2);
  }
  const doc = JSON.stringify(generate(seed), null, 1) + "\n";
  if (process.argv[3]) fs.writeFileSync(process.argv[3], doc);
  else process.stdout.write(doc);
}
