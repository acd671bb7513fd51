/**
 * The runtime's event stream: every spawn, exit, restart, supervisor report, code load (and, when tracing is
 * on, every message and exit signal), in the order it happened.
 *
 * Visualisations, lessons and the grader read it. It is bounded (the oldest events are dropped past `capacity`)
 * so a long-running notebook does not grow without limit; `dropped` says how many went.
 *
 * Storage: a ring buffer in columns (see `Chunk`). The events a process or a restart writes (spawn, exit,
 * restart, supervisor report) are kept as numbers (kind, time, pid numbers) and shared strings, and become
 * objects only when read. Kept as objects they cost a few hundred bytes for each process or restart that the
 * log holds on to, so every one of them survived the young-generation collections and was copied into the
 * old generation: the garbage collector took a third of the time of a spawn-heavy loop (bench row
 * "spawn + exit"), and the events a sixth of a restart. Other events are stored as the object pushed.
 */

import type { ReportContext, RuntimeEvent } from "./observe.js";
import { JUPYTER_DISPLAY, renderAs, type MimeBundle } from "./display-hook.js";

export type EventListener = (e: RuntimeEvent) => void;

/** Entry kinds: an object as pushed, or a compact event of one type. */
const K_OBJECT = 0;
const K_SPAWN = 1;
const K_EXIT = 2;
const K_RESTART = 3;
const K_REPORT = 4;
const TYPE_OF_KIND = [null, "spawn", "exit", "restart", "report"] as const;
/** "No pid" in a pid column. */
const NONE = -1;
/** Entries per chunk (a power of two). */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const IN_CHUNK = CHUNK - 1;

type Ev<K extends RuntimeEvent["type"]> = Extract<RuntimeEvent, { type: K }>;

/** The label of pid number `id`, as `Pid.label` writes it: `tags` has the node number of a process of another node. */
function pidLabel(id: number, tags: Map<number, number> | null): string {
  const tag = tags === null ? undefined : tags.get(id);
  return `<${tag ?? 0}.${id}.0>`;
}

/**
 * 4,096 entries in columns. The log is a ring over a list of chunks that grows a chunk at a time until it
 * holds `capacity` entries: growing never copies (a log that doubled its columns instead spent a tenth of
 * a spawn-heavy loop copying them), and no array is large enough for V8 to store it as a dictionary.
 *
 * What the columns hold, by kind:
 *   spawn:   p0 pid, p1 parent, s0 behaviour, s1 module, num version (NaN: none)
 *   exit:    p0 pid, s0 reason
 *   restart: p0 sup, p1 oldPid, p2 newPid, s0 id, num reaction
 *   report:  p0 sup, p1 child, s0 context, s1 id, s2 reason
 *   object:  s0 the event
 * A pid column holds NONE, and a string column undefined, for an absent key.
 */
class Chunk {
  readonly kinds = new Uint8Array(CHUNK);
  readonly times = new Float64Array(CHUNK);
  readonly p0 = new Int32Array(CHUNK);
  readonly p1 = new Int32Array(CHUNK);
  readonly p2 = new Int32Array(CHUNK);
  readonly num = new Float64Array(CHUNK);
  // `new Array(n).fill()`: Array.from with a mapping function called back 4,096 times per column.
  readonly s0: unknown[] = new Array(CHUNK).fill(undefined);
  readonly s1: unknown[] = new Array(CHUNK).fill(undefined);
  readonly s2: unknown[] = new Array(CHUNK).fill(undefined);
}

export class EventLog {
  private chunks: Chunk[] = [new Chunk()];
  /** Slots in all chunks. */
  private slots = CHUNK;
  /** Slot of the oldest event, and how many are kept. */
  private head = 0;
  private count = 0;
  private listeners: EventListener[] = [];
  /** Events discarded because the log was full. */
  dropped = 0;
  /**
   * Node numbers of the processes spawned on other nodes (net.ts), by pid number, so that compact events print
   * their pids as `Pid.label` does (`<24970.81.0>`). Null while the runtime has one node.
   */
  nodeTags: Map<number, number> | null = null;
  /** When true, `send` and `signal` events are recorded too (off by default: they cost per message). */
  traceMessages = false;
  /** Events kept (older ones are dropped). */
  readonly capacity: number;

  constructor(capacity = 100_000) {
    this.capacity = Math.max(1, Math.floor(capacity));
  }

  push(e: RuntimeEvent): void {
    this.record(K_OBJECT, NaN, NONE, NONE, NONE, NaN, e, undefined, undefined);
  }

  /**
   * Records `{ type: "spawn", t, pid, parent?, behaviour?, module?, version? }` (pids as numbers, -1 for no
   * parent; module and version together or neither) without making the object (see the header).
   */
  pushSpawn(t: number, pid: number, parent: number, behaviour: string | undefined, module?: string, version?: number): void {
    this.record(K_SPAWN, t, pid, parent, NONE, version ?? NaN, behaviour, module, undefined);
  }

  /** Records `{ type: "exit", t, pid, reason }` for pid number `pid` (an unnamed process). */
  pushExit(t: number, pid: number, reason: string): void {
    this.record(K_EXIT, t, pid, NONE, NONE, NaN, reason, undefined, undefined);
  }

  /** Records `{ type: "restart", t, sup, id, oldPid?, newPid?, reaction }` (pid numbers, -1 when absent). */
  pushRestart(t: number, sup: number, id: string, oldPid: number, newPid: number, reaction: number): void {
    this.record(K_RESTART, t, sup, oldPid, newPid, reaction, id, undefined, undefined);
  }

  /** Records `{ type: "report", t, sup, context, child?, id?, reason }` (child a pid number, -1 when absent). */
  pushReport(t: number, sup: number, context: ReportContext, child: number, id: string | undefined, reason: string): void {
    this.record(K_REPORT, t, sup, child, NONE, NaN, context, id, reason);
  }

  private record(kind: number, t: number, a: number, b: number, c: number, n: number, s0: unknown, s1: unknown, s2: unknown): void {
    const i = this.slot();
    const ch = this.chunks[i >> CHUNK_BITS];
    const j = i & IN_CHUNK;
    ch.kinds[j] = kind;
    ch.times[j] = t;
    ch.p0[j] = a;
    ch.p1[j] = b;
    ch.p2[j] = c;
    ch.num[j] = n;
    ch.s0[j] = s0;
    ch.s1[j] = s1;
    ch.s2[j] = s2;
    if (this.listeners.length > 0) this.notify(this.materialise(i));
  }

  /**
   * The slot for a new event: drops the oldest when the log holds `capacity` events, adds a chunk when every
   * slot is taken before that (the ring has not wrapped then: `head` is 0, so the new chunk goes at the end).
   */
  private slot(): number {
    if (this.count >= this.capacity) {
      const c = this.chunks[this.head >> CHUNK_BITS];
      const j = this.head & IN_CHUNK;
      c.s0[j] = c.s1[j] = c.s2[j] = undefined;
      if (++this.head === this.slots) this.head = 0;
      this.count--;
      this.dropped++;
    } else if (this.count === this.slots) {
      this.chunks.push(new Chunk());
      this.slots += CHUNK;
    }
    const i = this.index(this.count);
    this.count++;
    return i;
  }

  /** The slot of the `n`th retained event, oldest first. */
  private index(n: number): number {
    const i = this.head + n;
    return i >= this.slots ? i - this.slots : i;
  }

  private notify(e: RuntimeEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A broken listener (e.g. a live view of a closed display) must not break the runtime.
      }
    }
  }

  /** The event in slot `i` as an object (made anew for compact entries; same keys in the same order). */
  private materialise(i: number): RuntimeEvent {
    const c = this.chunks[i >> CHUNK_BITS];
    const j = i & IN_CHUNK;
    const t = c.times[j];
    switch (c.kinds[j]) {
      case K_SPAWN: {
        const e: Ev<"spawn"> = { type: "spawn", t, pid: pidLabel(c.p0[j], this.nodeTags) };
        if (c.p1[j] !== NONE) e.parent = pidLabel(c.p1[j], this.nodeTags);
        if (c.s0[j] !== undefined) e.behaviour = c.s0[j] as string;
        if (c.s1[j] !== undefined) e.module = c.s1[j] as string;
        if (!Number.isNaN(c.num[j])) e.version = c.num[j];
        return e;
      }
      case K_EXIT:
        return { type: "exit", t, pid: pidLabel(c.p0[j], this.nodeTags), reason: c.s0[j] as string } satisfies Ev<"exit">;
      case K_RESTART: {
        const e: Ev<"restart"> = { type: "restart", t, sup: pidLabel(c.p0[j], this.nodeTags), id: c.s0[j] as string };
        if (c.p1[j] !== NONE) e.oldPid = pidLabel(c.p1[j], this.nodeTags);
        if (c.p2[j] !== NONE) e.newPid = pidLabel(c.p2[j], this.nodeTags);
        e.reaction = c.num[j];
        return e;
      }
      case K_REPORT: {
        const e = { type: "report", t, sup: pidLabel(c.p0[j], this.nodeTags), context: c.s0[j] } as Ev<"report">;
        if (c.p1[j] !== NONE) e.child = pidLabel(c.p1[j], this.nodeTags);
        if (c.s1[j] !== undefined) e.id = c.s1[j] as string;
        e.reason = c.s2[j] as string;
        return e;
      }
      default:
        return c.s0[j] as RuntimeEvent;
    }
  }

  /** The `n`th retained event, oldest first. */
  private at(n: number): RuntimeEvent {
    return this.materialise(this.index(n));
  }

  /** All retained events (a new array), at most `capacity` of them. */
  all(): RuntimeEvent[] {
    const out = new Array<RuntimeEvent>(this.count);
    for (let n = 0; n < this.count; n++) out[n] = this.at(n);
    return out;
  }

  get length(): number {
    return this.count;
  }

  /** Events with `t` in [from, to]. */
  between(from: number, to = Infinity): RuntimeEvent[] {
    return this.all().filter((e) => e.t >= from && e.t <= to);
  }

  ofType<K extends RuntimeEvent["type"]>(type: K): Extract<RuntimeEvent, { type: K }>[] {
    const out: Extract<RuntimeEvent, { type: K }>[] = [];
    for (let n = 0; n < this.count; n++) {
      const i = this.index(n);
      const c = this.chunks[i >> CHUNK_BITS];
      const k = c.kinds[i & IN_CHUNK];
      // Compact entries are only materialised when they are of the wanted type.
      if ((k === K_OBJECT ? (c.s0[i & IN_CHUNK] as RuntimeEvent).type : TYPE_OF_KIND[k]) !== type) continue;
      out.push(this.materialise(i) as Extract<RuntimeEvent, { type: K }>);
    }
    return out;
  }

  /** Calls `fn` for every future event; returns the unsubscribe function. */
  subscribe(fn: EventListener): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  clear(): void {
    this.chunks = [new Chunk()];
    this.slots = CHUNK;
    this.head = 0;
    this.count = 0;
    this.dropped = 0;
  }

  [JUPYTER_DISPLAY](): MimeBundle {
    return renderAs("events", this, () => this.all().map((e) => JSON.stringify(e)).join("\n"));
  }
}
