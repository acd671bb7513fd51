/**
 * The process-level scenario steps (spawn, link, monitor, exit, Task, Agent, Registry, PartitionSupervisor,
 * hot code loading), run the way the oracle's `Scn.Ops` runs them on real OTP: in the process that executes
 * the step (the runner, a scripted process, or the one named by `"by"`), with a failure (exit, error) recorded
 * as the step's result instead of crashing that process.
 *
 * One table, `PROCESS_OPS` (format.ts), says which fields each op needs; `execOp` below implements them. A new
 * op is one entry in each, plus its clause in the oracle.
 */

import { Pid, Ref, TIMEOUT, type Blocking } from "../process.js";
import { Module, defineModule, getModule, purge, softPurge } from "../code.js";
import { receive, sleep, type Runtime } from "../runtime.js";
import { GenServer, sys, type GenServerCallbacks } from "../gen_server.js";
import { TaskSupervisor, Task } from "../task_supervisor.js";
import { Agent } from "../agent.js";
import { Registry } from "../registry.js";
import { PartitionSupervisor } from "../partition_supervisor.js";
import { ErlangError, ExitSignal, list, type Term } from "../terms.js";
import { decode } from "./terms.js";
import { PROCESS_OPS, type JsonTerm } from "./format.js";
import type { TraceEvent } from "./match.js";

/** What the ops need from the scenario runner (run.ts). */
export interface OpsContext {
  rt: Runtime;
  pidOf(path: string): Pid;
  started(path: string, pid: Pid, kind: "worker" | "supervisor"): void;
  add(ev: TraceEvent): void;
  enc(t: Term): unknown;
  nameOf(pid: Pid): string | undefined;
  /** The scenario worker module (Scn.Worker), for `server_start` and partitions. */
  worker: Module<GenServerCallbacks>;
}

export type OpStep = Record<string, JsonTerm> & { op: string };

/** A `return` step: ends the script (a task's result; a plain process exits normal). */
export class Return {
  constructor(readonly value: Term) {}
}

const GO = "scn_go";
const JS_ERRORS = new Set(["Error", "TypeError", "ReferenceError", "RangeError", "SyntaxError"]);
const HOT = "scn_hot";

export function makeOps(ctx: OpsContext) {
  const { rt } = ctx;
  const vars = new Map<string, unknown>();
  const getVar = <T>(k: string): T => {
    if (!vars.has(k)) throw new Error(`no value named "${k}" (a monitor ref or task is named by its op's "as" or "id")`);
    return vars.get(k) as T;
  };
  const str = (v: JsonTerm): string => v as string;
  const timeout = (st: OpStep, dflt = 5000): number => (st.timeout === undefined ? dflt : st.timeout === "infinity" ? Infinity : (st.timeout as number));

  // The "go" handshake: the spawner names the new process in the tracer before it runs anything.
  function* goWait(trap: boolean): Blocking<void> {
    if (trap) rt.self().trapExit = true;
    yield* receive((m) => m === GO);
  }
  const named = (path: string, pid: Pid) => {
    ctx.started(path, pid, "worker");
    rt.send(pid, GO);
  };

  function* execList(body: OpStep[], path: string): Blocking<Return | undefined> {
    for (const st of body) {
      const r = yield* runOp(st, undefined, path);
      if (r instanceof Return) return r;
    }
    return undefined;
  }

  const isDo = (m: Term) => Array.isArray(m) && m.length === 4 && m[0] === "scn_do";

  function* serve(path: string): Blocking<void> {
    for (;;) {
      const msg = yield* receive();
      if (isDo(msg)) {
        const r = yield* doStep(msg as Term[], path);
        if (r instanceof Return) return;
      } else {
        ctx.add({ ev: "recv", path, msg: ctx.enc(msg) });
      }
    }
  }

  function* procRun(path: string, trap: boolean, body: OpStep[]): Blocking<void> {
    yield* goWait(trap);
    if (!((yield* execList(body, path)) instanceof Return)) yield* serve(path);
  }

  function* taskRun(path: string, body: OpStep[]): Blocking<Term> {
    yield* goWait(false);
    const r = yield* execList(body, path);
    if (r instanceof Return) return r.value;
    yield* serve(path);
    return "ok";
  }

  /** A step sent with "by" (["scn_do", step, i, runner]): run it, then tell the runner, which waits for it. */
  function* doStep(msg: Term[], path: string): Blocking<Return | undefined> {
    const r = yield* runOp(msg[1] as OpStep, msg[2] as number, path);
    rt.send(msg[3] as Pid, ["scn_done", msg[2]]);
    return r;
  }

  /** Runs one step in the calling process and records its result (or failure); `by` names that process. */
  function* runOp(st: OpStep, i: number | undefined, by: string | undefined): Blocking<Return | undefined> {
    if (st.op === "return") return new Return(decode(st.value ?? "ok"));
    if (st.op === "exit_self") throw new ExitSignal(decode(st.reason ?? "normal"));
    const ev: TraceEvent = { ev: "result", op: st.op };
    if (i !== undefined) ev.step = i;
    if (by !== undefined) ev.by = by;
    let value: Term;
    try {
      value = yield* exec(st);
    } catch (e) {
      if (e instanceof ExitSignal) ctx.add({ ...ev, caught: "exit", reason: ctx.enc(e.reason) });
      else if (e instanceof ErlangError) ctx.add({ ...ev, caught: "error", reason: ctx.enc(e.original) });
      else if (e instanceof Error && !JS_ERRORS.has(e.name)) ctx.add({ ...ev, caught: "error", exception: e.name });
      else throw e; // a plain JS error is a bug in the scenario or this runner, not an Elixir exception

      return undefined;
    }
    if (!PROCESS_OPS[st.op]?.quiet) ctx.add({ ...ev, value: ctx.enc(value) });
    return undefined;
  }

  const agentFun = (st: OpStep, kind: "get" | "update" | "get_and_update") => (s: Term) => {
    if (st.exit !== undefined) throw new ExitSignal(decode(st.exit));
    const next = "set" in st ? decode(st.set) : s;
    return kind === "get" ? s : kind === "update" ? next : [s, next];
  };

  const hotModule = (): Module<GenServerCallbacks> => {
    const m = getModule(rt, HOT);
    if (!m) throw new ErlangError("undef");
    return m as Module<GenServerCallbacks>;
  };

  function* exec(st: OpStep): Blocking<Term> {
    const self = rt.self();
    switch (st.op) {
      // ---- plain processes
      case "spawn": {
        const path = str(st.id);
        const body = (st.body ?? []) as OpStep[];
        const p = rt.spawnProcess({ link: st.link ? self : null, parent: self, behaviourName: "process", body: procRun(path, st.trap_exit === true, body) });
        if (st.monitor && !st.link) vars.set(str(st.as ?? path), rt.monitor(self, p));
        named(path, p);
        return p;
      }
      case "link":
        rt.link(self, ctx.pidOf(str(st.target)));
        return true;
      case "unlink":
        rt.unlink(self, ctx.pidOf(str(st.target)));
        return true;
      case "monitor":
        vars.set(str(st.as ?? st.target), rt.monitor(self, ctx.pidOf(str(st.target))));
        return "ok";
      case "demonitor": {
        const opts = (st.options ?? []) as string[];
        const active = rt.demonitor(self, getVar<Ref>(str(st.ref)), opts.includes("flush"));
        return opts.includes("info") ? active : true;
      }
      case "trap_exit": {
        const old = self.trapExit;
        self.trapExit = st.value === true;
        return old;
      }
      case "exit":
        rt.exit(ctx.pidOf(str(st.target)), decode(st.reason));
        return true;
      case "send":
        rt.send(ctx.pidOf(str(st.target)), decode(st.msg));
        return decode(st.msg);
      case "sleep":
        yield* sleep(st.ms as number);
        return "ok";
      case "is_alive":
        return ctx.pidOf(str(st.target)).alive;
      case "receive": {
        const path = (ctx.nameOf(self) ?? "runner").split("#")[0];
        // Steps sent with "by" meanwhile are run (a `return` among them is ignored); the timeout counts from now.
        const deadline = rt.now() + timeout(st, Infinity);
        for (;;) {
          const m = yield* receive(null, Math.max(0, deadline - rt.now()));
          if (m === TIMEOUT) ctx.add({ ev: "recv_timeout", path });
          else if (isDo(m)) {
            yield* doStep(m as Term[], path);
            continue;
          } else ctx.add({ ev: "recv", path, msg: ctx.enc(m) });
          return "ok";
        }
      }
      case "flush": {
        const mb = self.mailbox;
        const all = mb ? mb.toArray() : [];
        mb?.clear();
        return list(...all);
      }
      case "call":
        return yield* GenServer.call(ctx.pidOf(str(st.target)), decode(st.request), timeout(st));
      case "gen_stop":
        return yield* GenServer.stop(ctx.pidOf(str(st.target)), decode(st.reason ?? "normal"), timeout(st, Infinity));
      case "server_start": {
        const opts: Record<string, unknown> = {};
        if (st.trap_exit !== undefined) opts.trap_exit = st.trap_exit;
        if (st.terminate_ms !== undefined) opts.terminate_ms = st.terminate_ms;
        const name = st.name as JsonTerm;
        const gen =
          name === undefined
            ? {}
            : typeof name === "string"
              ? { name }
              : { name: ["via", "Elixir.Registry", [(name as { via: JsonTerm[] }).via[0], decode((name as { via: JsonTerm[] }).via[1])]] as Term as string };
        return yield* GenServer.startLink(ctx.worker, [str(st.id), opts, "ok"], gen);
      }

      // ---- Task and Task.Supervisor
      case "task_sup_start": {
        const res = yield* TaskSupervisor.startLink(st.max_children !== undefined ? { maxChildren: st.max_children as number } : {});
        if (Array.isArray(res) && res[0] === "ok") ctx.started(str(st.id), res[1] as Pid, "supervisor");
        return res;
      }
      case "task_async":
      case "task_async_nolink":
      case "task_sup_async": {
        const path = str(st.id);
        const body = (st.body ?? []) as OpStep[];
        const f = () => taskRun(path, body);
        const t =
          st.op === "task_async"
            ? Task.async(f)
            : st.op === "task_async_nolink"
              ? yield* TaskSupervisor.asyncNolink(ctx.pidOf(str(st.sup)), f as () => Term)
              : yield* TaskSupervisor.async(ctx.pidOf(str(st.sup)), f as () => Term);
        vars.set(str(st.as ?? path), t);
        named(path, t.pid);
        return "ok";
      }
      case "task_start_child": {
        const path = str(st.id);
        const body = (st.body ?? []) as OpStep[];
        const res = yield* TaskSupervisor.startChild(ctx.pidOf(str(st.sup)), (() => taskRun(path, body)) as () => Term);
        if (Array.isArray(res) && res[0] === "ok") named(path, res[1] as Pid);
        return res;
      }
      case "task_await":
        return yield* Task.await(getVar<Task>(str(st.task)), timeout(st));
      case "task_yield":
        return yield* Task.yield(getVar<Task>(str(st.task)), timeout(st));
      case "task_shutdown":
        return yield* Task.shutdown(getVar<Task>(str(st.task)), st.shutdown === undefined ? 5000 : (st.shutdown as number | "brutal_kill"));

      // ---- Agent
      case "agent_start": {
        const v = decode(st.value);
        const res = yield* Agent.startLink(() => v);
        if (Array.isArray(res) && res[0] === "ok") ctx.started(str(st.id), res[1] as Pid, "worker");
        return res;
      }
      case "agent_get":
        return yield* Agent.get(ctx.pidOf(str(st.target)), agentFun(st, "get"), timeout(st));
      case "agent_update":
        return yield* Agent.update(ctx.pidOf(str(st.target)), agentFun(st, "update"), timeout(st));
      case "agent_get_and_update":
        return yield* Agent.getAndUpdate(ctx.pidOf(str(st.target)), agentFun(st, "get_and_update") as (s: Term) => [Term, Term], timeout(st));
      case "agent_cast":
        return Agent.cast(ctx.pidOf(str(st.target)), agentFun(st, "update"));
      case "agent_stop":
        return yield* GenServer.stop(ctx.pidOf(str(st.target)), decode(st.reason ?? "normal"), timeout(st, Infinity));

      // ---- Registry
      case "registry_start":
        return yield* Registry.startLink({ keys: (st.keys ?? "unique") as "unique" | "duplicate", name: str(st.id) });
      case "registry_register":
        return Registry.register(str(st.reg), decode(st.key), decode(st.value ?? null));
      case "registry_unregister":
        return Registry.unregister(str(st.reg), decode(st.key));
      case "registry_lookup":
        return list(...Registry.lookup(str(st.reg), decode(st.key)));
      case "registry_keys":
        return list(...Registry.keys(str(st.reg), ctx.pidOf(str(st.target))));
      case "registry_count":
        return Registry.count(str(st.reg));
      case "registry_send":
        return Registry.send([str(st.reg), decode(st.key)], decode(st.msg));
      case "registry_dispatch": {
        const msg = decode(st.msg);
        return Registry.dispatch(str(st.reg), decode(st.key), (entries) => {
          for (const [p, v] of entries) rt.send(p, [msg, v]);
        });
      }
      case "via_call":
        return yield* GenServer.call(["via", "Elixir.Registry", [str(st.reg), decode(st.key)]] as Term as string, decode(st.request), timeout(st));
      case "via_whereis":
        return GenServer.whereis(["via", "Elixir.Registry", [str(st.reg), decode(st.key)]] as Term as string) ?? null;

      // ---- PartitionSupervisor
      case "partition_start": {
        const path = str(st.id);
        const res = yield* PartitionSupervisor.startLink({
          name: path,
          childSpec: [ctx.worker, [path, {}, "ok"]],
          partitions: (st.partitions ?? 2) as number,
          withArguments: (args, n) => [`${(args as Term[])[0]}/${n}`, (args as Term[])[1], "ok"],
        });
        if (Array.isArray(res) && res[0] === "ok") ctx.started(path, res[1] as Pid, "supervisor");
        return res;
      }
      case "partition_call":
        return yield* GenServer.call(["via", "Elixir.PartitionSupervisor", [str(st.sup), decode(st.key)]] as Term as string, decode(st.request), timeout(st));
      case "partition_count":
        return PartitionSupervisor.partitions(str(st.sup));

      // ---- hot code loading (module scn_hot)
      case "hot_load":
        defineModule(rt, HOT, hotCallbacks(ctx, st.vsn as number), st.vsn as Term);
        return ["module", HOT];
      case "hot_start":
        return yield* GenServer.startLink(hotModule(), str(st.id));
      case "hot_spawn": {
        const mod = hotModule();
        const version = mod.current;
        const path = str(st.id);
        const p = rt.spawnProcess({
          link: st.link ? self : null,
          parent: self,
          behaviourName: "process",
          module: HOT,
          version: version.version,
          body: (version.callbacks as HotCallbacks).start(path),
        });
        p.data = { runningCode: version };
        named(path, p);
        return p;
      }
      case "sys_suspend":
        return yield* sys.suspend(ctx.pidOf(str(st.target)));
      case "sys_resume":
        return yield* sys.resume(ctx.pidOf(str(st.target)));
      case "sys_get_state":
        return yield* sys.getState(ctx.pidOf(str(st.target)));
      case "sys_change_code":
        return yield* sys.changeCode(ctx.pidOf(str(st.target)), HOT, decode(st.old_vsn ?? 1), decode(st.extra ?? "ok"));
      case "purge":
        return purge(rt, hotModule());
      case "soft_purge":
        return softPurge(rt, hotModule());
    }
    throw new Error(`scenario op "${st.op}" has no implementation in runtime/scenario/ops.ts`);
  }

  return { runOp };
}

interface HotCallbacks extends GenServerCallbacks {
  start(path: string): Blocking<void>;
}

/** Version `v` of the hot-loadable module `scn_hot` (the oracle compiles the same code as Erlang source). */
function hotCallbacks(ctx: OpsContext, v: number): HotCallbacks {
  const { rt } = ctx;
  return {
    init(path: string) {
      ctx.started(path, rt.self(), "worker");
      return ["ok", ["state", v, 0]];
    },
    handleCall(req: Term, _from, s: Term[]) {
      if (req === "vsn") return ["reply", [v, s], s];
      if (req === "bump") return ["reply", (s[2] as number) + 1, ["state", s[1], (s[2] as number) + 1]];
      return ["reply", ["unknown_call", req], s];
    },
    handleCast: (_m: Term, s: Term) => ["noreply", s],
    handleInfo: (_m: Term, s: Term) => ["noreply", s],
    codeChange(_old: Term, s: Term[], extra: Term) {
      if (extra === "error") return ["error", "refused"];
      if (extra === "crash") throw new ErlangError("boom");
      return ["ok", ["state", v, s[2]]];
    },
    *start(path: string): Blocking<void> {
      yield* receive((m) => m === GO);
      // A local loop: the process stays in this version until it is purged (R84).
      for (;;) {
        const msg = yield* receive();
        ctx.add({ ev: "recv", path, msg: ctx.enc([v, msg]) });
      }
    },
  };
}
