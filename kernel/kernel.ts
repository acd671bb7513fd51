/**
 * The kernel's main thread: runs shell requests, in order, against the executor.
 *
 * The protocol thread (`protocol-thread.ts`) owns the sockets and forwards each verified shell request here;
 * this side answers it and publishes its outputs with the request as parent: `status: busy`, the handler's
 * messages, the reply, then `status: idle` (messaging spec "Request-Reply" and "Kernel status").
 *
 * `stop_on_error`: when a cell fails, the `execute_request`s already queued behind it are answered with status
 * `aborted` and not run (ipykernel's behaviour: "Run All" stops at the first error).
 */
import type { Worker } from "node:worker_threads";
import { Executor, exitProcess, type ExecuteCallbacks, type MimeBundle } from "./executor.js";
import { commInfo, receiveCommClose, receiveCommMsg, receiveCommOpen } from "./comm.js";
import { installControlChannel } from "./control-channel.js";
import { History, type HistoryRequest } from "./history.js";
import { output } from "./output.js";
import type { FromMain, ToMain } from "./kernel-messages.js";
import type { MessageHeader } from "./wire.js";
import { kernelInfoContent } from "./kernel-info.js";
import { log } from "./log.js";

type Request = Extract<ToMain, { kind: "request" }>;

export interface KernelOptions {
  /** The protocol thread, started by kernel-command.ts before this module was even loaded. */
  protocol: Worker;
  interruptBuffer: SharedArrayBuffer;
  /**
   * What the protocol thread sent before this module loaded, kept by a listener of the caller's; `stop` removes
   * that listener. Taken over in one go, so that no message is lost or handled twice.
   */
  buffered?: { messages: unknown[]; stop(): void };
}

export async function startKernel({ protocol, interruptBuffer, buffered }: KernelOptions): Promise<void> {
  log("starting kernel");
  const send = (m: FromMain) => protocol.postMessage(m);

  // Requests can arrive before the preload is done (a client need not wait for kernel_info): keep them.
  let kernel: Kernel | null = null;
  const early: ToMain[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    const handle = (m: ToMain) => {
      if (m.kind === "ready") resolve();
      else if (m.kind === "fatal") reject(new Error(`cannot bind the kernel's sockets: ${m.message}`));
      else if (kernel) kernel.receive(m);
      else early.push(m);
    };
    protocol.on("message", handle);
    if (buffered) {
      buffered.stop();
      for (const m of buffered.messages.splice(0)) handle(m as ToMain);
    }
    protocol.once("error", reject);
  });

  // Preload and the sockets start together; kernel_info is answered as soon as both are done.
  const [executor] = await Promise.all([
    Executor.create({ interruptBuffer, protectProcess: true, deferTypeScript: true }),
    ready,
  ]);
  log("executor and sockets ready");
  kernel = new Kernel(executor, send);
  // Front ends and scripts drive the runtime through comms to otp-lab.control (control-channel.ts).
  installControlChannel();
  send({ kind: "info", content: kernel.info() });
  for (const m of early.splice(0)) kernel.receive(m);
  // TypeScript loads after kernel_info has been answered; the first cell usually arrives a little later.
  setTimeout(() => executor.startTypeScript(), 0);
  protocol.on("error", () => exitProcess(1));
  protocol.on("exit", () => exitProcess(0));
}

class Kernel {
  private readonly queue: Request[] = [];
  private running = false;
  /** `execute_request`s queued behind a failed cell, to be answered "aborted" (stop_on_error). */
  private readonly toAbort = new Set<number>();
  private readonly history = new History();
  private inputWaiter: ((v: string) => void) | null = null;

  constructor(
    private readonly executor: Executor,
    private readonly send: (m: FromMain) => void,
  ) {}

  info(): Record<string, unknown> {
    return kernelInfoContent(this.executor.banner());
  }

  receive(m: ToMain): void {
    switch (m.kind) {
      case "request":
        this.queue.push(m);
        void this.pump();
        break;
      case "interrupt":
        this.executor.interrupt.notify(m.seq);
        break;
      case "input_reply":
        this.inputWaiter?.(m.value);
        this.inputWaiter = null;
        break;
      case "shutdown":
        this.send({ kind: "shutdown-ready" });
        break;
      case "exit":
        exitProcess(0);
    }
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const req = this.queue.shift()!;
        try {
          await this.handle(req);
        } catch (err) {
          // A bug here must not stop the queue or leave the frontend waiting: answer with an error reply.
          const content = { status: "error", ename: "KernelError", evalue: String((err as Error)?.message ?? err), traceback: [String((err as Error)?.stack ?? err)] };
          log("handler failed", req.header.msg_type, err);
          if (req.header.msg_type.endsWith("_request")) this.reply(req, req.header.msg_type.replace(/_request$/, "_reply"), content);
        } finally {
          this.send({ kind: "done", id: req.id });
        }
        if (this.queue.length === 0) this.toAbort.clear();
      }
    } finally {
      this.running = false;
    }
  }

  private publish(parent: MessageHeader | null, msgType: string, content: unknown, metadata?: unknown, buffers?: Uint8Array[]): void {
    this.send({
      kind: "iopub",
      parent,
      msgType,
      content: JSON.stringify(content, jsonSafe),
      metadata: metadata === undefined ? undefined : JSON.stringify(metadata, jsonSafe),
      buffers,
    });
  }

  private reply(req: Request, msgType: string, content: unknown, metadata?: unknown): void {
    this.send({
      kind: "reply",
      id: req.id,
      msgType,
      content: JSON.stringify(content, jsonSafe),
      metadata: metadata === undefined ? undefined : JSON.stringify(metadata, jsonSafe),
    });
  }

  /** Output callbacks bound to one request: everything is published with it as parent. */
  private callbacks(req: Request, allowStdin: boolean, onResult?: (data: MimeBundle) => void): ExecuteCallbacks {
    const parent = req.header;
    const count = () => this.executor.executionCount;
    return {
      stream: (name, text) => this.publish(parent, "stream", { name, text }),
      display: (data, metadata, transient, update) =>
        this.publish(parent, update ? "update_display_data" : "display_data", { data, metadata, transient }),
      clearOutput: (wait) => this.publish(parent, "clear_output", { wait }),
      result: (data, metadata) => {
        onResult?.(data);
        this.publish(parent, "execute_result", { execution_count: count(), data, metadata });
      },
      error: (content) => this.publish(parent, "error", content),
      comm: (msgType, content, metadata, buffers) => this.publish(parent, msgType, content, metadata, buffers),
      input: allowStdin
        ? (prompt, password) =>
            new Promise<string>((resolve) => {
              this.inputWaiter = resolve;
              this.send({ kind: "input_request", id: req.id, prompt, password });
            })
        : undefined,
    };
  }

  private async handle(req: Request): Promise<void> {
    const type = req.header.msg_type;
    const c = req.content;
    if (this.toAbort.has(req.id)) {
      this.publish(req.header, "status", { execution_state: "busy" });
      this.reply(req, "execute_reply", { status: "aborted", execution_count: this.executor.executionCount });
      this.publish(req.header, "status", { execution_state: "idle" });
      return;
    }
    this.publish(req.header, "status", { execution_state: "busy" });
    try {
      switch (type) {
        case "execute_request":
          await this.execute(req);
          break;
        case "kernel_info_request":
          this.reply(req, "kernel_info_reply", this.info());
          break;
        case "complete_request": {
          const code = String(c.code ?? "");
          const cursor = cursorOf(c, code);
          const r = await this.executor.complete(code, cursor);
          const start = codePoints(code, r.start);
          const end = codePoints(code, r.end);
          this.reply(req, "complete_reply", {
            status: "ok",
            matches: r.matches,
            cursor_start: start,
            cursor_end: end,
            metadata: {
              _jupyter_types_experimental: r.matches.map((m, i) => ({ start, end, text: m, type: jupyterType(r.kinds[i]) })),
            },
          });
          break;
        }
        case "inspect_request": {
          const code = String(c.code ?? "");
          const r = await this.executor.inspect(code, cursorOf(c, code), Number(c.detail_level ?? 0));
          this.reply(req, "inspect_reply", {
            status: "ok",
            found: r.found,
            data: r.found ? { "text/plain": r.text, "text/markdown": r.markdown } : {},
            metadata: {},
          });
          break;
        }
        case "is_complete_request":
          this.reply(req, "is_complete_reply", await this.executor.isComplete(String(c.code ?? "")));
          break;
        case "history_request":
          this.reply(req, "history_reply", { status: "ok", history: this.history.query(c as HistoryRequest) });
          break;
        case "comm_info_request":
          this.reply(req, "comm_info_reply", { status: "ok", comms: commInfo(typeof c.target_name === "string" ? c.target_name : undefined) });
          break;
        case "comm_open":
        case "comm_msg":
        case "comm_close":
          this.comm(req);
          break;
        case "shutdown_request":
          // Legacy: shutdown on the shell channel.
          this.reply(req, "shutdown_reply", { status: "ok", restart: c.restart === true });
          this.send({ kind: "close" });
          break;
        default:
          // Unknown requests get no reply (as ipykernel); the frontend times out on its own.
          break;
      }
    } finally {
      this.publish(req.header, "status", { execution_state: "idle" });
    }
  }

  private async execute(req: Request): Promise<void> {
    const c = req.content;
    const code = String(c.code ?? "");
    const silent = c.silent === true;
    const storeHistory = silent ? false : c.store_history !== false;
    const stopOnError = c.stop_on_error !== false;
    const next = this.executor.executionCount + (storeHistory ? 1 : 0);
    if (!silent) this.publish(req.header, "execute_input", { code, execution_count: next });
    if (storeHistory) this.history.add(next, code);
    const outcome = await this.executor.execute(
      code,
      this.callbacks(req, c.allow_stdin === true, (data) => {
        if (storeHistory && typeof data["text/plain"] === "string") this.history.setOutput(next, data["text/plain"]);
      }),
      { silent, storeHistory, userExpressions: isRecord(c.user_expressions) ? (c.user_expressions as Record<string, string>) : {} },
    );
    if (outcome.status === "ok") {
      this.reply(req, "execute_reply", {
        status: "ok",
        execution_count: outcome.executionCount,
        payload: outcome.payload,
        user_expressions: outcome.userExpressions,
      });
    } else {
      this.reply(req, "execute_reply", {
        status: "error",
        execution_count: outcome.executionCount,
        ename: outcome.ename,
        evalue: outcome.evalue,
        traceback: outcome.traceback,
      });
      if (stopOnError && !silent) {
        // Abort what the frontend had queued behind this cell (ipykernel: "Run All" stops at the first error),
        // but not what it sends after seeing the error. Requests received before the reply may still be on
        // their way from the protocol thread: let one turn of the event loop deliver them.
        await new Promise((r) => setTimeout(r, 0));
        await new Promise((r) => setImmediate(r));
        for (const q of this.queue) if (q.header.msg_type === "execute_request") this.toAbort.add(q.id);
      }
    }
  }

  private comm(req: Request): void {
    const type = req.header.msg_type;
    const c = req.content;
    const message = { data: c.data, metadata: req.metadata, buffers: req.buffers };
    output.active = this.callbacks(req, false);
    try {
      const run = (fn: () => void) => this.executor.runGuarded(fn);
      if (type === "comm_open") {
        if (!receiveCommOpen(c, message, run)) {
          // No such target: tell the frontend the comm is closed (as ipykernel does).
          this.publish(req.header, "comm_close", { comm_id: c.comm_id, data: {} });
        }
      } else if (type === "comm_msg") receiveCommMsg(c, message, run);
      else receiveCommClose(c, message, run);
    } finally {
      output.active = null;
    }
  }
}

function cursorOf(c: Record<string, unknown>, code: string): number {
  const n = Number(c.cursor_pos);
  if (!Number.isFinite(n) || n < 0) return code.length;
  // Jupyter counts cursor positions in unicode code points; JavaScript strings in UTF-16 units.
  return [...code].slice(0, n).join("").length;
}

/** UTF-16 index → code point count (the protocol's unit). */
function codePoints(code: string, index: number): number {
  return [...code.slice(0, index)].length;
}

function jupyterType(kind: string | undefined): string {
  switch (kind) {
    case "function":
    case "method":
    case "local function":
      return "function";
    case "class":
      return "class";
    case "module":
    case "external module name":
      return "module";
    case "keyword":
      return "keyword";
    case "property":
    case "getter":
    case "setter":
      return "property";
    case "interface":
    case "type":
    case "enum":
      return "type";
    default:
      return "instance";
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  return value;
}
