/**
 * Trace matching, as the oracle's `--check` does it: each expected event must match the next actual event key
 * by key (extra actual keys allowed; `t` only through `t_min`/`t_max`); `{"any_order": [...]}` matches the next
 * events as a permutation. Trailing actual events are allowed.
 */

import { stableStringify } from "./terms.js";

export type TraceEvent = Record<string, unknown>;

export type MatchResult = { ok: true } | { ok: false; message: string; index: number };

export function matchTrace(actual: TraceEvent[], expect: unknown[]): MatchResult {
  let i = 0;
  for (const p of expect) {
    const pat = p as Record<string, unknown>;
    if (Array.isArray(pat.any_order)) {
      const group = pat.any_order as Record<string, unknown>[];
      const taken = actual.slice(i, i + group.length);
      if (!permMatch(taken, group)) {
        return { ok: false, index: i, message: `any_order group ${stableStringify(group)} vs ${stableStringify(taken)}` };
      }
      i += group.length;
      continue;
    }
    const e = actual[i];
    if (!e) return { ok: false, index: i, message: `missing ${stableStringify(pat)}` };
    if (!sub(e, pat)) return { ok: false, index: i, message: `expected ${stableStringify(pat)} got ${stableStringify(e)}` };
    i++;
  }
  return { ok: true };
}

function permMatch(evs: TraceEvent[], pats: Record<string, unknown>[]): boolean {
  if (evs.length !== pats.length) return false;
  if (pats.length === 0) return true;
  const [p, ...rest] = pats;
  return evs.some((e, i) => sub(e, p) && permMatch([...evs.slice(0, i), ...evs.slice(i + 1)], rest));
}

function sub(e: TraceEvent, p: Record<string, unknown>): boolean {
  for (const [k, v] of Object.entries(p)) {
    if (k === "t_min") {
      if (!((e.t as number) >= (v as number))) return false;
    } else if (k === "t_max") {
      if (!((e.t as number) <= (v as number))) return false;
    } else if (!deepEqual(e[k], v)) return false;
  }
  return true;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}
