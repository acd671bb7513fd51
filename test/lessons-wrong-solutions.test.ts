/**
 * A lesson's hidden tests must catch the mistakes learners really make, not only an empty solution: each
 * plausible-but-wrong solution below is graded with `otp-lab grade` against the lesson's source and must lose
 * the points of exactly the exercise it gets wrong, while the other exercise keeps full marks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import path from "node:path";
import { ROOT, otpLab, requireBuild, submission, tempDir } from "./grader/helpers.js";

const dir = tempDir("otp-lab-wrong-solutions-");
beforeAll(() => requireBuild());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Wrong {
  why: string;
  cells: Record<string, string>;
  /** The exercise (test cell grade_id) that must score zero; the others keep full marks. */
  fails: string;
}

async function gradeWrong(lesson: string, w: Wrong, i: number): Promise<Record<string, [number, number]>> {
  const source = path.join(ROOT, "notebooks", `${lesson}.ipynb`);
  const file = submission(source, path.join(dir, `${lesson}-wrong-${i}.ipynb`), w.cells);
  const r = await otpLab(["grade", file, "--source", source]);
  expect(r.code, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout) as { tests: Array<{ grade_id: string; score: number; max_score: number }> };
  return Object.fromEntries(report.tests.map((t) => [t.grade_id, [t.score, t.max_score]]));
}

const LESSON_12: Wrong[] = [
  {
    why: "openSession trusts Registry.lookup, which may still list a session that was just killed (R81)",
    fails: "l12-ex1-tests",
    cells: {
      "l12-ex1-solution": `async function openSession(user: string): Promise<Pid> {
  const [found] = Registry.lookup("user_sessions", user);
  if (found) return found[0];
  const r = (await DynamicSupervisor.startChild("user_sup", { id: user, start: () => GenServer.startLink(Session, user, { name: ["via", "Registry", ["user_sessions", user]] }), restart: "temporary" })) as Term[];
  return r[1] as Pid;
}`,
    },
  },
  {
    why: "openSession starts sessions linked to the caller instead of under user_sup",
    fails: "l12-ex1-tests",
    cells: {
      "l12-ex1-solution": `async function openSession(user: string): Promise<Pid> {
  const found = Registry.whereisName("user_sessions", user);
  if (found) return found;
  return okPid(await GenServer.startLink(Session, user, { name: ["via", "Registry", ["user_sessions", user]] }));
}`,
    },
  },
  {
    why: "sessions restarted by the supervisor (permanent), so a crashed session comes back on its own",
    fails: "l12-ex1-tests",
    cells: {
      "l12-ex1-solution": `async function openSession(user: string): Promise<Pid> {
  const found = Registry.whereisName("user_sessions", user);
  if (found) return found;
  const r = (await DynamicSupervisor.startChild("user_sup", { id: user, start: () => GenServer.startLink(Session, user, { name: ["via", "Registry", ["user_sessions", user]] }) })) as Term[];
  if (r[0] === "ok") return r[1] as Pid;
  return (r[1] as Term[])[1] as Pid;
}`,
    },
  },
  {
    why: "one Counter behind the partition supervisor's name: every page waits for every other",
    fails: "l12-ex2-tests",
    cells: {
      "l12-ex2-solution": `async function startCounters(partitions: number): Promise<Pid> {
  return okPid(await PartitionSupervisor.startLink({ name: "counters", childSpec: Counter, partitions, withArguments: (_args, p) => p }));
}
async function bump(page: string): Promise<number> {
  return (await GenServer.call(["via", "PartitionSupervisor", ["counters", 0]], ["bump", page])) as number;
}`,
    },
  },
  {
    why: "bump routes by a hash of its own, so a page's count is not where the partition supervisor routes the page",
    fails: "l12-ex2-tests",
    cells: {
      "l12-ex2-solution": `async function startCounters(partitions: number): Promise<Pid> {
  return okPid(await PartitionSupervisor.startLink({ name: "counters", childSpec: Counter, partitions, withArguments: (_args, p) => p }));
}
async function bump(page: string): Promise<number> {
  const n = PartitionSupervisor.partitions("counters");
  return (await GenServer.call(["via", "PartitionSupervisor", ["counters", page.length % n]], ["bump", page])) as number;
}`,
    },
  },
];

/** A chat tree for lesson 14's exercise 1, given its root's children and options. */
const chat = (children: string, options: string) => ({
  "l14-ex1-solution": `async function startChat(): Promise<Pid> {
  return okPid(await Supervisor.startLink([${children}], ${options}));
}`,
});
const STORE = `{ id: "store", start: () => GenServer.startLink(Store, null, { name: "store" }) }`;
const LIMITER = `{ id: "limiter", start: () => GenServer.startLink(Limiter, null, { name: "limiter" }) }`;
const ROOMS = `{ id: "rooms", start: () => Registry.startLink({ keys: "unique", name: "rooms" }) }`;
const roomSup = (limits: string) => `{ id: "room_sup", start: () => DynamicSupervisor.startLink({ name: "room_sup"${limits} }), type: "supervisor" }`;
const core = (limits: string) => `{ id: "core", type: "supervisor", start: () => Supervisor.startLink([${ROOMS}, ${roomSup(limits)}], { strategy: "rest_for_one" }) }`;

const LESSON_14: Wrong[] = [
  {
    why: "one_for_all at the root: a crash of the limiter restarts room_sup, empty",
    fails: "l14-ex1-tests",
    cells: chat(`${ROOMS}, ${STORE}, ${LIMITER}, ${roomSup(", maxRestarts: 30, maxSeconds: 5")}`, `{ strategy: "one_for_all", maxRestarts: 30, maxSeconds: 5, name: "chat" }`),
  },
  {
    why: "rest_for_one in dependency order: a crash of the store takes every room down",
    fails: "l14-ex1-tests",
    cells: chat(`${STORE}, ${LIMITER}, ${ROOMS}, ${roomSup(", maxRestarts: 30, maxSeconds: 5")}`, `{ strategy: "rest_for_one", maxRestarts: 30, maxSeconds: 5, name: "chat" }`),
  },
  {
    why: "the right shape with OTP's default limits (3 in 5 s): room_sup gives up under 3 faults per second",
    fails: "l14-ex1-tests",
    cells: chat(`${STORE}, ${LIMITER}, ${core("")}`, `{ strategy: "one_for_one", maxRestarts: 30, maxSeconds: 5, name: "chat" }`),
  },
  {
    why: "limits far above the stated fault rate (1000 restarts in 5 s): never gives up, but is not as strict as asked",
    fails: "l14-ex1-tests",
    cells: chat(`${STORE}, ${LIMITER}, ${core(", maxRestarts: 1000, maxSeconds: 5")}`, `{ strategy: "one_for_one", maxRestarts: 1000, maxSeconds: 5, name: "chat" }`),
  },
  {
    why: "durable membership saved under one key for every room: rooms mix up their members",
    fails: "l14-ex2-tests",
    cells: {
      "l14-ex2-solution": `const durable: Membership = {
  *load(room: string) {
    const saved = yield* ask("store", ["members", "all"]);
    return Array.isArray(saved) ? (saved as string[]) : [];
  },
  *save(room: string, members: string[]) {
    return yield* ask("store", ["put_members", "all", members]);
  },
};`,
    },
  },
  {
    why: "durable membership that loads but never saves",
    fails: "l14-ex2-tests",
    cells: {
      "l14-ex2-solution": `const durable: Membership = {
  *load(room: string) {
    const saved = yield* ask("store", ["members", room]);
    return Array.isArray(saved) ? (saved as string[]) : [];
  },
  *save(room: string, members: string[]) {
    return "ok";
  },
};`,
    },
  },
];

const LESSON_13: Wrong[] = [
  {
    why: "predictSplit without the cascade: a process that dies of noconnection does not pass it on along its links",
    fails: "l13-ex1-tests",
    cells: {
      "l13-ex1-solution": `function predictSplit(t: Topology): Record<string, Fate> {
  const nodeOf = new Map(t.procs.map((p) => [p.name, p.node]));
  const side = (name: string) => t.groups.findIndex((g) => g.includes(nodeOf.get(name)!));
  const out: Record<string, Fate> = {};
  for (const p of t.procs) {
    const cut = t.links.filter(([a, b]) => (a === p.name || b === p.name) && side(a) !== side(b)).map(([a, b]) => (a === p.name ? b : a));
    const downs = t.monitors.filter(([w, x]) => w === p.name && side(w) !== side(x)).map(([, x]) => "DOWN " + x);
    out[p.name] = cut.length > 0 && !p.trap ? { dies: "noconnection" } : { gets: [...cut.map((x) => "EXIT " + x), ...downs].sort() };
  }
  return out;
}`,
    },
  },
  {
    why: "predictSplit that forgets the other side also sees the link break",
    fails: "l13-ex1-tests",
    cells: {
      "l13-ex1-solution": `function predictSplit(t: Topology): Record<string, Fate> {
  const nodeOf = new Map(t.procs.map((p) => [p.name, p.node]));
  const side = (name: string) => t.groups.findIndex((g) => g.includes(nodeOf.get(name)!));
  const traps = new Map(t.procs.map((p) => [p.name, p.trap]));
  const dead = new Set<string>();
  const gets = new Map(t.procs.map((p) => [p.name, [] as string[]]));
  const queue: [string, "EXIT" | "DOWN", string][] = [];
  for (const [a, b] of t.links) if (side(a) !== side(b)) queue.push([a, "EXIT", b]);
  for (const [w, target] of t.monitors) if (side(w) !== side(target)) queue.push([w, "DOWN", target]);
  while (queue.length > 0) {
    const [to, kind, from] = queue.shift()!;
    if (dead.has(to)) continue;
    if (kind === "DOWN" || traps.get(to)) { gets.get(to)!.push(kind + " " + from); continue; }
    dead.add(to);
    for (const [a, b] of t.links) {
      const other = a === to ? b : b === to ? a : undefined;
      if (other !== undefined && other !== from && side(other) === side(to)) queue.push([other, "EXIT", to]);
    }
    for (const [w, target] of t.monitors) if (target === to && side(w) === side(to)) queue.push([w, "DOWN", to]);
  }
  const out: Record<string, Fate> = {};
  for (const p of t.procs) out[p.name] = dead.has(p.name) ? { dies: "noconnection" } : { gets: gets.get(p.name)!.sort() };
  return out;
}`,
    },
  },
  {
    why: "a watcher that registers once and never watches the holder: the singleton does not move",
    fails: "l13-ex2-tests",
    cells: {
      "l13-ex2-solution": `function watcher(name: string, work: () => Generator<unknown, unknown, unknown>): () => Generator<unknown, void, unknown> {
  return function* () {
    const mine = spawn(work);
    if (Global.registerName(name, mine) !== "yes") exit(mine, "kill");
    yield* receive(() => false);
  };
}`,
    },
  },
];

const LESSONS: Array<[string, Wrong[]]> = [
  ["12-names-registry-partitions", LESSON_12],
  ["13-distribution", LESSON_13],
  ["14-capstone-chat", LESSON_14],
];

describe.each(LESSONS)("%s: wrong solutions lose the points of their exercise", (lesson, wrongs) => {
  it.each(wrongs.map((w, i) => [w.why, w, i] as const))("%s", async (_why, w, i) => {
    const scores = await gradeWrong(lesson, w, i);
    for (const [id, [score, max]] of Object.entries(scores)) {
      if (id === w.fails) expect(score, id).toBe(0);
      else expect(score, id).toBe(max);
    }
  }, 120_000);
});
