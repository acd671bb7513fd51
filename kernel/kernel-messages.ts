/**
 * Messages between the main thread (`kernel.ts`) and the protocol thread (`protocol-thread.ts`).
 *
 * Content travels as JSON text serialized on the main thread: it is serialized once, whatever the size, and a
 * value that cannot be cloned (a function in a display bundle) cannot break the channel.
 */
import type { MessageHeader } from "./wire.js";

type Header = MessageHeader | Record<string, never>;

export type ToMain =
  | { kind: "ready" }
  | { kind: "fatal"; message: string }
  | {
      kind: "request";
      id: number;
      header: MessageHeader;
      parent_header: Header;
      metadata: Record<string, unknown>;
      content: Record<string, unknown>;
      buffers: Uint8Array[];
    }
  | { kind: "interrupt"; seq: number }
  | { kind: "input_reply"; value: string }
  | { kind: "shutdown"; restart: boolean }
  | { kind: "exit" };

export type FromMain =
  | { kind: "info"; content: Record<string, unknown> }
  | { kind: "iopub"; parent: Header | null; msgType: string; content: string; metadata?: string; buffers?: Uint8Array[] }
  | { kind: "reply"; id: number; msgType: string; content: string; metadata?: string; buffers?: Uint8Array[] }
  | { kind: "done"; id: number }
  | { kind: "input_request"; id: number; prompt: string; password: boolean }
  | { kind: "shutdown-ready" }
  /** Close the sockets, then send `exit` back. */
  | { kind: "close" };
