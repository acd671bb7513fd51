/**
 * `Op<T>`: one blocking operation (a call, a start, a sleep) usable from both sides of the process boundary.
 *
 * - Inside a process (a generator body or callback): `const r = yield* GenServer.call(pid, req)` blocks that
 *   process only, exactly like a receive in Erlang.
 * - Outside any process (a notebook cell, a test): `const r = await GenServer.call(pid, req)` runs it in a
 *   temporary driver process; with the virtual clock it completes at once, moving time as far as it needs.
 *   `.sync()` does the same without a promise.
 *
 * No promise is created per message: promises appear only where outside code awaits.
 */

import type { Blocking } from "./process.js";
import type { Runtime } from "./runtime.js";

export class Op<T> implements PromiseLike<T> {
  constructor(
    private readonly rt: Runtime,
    private readonly body: () => Blocking<T>,
    /** How the operation is named in error messages, e.g. "GenServer.call(...)". */
    readonly what: string,
  ) {}

  [Symbol.iterator](): Blocking<T> {
    return this.body();
  }

  /** Runs to completion now (virtual clock) and returns the value; throws `ExitSignal` if the caller would exit. */
  sync(): T {
    return this.rt.runSync(this.body, this.what);
  }

  then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.rt.runAsync(this.body, this.what).then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.then(undefined, onRejected);
  }
}
