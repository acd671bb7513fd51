/**
 * Remote calls: Erlang's `erpc` (OTP 23+) and the `rpc:multicall` built on it, over the nodes of net.ts.
 *
 * `erpc.call(Node, Fun, Timeout)` runs `Fun` in a new process on `Node` and returns its value. Its failures, as
 * erpc.erl raises them:
 * - the node cannot be reached, or the connection goes down during the call: error `{erpc, noconnection}`;
 * - no answer within `Timeout` ms: error `{erpc, timeout}` (the remote process is killed);
 * - `Fun` raised: error `{exception, Reason, Stack}`; `Fun` exited: exit `{exception, Reason}`.
 * `erpc.cast` starts `Fun` there and returns at once. `rpc.multicall(Nodes, Fun, Timeout)` returns
 * `[Results, BadNodes]`: the values of the nodes that answered, in node order, and the nodes that did not.
 */

import { Pid, Ref, TIMEOUT, type Blocking } from "./process.js";
import { receive } from "./runtime.js";
import { activeRuntime, spawnMonitor, spawn, type ProcessBody } from "./processes.js";
import { clusterOf } from "./nodes.js";
import { Op } from "./op.js";
import { Crash, ErlangError, ExitSignal, reasonFromThrow, type Term } from "./terms.js";

/** A function to run remotely: plain or generator function. */
export type RemoteFun = () => unknown;

function* runRemote(fun: RemoteFun, replyTo: Pid, tag: Ref): Blocking<void> {
  let r: unknown;
  try {
    r = fun();
    if (r && typeof (r as Generator).next === "function" && typeof (r as Generator).throw === "function") r = yield* r as Blocking<unknown>;
  } catch (err) {
    const reason = reasonFromThrow(err);
    if (err instanceof ExitSignal) throw new ExitSignal(["erpc_exit", tag, reason]);
    throw new ExitSignal(["erpc_error", tag, reason instanceof Crash ? reason.error : reason]);
  }
  activeRuntime().send(replyTo, ["erpc_reply", tag, r as Term]);
}

function* callG(node: string, fun: RemoteFun, timeout: number): Blocking<Term> {
  const c = clusterOf();
  const rt = c.rt;
  const me = rt.caller();
  const tag = new Ref();
  const [pid, mref] = spawnMonitor(node, (() => runRemote(fun, me, tag)) as ProcessBody);
  const msg = yield* receive(
    (m) => Array.isArray(m) && ((m[0] === "erpc_reply" && m[1] === tag) || (m[0] === "DOWN" && m[1] === mref)),
    timeout,
  );
  if (msg === TIMEOUT) {
    rt.demonitor(me, mref, true);
    if (!pid.dead) rt.exit(pid, "kill");
    throw new ErlangError(["erpc", "timeout"]);
  }
  const m = msg as Term[];
  if (m[0] === "erpc_reply") {
    rt.demonitor(me, mref, true);
    return m[2];
  }
  const reason = m[4] as Term;
  if (reason === "noconnection") throw new ErlangError(["erpc", "noconnection"]);
  if (Array.isArray(reason) && reason[0] === "erpc_error" && reason[1] === tag) throw new ErlangError(["exception", reason[2], []]);
  if (Array.isArray(reason) && reason[0] === "erpc_exit" && reason[1] === tag) throw new ExitSignal(["exception", reason[2]]);
  throw new ExitSignal(["exception", reason]);
}

/** What a failed `erpc.call` raised, as `{Class, Reason}` data: for `rpc.multicall`'s bad nodes and for tests. */
export function erpcFailure(err: unknown): ["error" | "exit", Term] {
  if (err instanceof ErlangError) return ["error", err.original];
  if (err instanceof ExitSignal) return ["exit", err.reason];
  return ["error", reasonFromThrow(err)];
}

export const erpc = {
  /** `erpc:call(Node, Fun, Timeout)`: await it outside processes, `yield*` it inside. Timeout in ms (default infinity). */
  call(node: string, fun: RemoteFun, timeout = Infinity): Op<Term> {
    return new Op(activeRuntime(), () => callG(node, fun, timeout), "erpc.call", [node, fun, timeout]);
  },
  /** `erpc:cast(Node, Fun)`: runs `Fun` on `Node` if it can be reached; "ok" either way. */
  cast(node: string, fun: RemoteFun): "ok" {
    const c = clusterOf();
    const target = c.get(node, "erpc.cast");
    if (c.connect(c.nodeOf(c.rt.caller()), target)) spawn(node, fun as ProcessBody);
    return "ok";
  },
};

function* multicallG(nodes: string[], fun: RemoteFun, timeout: number): Blocking<[Term[], string[]]> {
  const rt = activeRuntime();
  const me = rt.caller();
  const start = rt.now();
  const calls = nodes.map((node) => {
    const tag = new Ref();
    const [pid, mref] = spawnMonitor(node, (() => runRemote(fun, me, tag)) as ProcessBody);
    return { node, pid, tag, mref, result: undefined as Term, done: false, ok: false };
  });
  for (const call of calls) {
    const left = timeout === Infinity ? Infinity : Math.max(0, start + timeout - rt.now());
    const msg = yield* receive((m) => Array.isArray(m) && ((m[0] === "erpc_reply" && m[1] === call.tag) || (m[0] === "DOWN" && m[1] === call.mref)), left);
    if (msg === TIMEOUT) {
      rt.demonitor(me, call.mref, true);
      if (!call.pid.dead) rt.exit(call.pid, "kill");
      continue;
    }
    const m = msg as Term[];
    call.done = true;
    if (m[0] === "erpc_reply") {
      rt.demonitor(me, call.mref, true);
      call.ok = true;
      call.result = m[2];
    } else if (m[4] !== "noconnection") {
      const r = m[4] as Term[];
      call.ok = true; // rpc reports a crash in the results, as {badrpc, {'EXIT', Reason}}
      call.result = ["badrpc", ["EXIT", Array.isArray(r) && (r[0] === "erpc_error" || r[0] === "erpc_exit") ? r[2] : r]];
    }
  }
  return [calls.filter((x) => x.ok).map((x) => x.result), calls.filter((x) => !x.ok).map((x) => x.node)];
}

export const rpc = {
  /** `rpc:multicall(Nodes, Fun, Timeout)`: `[Results, BadNodes]`. */
  multicall(nodes: string[], fun: RemoteFun, timeout = Infinity): Op<[Term[], string[]]> {
    return new Op(activeRuntime(), () => multicallG(nodes, fun, timeout), "rpc.multicall", [nodes, fun, timeout]);
  },
};
