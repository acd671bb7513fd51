/**
 * Agent (Elixir 1.14 `agent.ex`, `agent/server.ex`), R82–R83: a GenServer whose state is `fun()`, computed
 * inside the agent. `get`, `update` and `getAndUpdate` run their function in the agent process (default timeout
 * 5000 ms); `cast` is asynchronous. `getAndUpdate` must return `[reply, newState]`: anything else stops the
 * agent with `{:bad_return_value, other}`, and the caller exits with that reason.
 */

import type { Dest } from "./via.js";
import { Pid } from "./process.js";
import { Module } from "./code.js";
import { GenServer, type GenServerCallbacks, type StartOptions, type StartResult } from "./gen_server.js";
import { activeRuntime } from "./processes.js";
import type { Op } from "./op.js";
import type { Term } from "./terms.js";

type Fun<S, R> = (state: S) => R;

const agentCallbacks: GenServerCallbacks = {
  init: (fun: () => Term) => ["ok", fun()],
  handleCall(req: [string, Fun<Term, Term>], _from, state: Term) {
    const [op, fun] = req;
    if (op === "get") return ["reply", fun(state), state];
    if (op === "update") return ["reply", "ok", fun(state)];
    const r = fun(state);
    if (Array.isArray(r) && r.length === 2) return ["reply", r[0], r[1]];
    return ["stop", ["bad_return_value", r], state];
  },
  handleCast: (fun: Fun<Term, Term>, state: Term) => ["noreply", fun(state)],
  /** R83: `code_change(_old, state, fun)` runs the fun (or `[Module, "fn", args]`) on the state. */
  codeChange(_old: Term, state: Term, extra: Term) {
    if (typeof extra === "function") return ["ok", extra(state)];
    if (Array.isArray(extra) && extra[0] instanceof Module) {
      const [m, f, a] = extra as [Module, string, Term[]];
      return ["ok", (m.current.callbacks as Record<string, (...x: Term[]) => Term>)[f](state, ...a)];
    }
    return ["ok", state];
  },
};

const modules = new WeakMap<object, Module<GenServerCallbacks>>();
function agentModule(): Module<GenServerCallbacks> {
  const rt = activeRuntime();
  let m = modules.get(rt);
  if (!m) modules.set(rt, (m = new Module(rt, "Agent.Server", agentCallbacks)));
  return m;
}

export const Agent = {
  /** @example const [, counter] = await Agent.startLink(() => 0) */
  startLink<S>(fun: () => S, opts: StartOptions = {}): Op<StartResult> {
    return GenServer.startLink(agentModule(), fun, opts);
  },
  start<S>(fun: () => S, opts: StartOptions = {}): Op<StartResult> {
    return GenServer.start(agentModule(), fun, opts);
  },
  get<S, R>(agent: Dest, fun: Fun<S, R>, timeout = 5000): Op<R> {
    return GenServer.call(agent, ["get", fun], timeout);
  },
  update<S>(agent: Dest, fun: Fun<S, S>, timeout = 5000): Op<"ok"> {
    return GenServer.call(agent, ["update", fun], timeout);
  },
  getAndUpdate<S, R>(agent: Dest, fun: Fun<S, [R, S]>, timeout = 5000): Op<R> {
    return GenServer.call(agent, ["get_and_update", fun], timeout);
  },
  cast<S>(agent: Dest, fun: Fun<S, S>): "ok" {
    return GenServer.cast(agent, fun);
  },
  stop(agent: Dest, reason: Term = "normal"): Op<"ok"> {
    return GenServer.stop(agent, reason);
  },
};
