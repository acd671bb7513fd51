/**
 * The runtime's event stream: every spawn, exit, restart, supervisor report, code load (and, when tracing is
 * on, every message and exit signal), in the order it happened.
 *
 * Visualisations, lessons and the grader read it. It is bounded (the oldest events are dropped past `capacity`)
 * so a long-running notebook does not grow without limit; `dropped` says how many went.
 *
 * Storage: a ring buffer in columns (see `Chunk`). The two events every process writes (its spawn and its exit)
 * are kept as numbers (kind, time, pid, parent) plus one shared string, and become objects only when read.
 * Kept as objects they cost about 300 bytes per process that the log holds on to, so every one of them
 * survived the young-generation collections and was copied into the old generation: the garbage collector
 * took a third of the time of a spawn-heavy loop (bench row "spawn + exit"). Every other event is stored as
 * the object it was pushed as.
 */

import type { RuntimeEvent } from "./observe.js";
import { JUPYTER_DISPLAY, renderAs, type MimeBundle } from "./display-hook.js";

export type EventListener = (e: RuntimeEvent) => void;

/** Entry kinds: an object as pushed, or a compact spawn / exit. */
const K_OBJECT = 0;
const K_SPAWN = 1;
const K_EXIT = 2;
/** "No parent" in the parent column. */
const NONE = -1;
/** Entries per chunk (a power of two). */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;
const IN_CHUNK = CHUNK - 1;

type SpawnEvent = Extract<RuntimeEvent, { type: "spawn" }>;
type ExitEvent = Extract<RuntimeEvent, { type: "exit" }>;

/** The label of pid number `id`, as `Pid.label` writes it. */
function pidLabel(id: number): string {
  return `<0.${id}.0>`;
}

/**
 * 4,096 entries in columns. The log is a ring over a list of chunks that grows a chunk at a time until it
 * holds `capacity` entries: growing never copies (a log that doubled its columns instead spent a tenth of
 * a spawn-heavy loop copying them), and no array is large enough for V8 to store it as a dictionary.
 */
class Chunk {
  readonly kinds = new Uint8Array(CHUNK);
  readonly times = new Float64Array(CHUNK);
  readonly pids = new Int32Array(CHUNK);
  readonly parents = new Int32Array(CHUNK);
  /** The event object (K_OBJECT), the behaviour (K_SPAWN, may be undefined) or the reason text (K_EXIT). */
  readonly refs: unknown[] = Array.from({ length: CHUNK }, () => undefined);
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
  /** When true, `send` and `signal` events are recorded too (off by default: they cost per message). */
  traceMessages = false;
  /** Events kept (older ones are dropped). */
  readonly capacity: number;

  constructor(capacity = 100_000) {
    this.capacity = Math.max(1, Math.floor(capacity));
  }

  push(e: RuntimeEvent): void {
    const i = this.slot();
    const c = this.chunks[i >> CHUNK_BITS];
    c.kinds[i & IN_CHUNK] = K_OBJECT;
    c.refs[i & IN_CHUNK] = e;
    if (this.listeners.length > 0) this.notify(e);
  }

  /**
   * Records `{ type: "spawn", t, pid, parent?, behaviour? }` for pid number `pid` (parent: a pid number or -1),
   * without making the object (see the header).
   */
  pushSpawn(t: number, pid: number, parent: number, behaviour: string | undefined): void {
    this.pushCompact(K_SPAWN, t, pid, parent, behaviour);
  }

  /** Records `{ type: "exit", t, pid, reason }` for pid number `pid` (an unnamed process). */
  pushExit(t: number, pid: number, reason: string): void {
    this.pushCompact(K_EXIT, t, pid, NONE, reason);
  }

  private pushCompact(kind: number, t: number, pid: number, parent: number, ref: string | undefined): void {
    const i = this.slot();
    const c = this.chunks[i >> CHUNK_BITS];
    const j = i & IN_CHUNK;
    c.kinds[j] = kind;
    c.times[j] = t;
    c.pids[j] = pid;
    c.parents[j] = parent;
    c.refs[j] = ref;
    if (this.listeners.length > 0) this.notify(this.materialise(i));
  }

  /**
   * The slot for a new event: drops the oldest when the log holds `capacity` events, adds a chunk when every
   * slot is taken before that (the ring has not wrapped then: `head` is 0, so the new chunk goes at the end).
   */
  private slot(): number {
    if (this.count >= this.capacity) {
      const c = this.chunks[this.head >> CHUNK_BITS];
      c.refs[this.head & IN_CHUNK] = undefined;
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
    switch (c.kinds[j]) {
      case K_SPAWN: {
        const e: SpawnEvent = { type: "spawn", t: c.times[j], pid: pidLabel(c.pids[j]) };
        if (c.parents[j] !== NONE) e.parent = pidLabel(c.parents[j]);
        const behaviour = c.refs[j] as string | undefined;
        if (behaviour !== undefined) e.behaviour = behaviour;
        return e;
      }
      case K_EXIT:
        return { type: "exit", t: c.times[j], pid: pidLabel(c.pids[j]), reason: c.refs[j] as string } satisfies ExitEvent;
      default:
        return c.refs[j] as RuntimeEvent;
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
      if (k === K_SPAWN ? type !== "spawn" : k === K_EXIT ? type !== "exit" : (c.refs[i & IN_CHUNK] as RuntimeEvent).type !== type) continue;
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
