/**
 * Talks to one side of a comparison running in its own OS process (a Node worker or `erl`): one request per
 * line on stdin, one `@@BENCH {json}` line per answer on stdout. Separate processes keep each side's heap,
 * JIT state and garbage out of the other side's figures, and let the orchestrator alternate them.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export const MARK = "@@BENCH ";

export class Side {
  /**
   * @param {string} name for error messages
   * @param {string} cmd
   * @param {string[]} args
   * @param {(req: object) => string} encode how a request is written on the worker's stdin
   */
  constructor(name, cmd, args, encode = (req) => JSON.stringify(req), opts = {}) {
    this.name = name;
    this.encode = encode;
    this.proc = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], ...opts });
    this.waiting = null;
    this.stderr = "";
    this.exited = null;
    this.proc.stderr.on("data", (d) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    this.proc.on("exit", (code, signal) => {
      this.exited = { code, signal };
      this.waiting?.reject(new Error(`${this.name} exited (${signal ?? code}) while measuring. ${this.stderr.trim().slice(-600)}`));
      this.waiting = null;
    });
    this.proc.on("error", (err) => {
      this.exited = { code: -1 };
      this.waiting?.reject(err);
      this.waiting = null;
    });
    createInterface({ input: this.proc.stdout }).on("line", (line) => {
      if (!line.startsWith(MARK) || !this.waiting) return;
      const w = this.waiting;
      this.waiting = null;
      clearTimeout(w.timer);
      try {
        const v = JSON.parse(line.slice(MARK.length));
        if (v.error) w.reject(new Error(`${this.name}: ${v.error}`));
        else w.resolve(v);
      } catch (err) {
        w.reject(err);
      }
    });
  }

  /** Sends one request; rejects after `timeoutMs` (the worker is then killed: its state is unknown). */
  request(req, timeoutMs = 120_000) {
    if (this.exited) return Promise.reject(new Error(`${this.name} is not running (${JSON.stringify(this.exited)}). ${this.stderr.trim().slice(-600)}`));
    if (this.waiting) return Promise.reject(new Error(`${this.name} is busy`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        this.kill();
        reject(new Error(`${this.name} took more than ${Math.round(timeoutMs / 1000)} s for ${JSON.stringify(req)}`));
      }, timeoutMs);
      this.waiting = { resolve, reject, timer };
      this.proc.stdin.write(this.encode(req) + "\n");
    });
  }

  kill() {
    if (!this.exited) this.proc.kill("SIGKILL");
  }

  close() {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.kill();
        resolve();
      }, 3000);
      this.proc.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      this.proc.stdin.end();
    });
  }
}

/** The worker half: calls `handlers[op](req)` for each request line and answers with its result. */
export function serve(handlers) {
  const out = (v) => process.stdout.write(MARK + JSON.stringify(v) + "\n");
  const rl = createInterface({ input: process.stdin });
  let chain = Promise.resolve();
  rl.on("line", (line) => {
    chain = chain.then(async () => {
      let req;
      try {
        req = JSON.parse(line);
        const h = handlers[req.op];
        if (!h) throw new Error(`unknown op ${req.op}`);
        // Each request starts from a collected heap, as each BEAM request runs in a fresh process whose heap
        // goes when it ends: otherwise the garbage one repetition leaves (100,000 dead processes) is collected
        // by a major GC in the middle of the next, which measured 0.5x to 3x of the median at random.
        global.gc?.();
        out(await h(req));
      } catch (err) {
        out({ error: String(err?.stack ?? err) });
      }
    });
  });
  rl.on("close", () => chain.then(() => process.exit(0)));
}
