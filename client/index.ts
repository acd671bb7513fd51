/**
 * `otp-lab/client`: a typed client of the control channel (comm target `otp-lab.control`) of an otp-lab kernel
 * running in a Jupyter server, on `@jupyterlab/services`. It is a client of the kernel, not part of it: it
 * talks to the server's REST and WebSocket API as JupyterLab does.
 *
 * @example
 * const lab = await OtpLab.connect({ url: "http://127.0.0.1:8888/", token });   // starts an otp-lab kernel
 * await lab.execute('defmodule("Counter", { init: (n: number) => ["ok", n] })');
 * const { pid } = await lab.startSupervisor({ strategy: "one_for_one", children: [{ id: "a", module: "Counter", arg: 0 }] });
 * const events = lab.subscribe("supervisor", { sup: pid });
 * await lab.kill((await lab.tree(pid)).root.children![0]!.pid!);
 * for await (const ev of events) console.log(ev.data);   // the report, then the restart
 */
import { KernelAPI, KernelConnection, ServerConnection, type Kernel, type KernelMessage } from "@jupyterlab/services";
import WebSocket from "ws";
import type { ProcessInfoJSON, RuntimeEvent, Strategy, TreeSnapshot } from "../runtime/observe.js";

export type { ProcessInfoJSON, RuntimeEvent, Strategy, TreeSnapshot };

export const CONTROL_TARGET = "otp-lab.control";

export interface ConnectOptions {
  /** The Jupyter server's base URL, e.g. `http://127.0.0.1:8888/`. */
  url: string;
  /** The server's token (`jupyter server --ServerApp.token=...`). */
  token?: string;
  /** Attach to this running kernel instead of starting one. */
  kernelId?: string;
  /** The kernelspec to start (default `otp-lab`). */
  kernelName?: string;
  /** Time limit of each request, ms (default 30,000). */
  timeoutMs?: number;
}

/** A child spec as data: a GenServer of a module defined with `defmodule`, a generic worker holding `arg`, or a supervisor. */
export type ChildSpecData =
  | { id: string | number; module?: string; arg?: unknown; restart?: "permanent" | "transient" | "temporary"; shutdown?: number | "brutal_kill" | "infinity"; type?: "worker" }
  | { id: string | number; type: "supervisor"; strategy?: Strategy; intensity?: number; period?: number; children: ChildSpecData[]; restart?: "permanent" | "transient" | "temporary" };

export interface SupervisorSpec {
  strategy?: Strategy;
  intensity?: number;
  period?: number;
  /** Registers the supervisor under this name. */
  name?: string;
  children: ChildSpecData[];
}

export interface SupervisorSummary {
  pid: string;
  name?: string;
  behaviour: "supervisor" | "dynamic_supervisor";
  strategy?: Strategy;
  children: number;
  /** The supervisor above it, if any. */
  supervisor?: string;
}

/** What `subscribe` yields. */
export type ControlEvent =
  | { event: "supervisor"; subscription: string; data: Extract<RuntimeEvent, { type: "restart" | "report" }> }
  | { event: "code"; subscription: string; data: Extract<RuntimeEvent, { type: "code_load" | "code_purge" | "code_change" }> }
  | { event: "process"; subscription: string; pid: string; alive: true; state: unknown }
  | { event: "process"; subscription: string; pid: string; alive: false; reason: string };

export type Topic = ControlEvent["event"];

/** A request the kernel refused or that failed; `message` says why and how to fix it. */
export class ControlError extends Error {
  constructor(
    message: string,
    readonly op: string,
    /** OTP's reason when the runtime answered `["error", reason]`. */
    readonly reason?: unknown,
  ) {
    super(message);
    this.name = "ControlError";
  }
}

interface Pending {
  op: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Queue {
  events: ControlEvent[];
  wake: (() => void) | null;
  done: boolean;
}

export class OtpLab {
  private readonly pending = new Map<number, Pending>();
  private readonly queues = new Map<string, Queue>();
  private nextId = 1;
  private closed = false;

  private constructor(
    readonly kernel: Kernel.IKernelConnection,
    private readonly comm: Kernel.IComm,
    private readonly started: boolean,
    private readonly timeoutMs: number,
  ) {
    comm.onMsg = (msg) => this.receive(msg.content.data as Record<string, unknown>);
    comm.onClose = () => this.fail("the kernel closed the control channel (is it an otp-lab kernel? its kernelspec must be otp-lab)");
  }

  /** Connects to a Jupyter server, starts an `otp-lab` kernel (or attaches to `kernelId`) and opens the control channel. */
  static async connect(options: ConnectOptions): Promise<OtpLab> {
    const serverSettings = ServerConnection.makeSettings({
      baseUrl: options.url,
      token: options.token ?? "",
      appendToken: true,
      fetch: globalThis.fetch,
      // Node 20 has no WebSocket global; the `ws` package has the same constructor.
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    let model: Kernel.IModel;
    const started = !options.kernelId;
    if (options.kernelId) {
      const found = await KernelAPI.getKernelModel(options.kernelId, serverSettings);
      if (!found) throw new Error(`OtpLab.connect: no kernel ${options.kernelId} on ${options.url}; omit kernelId to start one`);
      model = found;
    } else {
      model = await KernelAPI.startNew({ name: options.kernelName ?? "otp-lab" }, serverSettings);
    }
    const kernel = new KernelConnection({ model, serverSettings, handleComms: true });
    const comm = kernel.createComm(CONTROL_TARGET);
    const lab = new OtpLab(kernel, comm, started, options.timeoutMs ?? 30_000);
    try {
      await kernel.info;
      await comm.open({}).done;
    } catch (err) {
      await lab.close();
      throw err;
    }
    return lab;
  }

  /** The kernel's id on the server (pass it as `kernelId` to attach another client). */
  get kernelId(): string {
    return this.kernel.id;
  }

  /** Sends one request and resolves to its `result`; rejects with a `ControlError` when the reply is `ok: false`. */
  request<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.closed) return Promise.reject(new ControlError(`${op}: the client is closed; connect again`, op));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ControlError(`${op}: no reply within ${this.timeoutMs} ms; is the kernel busy with a long cell?`, op));
      }, this.timeoutMs);
      this.pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject, timer });
      this.comm.send({ ...args, id, op });
    });
  }

  listSupervisors(): Promise<SupervisorSummary[]> {
    return this.request("list_supervisors");
  }

  startSupervisor(spec: SupervisorSpec): Promise<{ pid: string; tree: TreeSnapshot }> {
    return this.request("start_supervisor", { ...spec });
  }

  tree(sup: string): Promise<TreeSnapshot> {
    return this.request("tree", { sup });
  }

  /** Starts a child under `sup`; resolves to OTP's `["ok", pid]`. */
  addChild(sup: string, spec: ChildSpecData): Promise<["ok", string]> {
    return this.request("add_child", { sup, spec });
  }

  /** Terminates and deletes child `child` (its id; a DynamicSupervisor's child: its pid). */
  removeChild(sup: string, child: string | number): Promise<unknown> {
    return this.request("remove_child", { sup, child });
  }

  /** Terminates child `child` if it runs, then restarts it; resolves to `["ok", pid]`. */
  restartChild(sup: string, child: string | number): Promise<["ok", string]> {
    return this.request("restart_child", { sup, child });
  }

  /** `Process.exit(pid, reason)`; the default `kill` cannot be trapped. */
  kill(pid: string, reason?: unknown): Promise<{ pid: string }> {
    return this.request("kill", reason === undefined ? { pid } : { pid, reason });
  }

  /** Makes the process fail with `reason`: "error" (a RuntimeError, the default), "normal", "shutdown", "kill" or any JSON term. */
  crash(pid: string, reason?: unknown): Promise<{ pid: string }> {
    return this.request("crash", reason === undefined ? { pid } : { pid, reason });
  }

  injectDelay(pid: string, ms: number): Promise<{ pid: string; ms: number }> {
    return this.request("inject_delay", { pid, ms });
  }

  processInfo(pid: string): Promise<ProcessInfoJSON> {
    return this.request("process_info", { pid });
  }

  /** A GenServer's state, read without a message to it. */
  state<T = unknown>(pid: string): Promise<T> {
    return this.request("state", { pid });
  }

  /** Loads the module again as a new version and migrates its servers (`hotSwap`). */
  reload(module: string): Promise<{ module: string; version: number; servers: { pid: string; result: unknown }[] }> {
    return this.request("reload", { module });
  }

  /**
   * Subscribes now to the events of a topic and returns them as an async iterable (events that come before the
   * iteration starts are kept): `supervisor` (restarts and reports, of `sup` and below, or of all), `process` (the
   * state of `pid` whenever it changes, then its exit) or `code` (loads, purges, code changes). Leaving the
   * `for await` loop unsubscribes.
   */
  subscribe(topic: "supervisor", args?: { sup?: string }): AsyncIterable<Extract<ControlEvent, { event: "supervisor" }>>;
  subscribe(topic: "process", args: { pid: string }): AsyncIterable<Extract<ControlEvent, { event: "process" }>>;
  subscribe(topic: "code"): AsyncIterable<Extract<ControlEvent, { event: "code" }>>;
  subscribe(topic: Topic, args: Record<string, unknown> = {}): AsyncIterable<ControlEvent> {
    // Subscribed at once, so that events of what the caller does next are kept until it iterates.
    let id: string | null = null;
    const queue: Queue = { events: [], wake: null, done: false };
    const ready = this.request<{ subscription: string }>("subscribe", { ...args, topic }).then((r) => {
      id = r.subscription;
      if (queue.done) void this.request("unsubscribe", { subscription: id }).catch(() => undefined);
      else this.queues.set(id, queue);
    });
    // An unhandled rejection here would be reported twice: the first next() rejects with it.
    ready.catch(() => undefined);
    const stop = async (): Promise<IteratorResult<ControlEvent>> => {
      queue.done = true;
      queue.wake?.();
      if (id !== null && this.queues.delete(id) && !this.closed) await this.request("unsubscribe", { subscription: id }).catch(() => undefined);
      return { value: undefined, done: true };
    };
    const iterator: AsyncIterator<ControlEvent> = {
      async next(): Promise<IteratorResult<ControlEvent>> {
        await ready;
        for (;;) {
          const ev = queue.events.shift();
          if (ev) {
            // A followed process's exit is its last event.
            if (ev.event === "process" && !ev.alive) queue.done = true;
            return { value: ev, done: false };
          }
          if (queue.done) return { value: undefined, done: true };
          await new Promise<void>((r) => (queue.wake = r));
        }
      },
      return: stop,
    };
    return { [Symbol.asyncIterator]: () => iterator };
  }

  /** Runs `code` as a cell of the kernel; resolves to the text of its value (or undefined); rejects on an error. */
  async execute(code: string): Promise<string | undefined> {
    const future = this.kernel.requestExecute({ code, stop_on_error: false });
    let text: string | undefined;
    let error: string | undefined;
    future.onIOPub = (msg: KernelMessage.IIOPubMessage) => {
      if (msg.header.msg_type === "execute_result") text = String((msg.content as KernelMessage.IExecuteResultMsg["content"]).data["text/plain"] ?? "");
      if (msg.header.msg_type === "error") {
        const c = msg.content as KernelMessage.IErrorMsg["content"];
        error = `${c.ename}: ${c.evalue}`;
      }
    };
    await future.done;
    if (error) throw new Error(`the cell failed: ${error}`);
    return text;
  }

  /** Closes the control channel; shuts the kernel down if this client started it (unless `keepKernel`). */
  async close(options: { keepKernel?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.fail("the client was closed");
    try {
      if (!this.comm.isDisposed) this.comm.close();
    } catch {
      // The connection may already be gone.
    }
    if (this.started && !options.keepKernel) await this.kernel.shutdown().catch(() => undefined);
    this.kernel.dispose();
  }

  private receive(data: Record<string, unknown>): void {
    if (typeof data?.event === "string") {
      const q = typeof data.subscription === "string" ? this.queues.get(data.subscription) : undefined;
      if (!q || q.done) return;
      q.events.push(data as unknown as ControlEvent);
      q.wake?.();
      q.wake = null;
      return;
    }
    const p = typeof data?.id === "number" ? this.pending.get(data.id) : undefined;
    if (!p) return;
    this.pending.delete(data.id as number);
    clearTimeout(p.timer);
    if (data.ok === true) p.resolve(data.result);
    else {
      const e = (data.error ?? {}) as { message?: string; reason?: unknown };
      p.reject(new ControlError(e.message ?? `${p.op} failed`, p.op, e.reason));
    }
  }

  private fail(why: string): void {
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ControlError(`${p.op}: ${why}`, p.op));
      this.pending.delete(id);
    }
    for (const q of this.queues.values()) {
      q.done = true;
      q.wake?.();
    }
    this.queues.clear();
  }
}
