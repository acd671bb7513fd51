/**
 * The kernel's comms, reached without importing `kernel/`: `kernel/comm.ts` publishes its functions at
 * `globalThis[Symbol.for("otp-lab.comms")]` when it loads. Outside a kernel (tests, scripts, a plain Node
 * process) there is none, and widget models live "offline": their state is kept and nothing is sent.
 *
 * The interfaces below are the part of `kernel/comm.ts` the widgets use; they must stay compatible with it.
 */

export interface CommMessageLike {
  data: unknown;
  metadata: Record<string, unknown>;
  buffers: Uint8Array[];
}

export interface CommSendOptionsLike {
  metadata?: Record<string, unknown>;
  buffers?: Uint8Array[];
}

/** One end of a comm (`kernel/comm.ts`'s `Comm`). */
export interface CommLike {
  readonly commId: string;
  readonly targetName: string;
  readonly closed: boolean;
  send(data?: unknown, options?: CommSendOptionsLike): void;
  close(data?: unknown, options?: CommSendOptionsLike): void;
  onMessage(handler: (data: unknown, message: CommMessageLike) => void): () => void;
  onClose(handler: (data: unknown, message: CommMessageLike) => void): () => void;
}

export interface CommApi {
  registerCommTarget(targetName: string, handler: (comm: CommLike, data: unknown, message: CommMessageLike) => void): () => void;
  openComm(targetName: string, data?: unknown, options?: CommSendOptionsLike & { commId?: string }): CommLike;
  commInfo(targetName?: string): Record<string, { target_name: string }>;
}

const KEY = Symbol.for("otp-lab.comms");

/** The kernel's comm functions, or null outside a kernel. */
export function commApi(): CommApi | null {
  const api = (globalThis as Record<symbol, unknown>)[KEY] as Partial<CommApi> | undefined;
  if (!api || typeof api.openComm !== "function" || typeof api.registerCommTarget !== "function") return null;
  return api as CommApi;
}
