/**
 * Where output goes. User code, widgets and comms write here; the executor points it at the callbacks of the
 * request being handled, and, between requests, at the last cell's (so that a timer's `console.log` still shows
 * under the cell that started it, as in IPython). Errors raised between cells wait for the next cell.
 */
import type { ErrorContent } from "./traceback.js";

/** A Jupyter MIME bundle: MIME type → data (string for text types, JSON value for +json types). */
export type MimeBundle = Record<string, unknown>;

/** What a cell can produce; every member is optional so a caller takes only what it needs. */
export interface ExecuteCallbacks {
  stream?(name: "stdout" | "stderr", text: string): void;
  /** `display_data`, or `update_display_data` when `update` is true. */
  display?(data: MimeBundle, metadata: Record<string, unknown>, transient: { display_id?: string }, update: boolean): void;
  clearOutput?(wait: boolean): void;
  /** The value of the cell's last expression. */
  result?(data: MimeBundle, metadata: Record<string, unknown>): void;
  error?(content: ErrorContent): void;
  /** `input_request` on stdin; absent when the frontend does not allow stdin. */
  input?(prompt: string, password: boolean): Promise<string>;
  /** comm_open / comm_msg / comm_close from the kernel side. */
  comm?(msgType: "comm_open" | "comm_msg" | "comm_close", content: Record<string, unknown>, metadata: Record<string, unknown>, buffers: Uint8Array[]): void;
}

class OutputRouter {
  /** The request being handled. */
  active: ExecuteCallbacks | null = null;
  /** The last cell's callbacks, for output that arrives between requests. */
  background: ExecuteCallbacks | null = null;
  /** Errors raised between requests, shown in the next cell. */
  readonly pendingErrors: ErrorContent[] = [];

  get target(): ExecuteCallbacks | null {
    return this.active ?? this.background;
  }

  stream(name: "stdout" | "stderr", text: string): void {
    if (text) this.target?.stream?.(name, text);
  }

  /** An error not thrown by the cell itself (timer, unhandled rejection, comm handler). */
  backgroundError(content: ErrorContent): void {
    if (this.active?.error) this.active.error(content);
    else if (this.pendingErrors.length < 100) this.pendingErrors.push(content);
  }

  takePendingErrors(): ErrorContent[] {
    return this.pendingErrors.splice(0);
  }
}

export const output = new OutputRouter();
