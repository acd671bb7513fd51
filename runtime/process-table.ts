/**
 * The runtime's live processes, oldest first: a doubly linked list through the `Pid`s (`prevLive`/`nextLive`).
 *
 * It was a `Map<id, Pid>`; nothing looks processes up by number, and the Map's hashing, growing and shrinking
 * were a tenth of the cost of a spawn and exit. Adding and removing here are a few pointer writes.
 */
import type { Pid } from "./process.js";

export class ProcessTable {
  private first: Pid | null = null;
  private last: Pid | null = null;
  /** Live processes. */
  size = 0;

  add(p: Pid): void {
    p.prevLive = this.last;
    p.nextLive = null;
    if (this.last) this.last.nextLive = p;
    else this.first = p;
    this.last = p;
    this.size++;
  }

  /** Removes `p` (a process not in the table is left alone). */
  delete(p: Pid): void {
    const prev = p.prevLive;
    const next = p.nextLive;
    if (prev === null && this.first !== p) return;
    if (prev) prev.nextLive = next;
    else this.first = next;
    if (next) next.prevLive = prev;
    else this.last = prev;
    p.prevLive = null;
    p.nextLive = null;
    this.size--;
  }

  /** The live process with this number, if any (a scan: for introspection, not hot paths). */
  get(id: number): Pid | undefined {
    for (let p = this.first; p; p = p.nextLive) if (p.id === id) return p;
    return undefined;
  }

  /** Live processes, oldest first. Copy them (`[...table.values()]`) before killing any while iterating. */
  *values(): IterableIterator<Pid> {
    for (let p = this.first; p; p = p.nextLive) yield p;
  }
}
