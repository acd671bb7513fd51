/**
 * erlang:phash2/1,2 (runtime/phash2.ts) against values printed by OTP 25: `test/fidelity/phash2.json` is the output
 * of `escript test/fidelity/phash2.escript` (regenerate it with that command), and PartitionSupervisor's routing,
 * which uses phash2 for keys that are not integers (R79).
 */
import { readFileSync } from "node:fs";
import { beforeEach, describe, expect, it } from "vitest";
import { Runtime, setRuntime, PartitionSupervisor, defmodule, Bin, list, termEquals, type Term } from "../runtime/index.js";
import { phash2, improperList } from "../runtime/phash2.js";

interface Row {
  term: unknown;
  phash2: number;
  ranges: Record<string, number>;
}

const rows = JSON.parse(readFileSync(new URL("./fidelity/phash2.json", import.meta.url), "utf8")) as Row[];

/** The escript's JSON encoding → runtime terms; undefined for a float JavaScript cannot tell from an integer. */
function decode(j: unknown): Term | undefined {
  if (typeof j === "string" || typeof j === "number") return j;
  if (Array.isArray(j)) {
    const items = j.map(decode);
    return items.includes(undefined) ? undefined : list(...items);
  }
  const o = j as Record<string, unknown>;
  if ("int" in o) return BigInt(o.int as string);
  if ("float" in o) return Number.isInteger(o.float) ? undefined : (o.float as number);
  if ("bytes" in o) return Bin.of(Uint8Array.from(o.bytes as number[]));
  if ("tuple" in o) {
    const items = (o.tuple as unknown[]).map(decode);
    return items.includes(undefined) ? undefined : items;
  }
  if ("map" in o) return new Map((o.map as Array<[unknown, unknown]>).map(([k, v]) => [decode(k), decode(v)]));
  if ("improper" in o) {
    const [items, tail] = o.improper as [unknown[], unknown];
    return improperList(items.map(decode), decode(tail));
  }
  throw new Error(`unknown encoding ${JSON.stringify(j)}`);
}

describe("phash2 matches erlang:phash2 (values printed by OTP 25)", () => {
  const usable = rows.map((r) => [r, decode(r.term)] as const).filter(([, t]) => t !== undefined);

  it("covers the fixture: every term but the floats with integral values (1.0 is the integer 1 in JavaScript)", () => {
    const skipped = rows.filter((r) => decode(r.term) === undefined).map((r) => JSON.stringify(r.term));
    expect(skipped).toEqual(['{"float":0}', '{"float":1}', '{"float":-1}', '{"float":1e+100}', '{"float":2}']);
    expect(usable.length).toBeGreaterThan(100);
  });

  it.each(usable.map(([r, t]) => [JSON.stringify(r.term), r, t] as const))("phash2(%s)", (_name, r, t) => {
    expect(phash2(t)).toBe(r.phash2);
    for (const [range, h] of Object.entries(r.ranges)) expect(phash2(t, Number(range))).toBe(h);
  });

  it("plain objects hash as maps with atom keys, booleans and null as atoms", () => {
    // erl: erlang:phash2(#{a => 1, b => 2}) =:= 104344017 ... taken from the fixture row of #{a => 1, b => 2}
    const row = rows.find((r) => JSON.stringify(r.term) === '{"map":[["a",1],["b",2]]}')!;
    expect(phash2({ b: 2, a: 1 })).toBe(row.phash2);
    const t = rows.find((r) => r.term === "true")!;
    expect(phash2(true)).toBe(t.phash2);
    expect(phash2(null)).toBe(rows.find((r) => r.term === "nil")!.phash2);
  });

  it("binaries are equal terms when their bytes are (Registry keys, termEquals)", () => {
    expect(termEquals(new Bin("x"), new Bin("x"))).toBe(true);
    expect(termEquals(new Bin("x"), Bin.of(Uint8Array.from([120])))).toBe(true);
    expect(termEquals(new Bin("x"), new Bin("y"))).toBe(false);
    expect(termEquals(new Bin("x"), "x")).toBe(false); // a binary is not the atom
  });

  it("rejects what has no Erlang counterpart, saying what to use", () => {
    expect(() => phash2(() => 1)).toThrow(/no Erlang term counterpart/);
    expect(() => phash2("a", 0)).toThrow(/range must be an integer from 1 to 2\^32/);
  });
});

describe("PartitionSupervisor routes as Elixir 1.14 does (R79)", () => {
  beforeEach(() => {
    setRuntime(new Runtime({ clock: "virtual" }));
  });

  it("integers by rem(abs(key), n), everything else by phash2(key, n)", async () => {
    // elixir (PartitionSupervisor with 4 partitions, partition of each key read from which_children):
    //   for k <- [-7, -1, 0, 5, 13, 1.5, :a, "x", {1, 2}, [1]], do: partition of {:via, PartitionSupervisor, {:ps, k}}
    // printed: -7 -> 3, -1 -> 1, 0 -> 0, 5 -> 1, 13 -> 1, 1.5 -> 3, :a -> 1, "x" -> 0, {1, 2} -> 2, [1] -> 2
    const W = defmodule("PW", { init: (a: Term) => ["ok", a] });
    await PartitionSupervisor.startLink({ name: "ps", childSpec: W, partitions: 4 });
    const keys: Term[] = [-7, -1, 0, 5, 13, 1.5, "a", new Bin("x"), [1, 2], list(1)];
    expect(keys.map((k) => PartitionSupervisor.partitionOf("ps", k))).toEqual([3, 1, 0, 1, 1, 3, 1, 0, 2, 2]);
  });
});
