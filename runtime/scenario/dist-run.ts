/**
 * Runs a multi-node scenario (dist-format.ts) on OTP Lab's model: a fresh runtime, node `a@lab` for the shell,
 * `X@lab` for each peer, one observer per node, and the same steps the oracle runs on real nodes.
 *
 * Steps reach an observer out of band (straight into its mailbox, as the oracle's go through the peer's
 * stdin, not the distribution). After each step the runner waits `settle_ms` of virtual time, as the oracle
 * waits as long in real time.
 */

import { Runtime, Pid, Ref, list, ErlangError, ExitSignal, receive, sleep, type Term, type Blocking } from "../index.js";
import { clusterOf } from "../nodes.js";
import { spawn, spawnLink, spawnMonitor, send, link, unlink, monitor, exit, self, trapExit } from "../processes.js";
import { Global } from "../global.js";
import { pg } from "../pg.js";
import { erpc, rpc, type RemoteFun } from "../erpc.js";
import { monitorNode, monitorNodes, nodes, node, Node } from "../nodes.js";
import { canonical, type DistLog, type DistScenario, type DistStep, type RemoteFnName } from "./dist-format.js";

const full = (short: string): string => `${short}@lab`;

interface Observer {
  pid: Pid;
  log: Term[];
}

/** Runs `s` and returns each node's observer log in the canonical text. */
export function runDistScenario(s: DistScenario): DistLog {
  const rt = new Runtime({ clock: "virtual" });
  const c = clusterOf(rt);
  c.startLocal(full("a"));
  c.preventOverlappingPartitions = s.prevent_overlapping_partitions ?? true;
  const names = new Map<string, Pid | Ref>();
  const observers = new Map<string, Observer>();
  const done: DistLog = {};
  const settle = s.settle_ms ?? 50;

  const startObserver = (short: string): void => {
    const obs: Observer = { pid: null as unknown as Pid, log: [] };
    const old = rt.spawnNode;
    rt.spawnNode = short === "a" ? null : c.nodes.get(full(short))!;
    try {
      obs.pid = rt.spawnProcess({ trapExit: true, behaviourName: "observer", start: () => observerLoop(obs, names) });
    } finally {
      rt.spawnNode = old;
    }
    observers.set(short, obs);
  };
  const collect = (short: string): void => {
    const obs = observers.get(short);
    if (!obs) return;
    done[short] = [...(done[short] ?? []), ...obs.log.map((t) => canonical(t, reverse(names)))];
    obs.log = [];
  };

  startObserver("a");
  for (const n of s.nodes ?? []) {
    c.startNode(full(n), true);
    startObserver(n);
  }
  for (const n of s.unconnected ?? []) {
    c.startNode(full(n), false);
    startObserver(n);
  }
  rt.advance(200);
  for (const step of s.steps) {
    switch (step.op) {
      case "sleep":
        rt.advance(step.ms);
        break;
      case "netsplit":
        c.netsplit(step.groups.map((g) => g.map(full)));
        break;
      case "heal":
        c.heal();
        break;
      case "stop_node":
        collect(step.node);
        c.stopNode(full(step.node));
        observers.delete(step.node);
        break;
      case "start_node":
        c.startNode(full(step.node), true);
        startObserver(step.node);
        break;
      default: {
        const obs = observers.get(step.by)!;
        const cmd: Cmd = { step, finished: false };
        rt.deliver(obs.pid, cmd as unknown as Term);
        if (!rt.runUntil(() => cmd.finished || obs.pid.dead)) throw new Error(`step ${step.op} by ${step.by} never finished`);
      }
    }
    rt.advance(settle);
  }
  rt.advance(200);
  for (const short of [...observers.keys()]) collect(short);
  const out: DistLog = {};
  // As the oracle prints it: a node whose observer logged nothing has no entry.
  for (const k of Object.keys(done).sort()) if (done[k].length > 0) out[k] = done[k];
  c.dispose();
  rt.reset();
  return out;
}

interface Cmd {
  step: DistStep;
  finished: boolean;
}

const isCmd = (m: unknown): m is Cmd => typeof m === "object" && m !== null && !Array.isArray(m) && "step" in m && "finished" in m;

function reverse(names: Map<string, Pid | Ref>): Map<unknown, string> {
  const r = new Map<unknown, string>();
  for (const [k, v] of names) r.set(v, k);
  return r;
}

function* observerLoop(obs: Observer, names: Map<string, Pid | Ref>): Blocking<void> {
  for (;;) {
    const m = yield* receive();
    if (isCmd(m)) {
      let entry: Term | null;
      try {
        entry = yield* runStep(m.step, names, obs);
      } catch (err) {
        // As the oracle writes it: {step_failed, Op, Class, Reason}.
        entry = err instanceof ErlangError ? ["step_failed", m.step.op, "error", err.original]
          : err instanceof ExitSignal ? ["step_failed", m.step.op, "exit", err.reason]
          : ["step_failed", m.step.op, String(err)];
      }
      if (entry !== null) obs.log.push(entry);
      m.finished = true;
    } else {
      obs.log.push(m);
    }
  }
}

/** A scenario message: arrays are tuples, `{list: [...]}` a list, `"$x"` the pid or ref bound to x. */
function term(v: unknown, names: Map<string, Pid | Ref>): Term {
  if (typeof v === "string" && v.startsWith("$")) {
    const p = names.get(v.slice(1));
    if (!p) throw new Error(`${v}: no process or reference of that name yet`);
    return p;
  }
  if (Array.isArray(v)) return v.map((x) => term(x, names));
  if (typeof v === "object" && v !== null && "list" in v) return list(...((v as { list: unknown[] }).list.map((x) => term(x, names))));
  return v as Term;
}

function pidOf(name: string, names: Map<string, Pid | Ref>): Pid {
  const p = names.get(name);
  if (!(p instanceof Pid)) throw new Error(`${name}: no process of that name yet`);
  return p;
}

function bodyOf(kind: "echo" | "trap" | "wait", obs: Pid): () => Blocking<unknown> {
  if (kind === "wait") {
    return function* () {
      yield* receive((m) => m === "stop");
    };
  }
  return function* () {
    if (kind === "trap") trapExit(true);
    for (;;) {
      const m = yield* receive();
      if (m === "stop") return;
      if (Array.isArray(m) && m.length === 2 && m[0] === "exit") throw new ExitSignal(m[1] as Term);
      if (Array.isArray(m) && m.length === 2 && m[0] === "crash") throw new ErlangError(m[1] as Term);
      send(obs, ["got", self(), m]);
    }
  };
}

function remoteFn(fn: RemoteFnName, ms: number | undefined, obs: Pid): RemoteFun {
  switch (fn) {
    case "node":
      return () => node();
    case "crash":
      return () => {
        throw new ErlangError("boom");
      };
    case "exit":
      return () => {
        throw new ExitSignal("bye");
      };
    case "sleep":
      return function* () {
        yield* sleep(ms ?? 0);
        return "slept";
      };
    case "send_back":
      return () => {
        send(obs, ["cast_ran", node()]);
        return "ok";
      };
  }
}

/** `try erpc:call(...) of V -> {ok, V} catch ...` as the oracle writes it. */
function erpcResult(err: unknown): Term {
  if (err instanceof ErlangError) {
    const o = err.original;
    if (Array.isArray(o) && o[0] === "exception") return ["error", ["exception", o[1]]];
    return ["error", o];
  }
  if (err instanceof ExitSignal) return ["exit", err.reason];
  throw err;
}

function* runStep(step: DistStep, names: Map<string, Pid | Ref>, obs: Observer): Blocking<Term | null> {
  const me = obs.pid;
  switch (step.op) {
    case "spawn": {
      const body = bodyOf(step.body, me);
      if (step.link) names.set(step.as, spawnLink(full(step.on), body));
      else if (step.monitor) {
        const [p, ref] = spawnMonitor(full(step.on), body);
        names.set(step.as, p);
        names.set(step.ref ?? `${step.as}_ref`, ref);
      } else names.set(step.as, spawn(full(step.on), body));
      return null;
    }
    case "send":
      send(pidOf(step.to, names), term(step.msg, names));
      return null;
    case "link":
      return ["link", step.to, link(pidOf(step.to, names))];
    case "unlink":
      unlink(pidOf(step.to, names));
      return null;
    case "monitor":
      names.set(step.as, monitor(pidOf(step.to, names)));
      return null;
    case "exit":
      exit(pidOf(step.to, names), term(step.reason, names));
      return null;
    case "monitor_node":
      monitorNode(full(step.node));
      return null;
    case "monitor_nodes":
      monitorNodes(true);
      return null;
    case "nodes":
      return ["nodes", list(...nodes().sort())];
    case "connect":
      return ["connect", step.node, Node.connect(full(step.node))];
    case "disconnect":
      return ["disconnect", step.node, Node.disconnect(full(step.node))];
    case "global_register":
      return ["global_register", step.name, Global.registerName(step.name, pidOf(step.pid, names))];
    case "global_unregister":
      return ["global_unregister", step.name, Global.unregisterName(step.name)];
    case "global_whereis":
      return ["global_whereis", step.name, Global.whereisName(step.name)];
    case "global_send": {
      let r: Term;
      try {
        r = Global.send(step.name, term(step.msg, names));
      } catch (err) {
        if (err instanceof ExitSignal) r = "badarg";
        else throw err;
      }
      return ["global_send", step.name, r];
    }
    case "pg_join":
      return ["pg_join", step.group, pg.join(step.group, pidOf(step.pid, names))];
    case "pg_leave":
      return ["pg_leave", step.group, pg.leave(step.group, pidOf(step.pid, names))];
    case "pg_members":
      return ["pg_members", step.group, list(...pg.getMembers(step.group))];
    case "pg_monitor": {
      const [ref, members] = pg.monitor(step.group);
      names.set(step.as, ref);
      return ["pg_monitor", step.group, list(...members)];
    }
    case "erpc_call": {
      let r: Term;
      try {
        r = ["ok", yield* erpc.call(full(step.node), remoteFn(step.fn, step.ms, me), step.timeout ?? Infinity)];
      } catch (err) {
        r = erpcResult(err);
      }
      return ["erpc_call", step.node, r];
    }
    case "erpc_cast":
      return ["erpc_cast", step.node, erpc.cast(full(step.node), remoteFn(step.fn, step.ms, me))];
    case "multicall": {
      const [res, bad] = yield* rpc.multicall(step.nodes.map(full), remoteFn(step.fn, step.ms, me), step.timeout ?? Infinity);
      return ["multicall", list(...res), list(...bad)];
    }
    default:
      throw new Error(`${(step as DistStep).op} is run by the runner, not an observer`);
  }
}
