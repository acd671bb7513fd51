/**
 * Messages between the grader (parent) and the sandboxed kernel process (`sandbox-child.ts`), over Node's IPC
 * channel. One request at a time; outputs stream while the cell runs so that a cell that never finishes still
 * shows what it printed before it was stopped.
 */
import type { ErrorContent, MimeBundle } from "../executor.js";

/**
 * `locked`: the cell is one of the source's locked cells (tests, set-up), put back by the grader. In a grading
 * kernel such a cell sees the preloaded names and the names earlier locked cells declared as they were, never
 * a student's redefinition of them (see `confine.ts`). `test`: a locked cell that is an autograded test; what it
 * declares stays out of the student's scope (hidden tests' names and values). `checked`: the cell passed its type
 * check in an earlier kernel of the same grading, after exactly the cells re-run before it now (a restart's
 * replay); it is compiled and its declarations given to the checker without checking it again.
 */
export type ParentMessage = { type: "execute"; id: number; code: string; silent: boolean; locked?: boolean; test?: boolean; checked?: boolean };

/** What a cell produced, in the executor's terms; `outputs.ts` turns these into nbformat outputs. */
export type CellEvent =
  | { kind: "stream"; name: "stdout" | "stderr"; text: string }
  | { kind: "display"; data: MimeBundle; metadata: Record<string, unknown>; displayId?: string; update: boolean }
  | { kind: "clear"; wait: boolean }
  | { kind: "result"; data: MimeBundle; metadata: Record<string, unknown>; executionCount: number }
  | { kind: "error"; content: ErrorContent };

export type ChildMessage =
  | { type: "ready"; banner: string }
  /** The kernel could not start (a module failed to load): the grader reports it and stops. */
  | { type: "startup-failed"; message: string }
  | { type: "event"; id: number; event: CellEvent }
  | { type: "done"; id: number; status: "ok" | "error"; executionCount: number };

/** Exit code of a kernel process whose IPC channel closed (a cell called `process.disconnect()`). */
export const EXIT_DISCONNECTED = 70;
