/**
 * Erlang's `:global` name registry as a notebook calls it (`Global.registerName("db", pid)`), on the one node a
 * runtime is. The same table answers `["global", name]` and `["via", "global", name]` names (via.ts).
 * Named `Global`, not `global`, so that it never hides Node's `global` object in a notebook.
 */

import type { Pid } from "./process.js";
import { activeRuntime } from "./processes.js";
import { globalVia } from "./via.js";
import type { Term } from "./terms.js";

export const Global = {
  /** `global:register_name(Name, Pid)`: "yes", or "no" when a live process has the name. */
  registerName(name: Term, pid: Pid): "yes" | "no" {
    return globalVia.registerName(name, pid, pid.rt) as "yes" | "no";
  },
  /** `global:unregister_name(Name)`: "ok". */
  unregisterName(name: Term): "ok" {
    return globalVia.unregisterName(name, activeRuntime()) as "ok";
  },
  /** `global:whereis_name(Name)`: the pid, or "undefined". */
  whereisName(name: Term): Pid | "undefined" {
    return (globalVia.whereisName(name, activeRuntime()) ?? "undefined") as Pid | "undefined";
  },
  /** `global:send(Name, Msg)`: the pid it sent to; exits with `{badarg, {Name, Msg}}` when nobody has the name. */
  send(name: Term, msg: Term): Pid {
    return globalVia.send(name, msg, activeRuntime()) as Pid;
  },
};
