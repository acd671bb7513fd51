/**
 * The runtime's side of `npm run bench`: the same workloads as bench/beam/bench_beam.erl and
 * bench/workers/xstate-worker.mjs. Started by bench/run.mjs with --expose-gc; answers requests from it.
 * Every measurement gets a fresh Runtime with default options (the event log on, as in a notebook).
 */
import { pathToFileURL } from "node:url";
import { serve } from "../lib/host.mjs";

const dist = process.env.OTP_LAB_DIST ?? new URL("../../dist/", import.meta.url).href;
const { Runtime, setRuntime, spawn, receive, send, self, exit, GenServer, Supervisor, DynamicSupervisor } = await import(`${dist}runtime/index.js`);

const now = () => performance.now();

function freshRuntime() {
  const rt = new Runtime({ clock: "virtual" });
  setRuntime(rt);
  return rt;
}

function gc() {
  if (!global.gc) throw new Error("run the worker with node --expose-gc");
  global.gc();
  global.gc();
}

/** Runs `body` as a process and returns what it returns (the timed part runs inside, like the Erlang side). */
function inProcess(rt, body) {
  let result;
  let failure;
  const p = spawn(function* () {
    try {
      result = yield* body();
    } catch (err) {
      failure = err;
    }
  });
  rt.settle();
  if (failure) throw failure;
  if (result === undefined) throw new Error(`the workload did not finish (process ${p} blocked; alive=${p.alive})`);
  return result;
}

const minimalBody = function* () {};

/**
 * What the inline-body spawn row cannot go below in V8, with no runtime at all: make n generator closures
 * and run each once. V8 builds a new hidden class (initial map) at the first call of every distinct
 * generator closure, which alone costs more than a whole BEAM spawn and exit (README, performance section).
 */
function closureFloor(n) {
  gc();
  const fns = new Array(n);
  const t0 = now();
  for (let i = 0; i < n; i++) fns[i] = function* () {};
  for (let i = 0; i < n; i++) fns[i]().next();
  return now() - t0;
}

const Echo = { init: (arg) => ["ok", arg], handleCall: (req, _from, s) => ["reply", req, s] };
const Idle = { init: (arg) => ["ok", arg] };
const Notifier = {
  init: (listener) => {
    send(listener, ["started", self()]);
    return ["ok", listener];
  },
};

export const handlers = {
  info() {
    return { node: process.version, v8: process.versions.v8 };
  },

  /**
   * Spawn n processes that return at once, run them all to their exit. `shared`: one generator function for
   * all of them; otherwise a `function* () {}` written inline in the loop, as `spawn(fun() -> ok end)` is in
   * Erlang. (V8 gives each new generator-function closure its own prototype and hidden class: see the README.)
   */
  spawn({ n, shared }) {
    const rt = freshRuntime();
    const t0 = now();
    if (shared) for (let i = 0; i < n; i++) spawn(minimalBody);
    else for (let i = 0; i < n; i++) spawn(function* () {});
    rt.settle();
    const ms = now() - t0;
    if (rt.procs.size !== 1) throw new Error(`${rt.procs.size - 1} processes still alive after spawn+exit`);
    return shared ? { ms, n } : { ms, n, floorMs: closureFloor(n) };
  },

  /** n round trips between two plain processes: [ping, "ping"] → "pong". */
  pingpong({ n }) {
    const rt = freshRuntime();
    const pong = spawn(function* () {
      for (;;) {
        const m = yield* receive();
        if (m === "stop") return;
        send(m[0], "pong");
      }
    });
    const ms = inProcess(rt, function* () {
      const me = self();
      const t0 = now();
      for (let i = 0; i < n; i++) {
        send(pong, [me, "ping"]);
        yield* receive();
      }
      const ms = now() - t0;
      send(pong, "stop");
      return ms;
    });
    return { ms, n };
  },

  /** n GenServer.call round trips to an echo server (after n untimed ones, as on the BEAM side). */
  call({ n }) {
    const rt = freshRuntime();
    const ms = inProcess(rt, function* () {
      const [, srv] = yield* GenServer.startLink(Echo, 0);
      for (let i = 0; i < n; i++) if ((yield* GenServer.call(srv, i)) !== i) throw new Error("echo answered wrong");
      const t0 = now();
      for (let i = 0; i < n; i++) if ((yield* GenServer.call(srv, i)) !== i) throw new Error("echo answered wrong");
      const ms = now() - t0;
      yield* GenServer.stop(srv);
      return ms;
    });
    return { ms, n };
  },

  /** n one_for_one restarts in batches of b under fresh supervisors (see bench_beam.erl for why). */
  restart({ n, b }) {
    const rt = freshRuntime();
    const ms = inProcess(rt, function* () {
      const me = self();
      const started = (m) => Array.isArray(m) && m[0] === "started";
      let total = 0;
      for (let left = n; left > 0; left -= b) {
        const k = Math.min(left, b);
        const [ok, sup] = yield* Supervisor.startLink([{ id: "worker", start: () => GenServer.startLink(Notifier, me) }], { strategy: "one_for_one", intensity: k + 10, period: 5 });
        if (ok !== "ok") throw new Error(`supervisor did not start: ${sup}`);
        let child = (yield* receive(started))[1];
        const t0 = now();
        for (let i = 0; i < k; i++) {
          exit(child, "kill");
          child = (yield* receive(started))[1];
        }
        total += now() - t0;
        yield* Supervisor.stop(sup);
      }
      return total;
    });
    return { ms, n };
  },

  /** Heap delta of n idle GenServers started (linked) by one owner process. */
  memory({ n }) {
    gc();
    const rt = freshRuntime();
    gc();
    const before = process.memoryUsage().heapUsed;
    let done = false;
    spawn(function* () {
      for (let i = 0; i < n; i++) {
        const r = yield* GenServer.startLink(Idle, null);
        if (r[0] !== "ok") throw new Error(`start failed: ${r}`);
      }
      done = true;
      yield* receive(() => false);
    });
    rt.settle();
    if (!done) throw new Error("the owner did not start all servers");
    gc();
    const after = process.memoryUsage().heapUsed;
    const alive = rt.procs.size;
    rt.reset();
    return { bytes: after - before, n, alive };
  },

  /** A DynamicSupervisor with n idle GenServer children: start them one by one, then stop the supervisor. */
  dynsup({ n }) {
    const rt = freshRuntime();
    const spec = { id: "worker", start: () => GenServer.startLink(Idle, null) };
    const r = inProcess(rt, function* () {
      const [, sup] = yield* DynamicSupervisor.startLink({});
      const t0 = now();
      for (let i = 0; i < n; i++) {
        const s = yield* DynamicSupervisor.startChild(sup, spec);
        if (s[0] !== "ok") throw new Error(`startChild answered ${s}`);
      }
      const startMs = now() - t0;
      const t1 = now();
      yield* GenServer.stop(sup);
      return { startMs, stopMs: now() - t1 };
    });
    if (rt.procs.size !== 1) throw new Error(`${rt.procs.size - 1} processes left after the supervisor stopped`);
    return { start_ms: r.startMs, stop_ms: r.stopMs, n };
  },
};

// Imported by bench/profile.mjs for profiling; run by bench/run.mjs as a worker.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) serve(handlers);
