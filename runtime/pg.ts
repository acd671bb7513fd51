/**
 * Erlang's `pg` process groups (OTP 23+), default scope, over the nodes of net.ts.
 *
 * Contract (pg.erl): a process joins groups only on its own node (`{nolocal, Pid}` otherwise) and may join a
 * group more than once; a group's members as one node sees them are its own members and those of every node it
 * is connected to; a member that dies, or whose node is cut off, leaves. `monitor(Group)` returns the current
 * members and then sends `{Ref, join, Group, Pids}` / `{Ref, leave, Group, Pids}` to the caller. Member order is
 * not part of the contract (OTP keeps newest first per node; do not rely on it).
 */

import { Pid, Ref } from "./process.js";
import { clusterOf } from "./nodes.js";
import { formatTerm, type Term } from "./terms.js";

function pids(p: Pid | Pid[], where: string): Pid[] {
  const list = Array.isArray(p) ? p : [p];
  for (const x of list) if (!(x instanceof Pid)) throw new TypeError(`pg.${where}: expected a pid or a list of pids; got ${formatTerm(x as Term)}.`);
  return list;
}

export const pg = {
  /** `pg:join(Group, PidOrPids)`: "ok"; the pids must run on the caller's node. */
  join(group: Term, p: Pid | Pid[]): "ok" {
    const c = clusterOf();
    return c.pgJoin(c.nodeOf(c.rt.caller()), group, pids(p, "join"));
  },
  /** `pg:leave(Group, PidOrPids)`: "ok", or "not_joined" when none of them was a member. */
  leave(group: Term, p: Pid | Pid[]): "ok" | "not_joined" {
    const c = clusterOf();
    return c.pgLeave(c.nodeOf(c.rt.caller()), group, pids(p, "leave"));
  },
  /** `pg:get_members(Group)`: the members on this node and the nodes it is connected to. */
  getMembers(group: Term): Pid[] {
    const c = clusterOf();
    return c.pgMembers(c.nodeOf(c.rt.caller()), group);
  },
  /** `pg:get_local_members(Group)`. */
  getLocalMembers(group: Term): Pid[] {
    const c = clusterOf();
    const n = c.nodeOf(c.rt.caller());
    return [...(n.pgLocal.get(formatTerm(group))?.members ?? [])];
  },
  /** `pg:which_groups()`: the groups with members seen from this node. */
  whichGroups(): Term[] {
    const c = clusterOf();
    const n = c.nodeOf(c.rt.caller());
    const seen = new Map<string, Term>();
    for (const m of [n, ...c.peersOf(n)]) for (const [k, g] of m.pgLocal) seen.set(k, g.group);
    return [...seen.values()];
  },
  /** `pg:monitor(Group)` (OTP 25.1): `[ref, members]`; then join/leave messages tagged with ref. */
  monitor(group: Term): [Ref, Pid[]] {
    const c = clusterOf();
    const me = c.rt.caller();
    const ref = new Ref();
    c.pgMonitors.push({ pid: me, ref, key: formatTerm(group) });
    return [ref, c.pgMembers(c.nodeOf(me), group)];
  },
  /** `pg:demonitor(Ref)`: "ok", or "false" when it was not a monitor. */
  demonitor(ref: Ref): "ok" | "false" {
    const c = clusterOf();
    const before = c.pgMonitors.length;
    c.pgMonitors = c.pgMonitors.filter((m) => m.ref !== ref);
    return c.pgMonitors.length < before ? "ok" : "false";
  },
};
