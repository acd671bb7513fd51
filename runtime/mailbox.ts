/**
 * A process mailbox: FIFO with selective removal (Erlang's `receive` with patterns).
 *
 * An array with a moving head keeps `shift` O(1) without a linked list node per message; the array is
 * compacted once the consumed prefix dominates.
 */

import type { Term } from "./terms.js";

export class Mailbox {
  private items: Term[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(msg: Term): void {
    this.items.push(msg);
  }

  shift(): Term {
    const msg = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= 64 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return msg;
  }

  /** Index (relative to the head) of the first message matching `match`, or -1. */
  find(match: (m: Term) => boolean): number {
    const items = this.items;
    for (let i = this.head; i < items.length; i++) if (match(items[i])) return i - this.head;
    return -1;
  }

  removeAt(index: number): Term {
    if (index === 0) return this.shift();
    return this.items.splice(this.head + index, 1)[0];
  }

  /** Messages in arrival order (a copy, for introspection). */
  toArray(): Term[] {
    return this.items.slice(this.head);
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
