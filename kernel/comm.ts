/**
 * Comms: bidirectional channels between kernel-side objects and frontend widgets (messaging spec "Custom
 * Messages").
 *
 * Kernel code registers a target (`registerCommTarget`) that the frontend can open, or opens a comm itself
 * (`openComm`) and sends on it. This module has no protocol dependency: messages leave through the output router
 * with the parent header of the request being handled, so the widgets code can import it (or reach the same
 * functions at `globalThis[Symbol.for("otp-lab.comms")]`, without importing `kernel/`) and it works both in the
 * kernel and, silently, outside one.
 */
import { output, type ExecuteCallbacks } from "./output.js";

export interface CommMessage {
  data: unknown;
  metadata: Record<string, unknown>;
  buffers: Uint8Array[];
}

export interface CommSendOptions {
  metadata?: Record<string, unknown>;
  buffers?: Uint8Array[];
}

/** Called when the frontend opens a comm to a registered target. */
export type CommTargetHandler = (comm: Comm, data: unknown, message: CommMessage) => void;

type Runner = (fn: () => void) => void;

/** One end of a comm. */
export class Comm {
  private readonly messageHandlers = new Set<(data: unknown, message: CommMessage) => void>();
  private readonly closeHandlers = new Set<(data: unknown, message: CommMessage) => void>();
  private isClosed = false;
  /**
   * Where messages sent outside any request go: with the request this comm last heard from (its comm_open or
   * comm_msg), so that a reply computed later, or a push between requests, reaches the client even before the
   * first cell ran (there is no last cell's output then).
   */
  private fallback: ExecuteCallbacks | null = output.active;

  constructor(
    readonly commId: string,
    readonly targetName: string,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends `comm_msg` to the frontend. */
  send(data: unknown = {}, options: CommSendOptions = {}): void {
    if (this.isClosed) throw new Error(`comm ${this.commId} (${this.targetName}) is closed; open a new one with openComm()`);
    this.target()?.comm?.("comm_msg", { comm_id: this.commId, data }, options.metadata ?? {}, options.buffers ?? []);
  }

  /** Closes the comm on both sides. */
  close(data: unknown = {}, options: CommSendOptions = {}): void {
    if (this.isClosed) return;
    this.isClosed = true;
    comms.delete(this.commId);
    this.target()?.comm?.("comm_close", { comm_id: this.commId, data }, options.metadata ?? {}, options.buffers ?? []);
  }

  private target(): ExecuteCallbacks | null {
    return output.active ?? this.fallback ?? output.background;
  }

  /** Handles messages from the frontend; returns a function that removes the handler. */
  onMessage(handler: (data: unknown, message: CommMessage) => void): () => void {
    this.messageHandlers.add(handler);
    return () => this.messageHandlers.delete(handler);
  }

  /** Called when the frontend closes the comm. */
  onClose(handler: (data: unknown, message: CommMessage) => void): () => void {
    this.closeHandlers.add(handler);
    return () => this.closeHandlers.delete(handler);
  }

  /** @internal */
  deliver(kind: "msg" | "close", message: CommMessage, run: Runner): void {
    this.fallback = output.active ?? this.fallback;
    if (kind === "close") {
      this.isClosed = true;
      comms.delete(this.commId);
    }
    for (const h of kind === "msg" ? this.messageHandlers : this.closeHandlers) run(() => h(message.data, message));
  }
}

const targets = new Map<string, CommTargetHandler>();
const comms = new Map<string, Comm>();

/** Lets the frontend open comms with `target_name` = `targetName`; returns a function that unregisters it. */
export function registerCommTarget(targetName: string, handler: CommTargetHandler): () => void {
  targets.set(targetName, handler);
  const unregister = () => {
    if (targets.get(targetName) === handler) targets.delete(targetName);
  };
  // Not shown as the result of a cell ending with registerCommTarget(...).
  Object.defineProperty(unregister, Symbol.for("otp-lab.no-result"), { value: true });
  return unregister;
}

/** Opens a comm from the kernel side (`comm_open` to the frontend's target `targetName`). */
export function openComm(targetName: string, data: unknown = {}, options: CommSendOptions & { commId?: string } = {}): Comm {
  const comm = new Comm(options.commId ?? globalThis.crypto.randomUUID().replace(/-/g, ""), targetName);
  comms.set(comm.commId, comm);
  output.target?.comm?.(
    "comm_open",
    { comm_id: comm.commId, target_name: targetName, data },
    options.metadata ?? {},
    options.buffers ?? [],
  );
  return comm;
}

/** Open comms, optionally only those of one target (for `comm_info_request`). */
export function commInfo(targetName?: string): Record<string, { target_name: string }> {
  const out: Record<string, { target_name: string }> = {};
  for (const c of comms.values()) if (!targetName || c.targetName === targetName) out[c.commId] = { target_name: c.targetName };
  return out;
}

/** The frontend opened a comm. Returns false when no target is registered (the kernel then closes it). */
export function receiveCommOpen(content: Record<string, unknown>, message: CommMessage, run: Runner): boolean {
  const targetName = String(content.target_name ?? "");
  const commId = String(content.comm_id ?? "");
  const handler = targets.get(targetName);
  if (!handler || !commId) return false;
  const comm = new Comm(commId, targetName);
  comms.set(commId, comm);
  run(() => handler(comm, content.data, message));
  return true;
}

export function receiveCommMsg(content: Record<string, unknown>, message: CommMessage, run: Runner): void {
  comms.get(String(content.comm_id ?? ""))?.deliver("msg", message, run);
}

export function receiveCommClose(content: Record<string, unknown>, message: CommMessage, run: Runner): void {
  comms.get(String(content.comm_id ?? ""))?.deliver("close", message, run);
}

Object.defineProperty(globalThis, Symbol.for("otp-lab.comms"), {
  value: Object.freeze({ registerCommTarget, openComm, commInfo }),
  configurable: true,
});
