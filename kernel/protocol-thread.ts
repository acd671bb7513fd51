/**
 * The protocol thread: all five ZeroMQ sockets, message signing, heartbeat and the control channel.
 *
 * Architecture (as in Deno's kernel): the protocol runs on this worker thread, user code on the main thread.
 * So heartbeat, `interrupt_request`, `shutdown_request` and `kernel_info_request` are answered while a cell
 * busy-loops, and an interrupt can be delivered to it (see `interrupt.ts`). Shell requests are verified here and
 * forwarded to the main thread one by one; everything the main thread sends (replies, iopub, stdin) is signed and
 * sent from here. Stream output is coalesced (a `console.log` loop becomes a few messages, not thousands).
 *
 * Security: messages with a missing, wrong or replayed signature are dropped here, before they are parsed, and
 * nothing is logged to stderr about them (see `wire.ts`). Set OTP_LAB_KERNEL_LOG=/path/file to log to a file.
 */
import { randomUUID } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import * as zmq from "zeromq";
import { InterruptRequester } from "./interrupt.js";
import { log } from "./log.js";
import { DELIMITER, Signer, address, decode, makeHeader, type ConnectionInfo, type JupyterMessage, type MessageHeader } from "./wire.js";
import type { FromMain, ToMain } from "./kernel-messages.js";

interface ThreadData {
  connection: ConnectionInfo;
  interruptBuffer: SharedArrayBuffer;
}

const data = workerData as ThreadData;
const conn = data.connection;
const signer = new Signer(conn.key, conn.signature_scheme);
const session = randomUUID();
const port = parentPort!;

function post(msg: ToMain): void {
  port.postMessage(msg);
}

/** Sends on one socket at a time: zeromq.js allows a single pending send per socket. */
class Sender {
  private chain: Promise<void> = Promise.resolve();
  constructor(readonly socket: zmq.Writable & zmq.Socket) {}
  send(frames: (Buffer | string | ArrayBufferView)[]): Promise<void> {
    this.chain = this.chain.then(
      () => this.socket.send(frames as zmq.MessageLike[]).catch((err: unknown) => log("send failed", err)),
      () => undefined,
    );
    return this.chain;
  }
}

const shell = new zmq.Router();
const control = new zmq.Router();
const stdin = new zmq.Router();
const iopub = new zmq.Publisher();
const heartbeat = new zmq.Reply();
for (const s of [shell, control, stdin, iopub, heartbeat]) s.linger = 1000;
// A PUB socket drops messages beyond its high-water mark; output must not vanish because a frontend is slow.
iopub.sendHighWaterMark = 100_000;

const shellOut = new Sender(shell);
const controlOut = new Sender(control);
const stdinOut = new Sender(stdin);
const iopubOut = new Sender(iopub);

type Raw = { header: string; parent: string; metadata: string; content: string; buffers?: readonly ArrayBufferView[] };

function frames(prefix: readonly (Buffer | string)[], raw: Raw): (Buffer | string | ArrayBufferView)[] {
  const body = [raw.header, raw.parent, raw.metadata, raw.content];
  return [...prefix, DELIMITER, signer.sign(body), ...body, ...(raw.buffers ?? [])];
}

function raw(msgType: string, parent: MessageHeader | Record<string, never> | null, content: string, metadata = "{}", buffers?: readonly ArrayBufferView[]): Raw {
  return { header: JSON.stringify(makeHeader(msgType, session)), parent: JSON.stringify(parent ?? {}), metadata, content, buffers };
}

// ---------------------------------------------------------------------------------------------------- iopub

interface PendingStream {
  parentId: string;
  parent: MessageHeader | Record<string, never>;
  name: string;
  text: string[];
  size: number;
}
let pendingStream: PendingStream | null = null;
let streamTimer: NodeJS.Timeout | null = null;

function flushStream(): void {
  if (streamTimer) {
    clearTimeout(streamTimer);
    streamTimer = null;
  }
  const p = pendingStream;
  if (!p) return;
  pendingStream = null;
  publishNow("stream", p.parent, JSON.stringify({ name: p.name, text: p.text.join("") }));
}

function publishNow(msgType: string, parent: MessageHeader | Record<string, never> | null, content: string, metadata?: string, buffers?: readonly ArrayBufferView[]): void {
  const topic = `kernel.${session}.${msgType}`;
  void iopubOut.send(frames([topic], raw(msgType, parent, content, metadata, buffers)));
}

function publish(msgType: string, parent: MessageHeader | Record<string, never> | null, content: string, metadata?: string, buffers?: readonly ArrayBufferView[]): void {
  flushStream();
  publishNow(msgType, parent, content, metadata, buffers);
}

function publishStream(parent: MessageHeader | Record<string, never> | null, name: string, text: string): void {
  const parentId = (parent as MessageHeader | null)?.msg_id ?? "";
  if (pendingStream && (pendingStream.parentId !== parentId || pendingStream.name !== name)) flushStream();
  if (!pendingStream) pendingStream = { parentId, parent: parent ?? {}, name, text: [], size: 0 };
  pendingStream.text.push(text);
  pendingStream.size += text.length;
  if (pendingStream.size > 1 << 20) flushStream();
  else streamTimer ??= setTimeout(flushStream, 5);
}

function status(state: "busy" | "idle" | "starting", parent: MessageHeader | Record<string, never> | null): void {
  publish("status", parent, JSON.stringify({ execution_state: state }));
}

// ---------------------------------------------------------------------------------------------------- shell

interface Forwarded {
  identities: Buffer[];
  header: MessageHeader;
}
const forwarded = new Map<number, Forwarded>();
let nextId = 0;
let kernelInfo: Record<string, unknown> | null = null;
const waitingForInfo: (() => void)[] = [];

function reply(out: Sender, identities: Buffer[], parent: MessageHeader, msgType: string, content: string, metadata = "{}", buffers?: readonly ArrayBufferView[]): void {
  flushStream();
  void out.send(frames(identities, raw(msgType, parent, content, metadata, buffers)));
}

/** `kernel_info` is answered here when the main thread is idle: the first request must not wait for preload. */
function answerKernelInfo(out: Sender, identities: Buffer[], header: MessageHeader): void {
  const send = () => {
    status("busy", header);
    reply(out, identities, header, "kernel_info_reply", JSON.stringify(kernelInfo));
    status("idle", header);
  };
  if (kernelInfo) send();
  else waitingForInfo.push(send);
}

function toMessage(m: JupyterMessage) {
  return { header: m.header, parent_header: m.parent_header, metadata: m.metadata, content: m.content, buffers: m.buffers.map((b) => new Uint8Array(b)) };
}

async function serveShell(): Promise<void> {
  for await (const received of shell) {
    const d = decode(received as Buffer[], signer);
    if (!d.ok) {
      log("dropped shell message:", d.reason);
      continue;
    }
    const { identities, message } = d;
    if (message.header.msg_type === "kernel_info_request" && forwarded.size === 0) {
      answerKernelInfo(shellOut, identities, message.header);
      continue;
    }
    const id = ++nextId;
    forwarded.set(id, { identities, header: message.header });
    post({ kind: "request", id, ...toMessage(message) });
  }
}

// ---------------------------------------------------------------------------------------------------- control

const requester = new InterruptRequester(data.interruptBuffer, (seq) => post({ kind: "interrupt", seq }));
let shuttingDown = false;
let shutdownAck: (() => void) | null = null;

async function serveControl(): Promise<void> {
  for await (const received of control) {
    const d = decode(received as Buffer[], signer);
    if (!d.ok) {
      log("dropped control message:", d.reason);
      continue;
    }
    const { identities, message } = d;
    const type = message.header.msg_type;
    if (type === "kernel_info_request") {
      answerKernelInfo(controlOut, identities, message.header);
    } else if (type === "interrupt_request") {
      status("busy", message.header);
      requester.request();
      reply(controlOut, identities, message.header, "interrupt_reply", JSON.stringify({ status: "ok" }));
      status("idle", message.header);
      watchStuckInterrupt();
    } else if (type === "shutdown_request") {
      await shutdown(identities, message.header, message.content.restart === true);
    } else {
      log("ignored control message", type);
    }
  }
}

/**
 * If the main thread runs code outside every guarded run (an async function's continuation, a callback of a
 * library's timer), an interrupt cannot stop it. Say so in the running cell rather than leaving the learner
 * staring at a busy kernel.
 */
let runningParent: MessageHeader | null = null;
function watchStuckInterrupt(): void {
  // Code outside the cell's guarded steps (after an await inside an async function) is stopped by V8's
  // termination instead; only if even that fails is the learner told to restart.
  void requester.terminateIfStuck(500).then(() => {
    const t = setTimeout(() => {
      if (!requester.stillPending() || !runningParent) return;
      publish(
        "stream",
        runningParent,
        JSON.stringify({
          name: "stdout",
          text:
            "[otp-lab] The kernel did not respond to the interrupt: code is running outside the cell's top level " +
            "and could not be stopped. Restart the kernel to stop it.\n",
        }),
      );
    }, 2000);
    t.unref();
  });
}

async function shutdown(identities: Buffer[], header: MessageHeader, restart: boolean): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  status("busy", header);
  // Give the main thread a chance to clean up; a main thread stuck in a loop is interrupted, then abandoned.
  const acked = new Promise<void>((resolve) => (shutdownAck = resolve));
  post({ kind: "shutdown", restart });
  const timeout = (ms: number) => new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms));
  if ((await Promise.race([acked, timeout(1000)])) === "timeout") {
    requester.request();
    await Promise.race([acked, timeout(1000)]);
  }
  const content = JSON.stringify({ status: "ok", restart });
  reply(controlOut, identities, header, "shutdown_reply", content);
  publish("shutdown_reply", header, content);
  status("idle", header);
  closeAndExit();
}

/**
 * Lets the last messages leave, closes the sockets (a process exiting with open ZeroMQ sockets on a worker can
 * abort in native code), then ends the process from the main thread — or from here if it is stuck.
 */
let closing = false;
function closeAndExit(): void {
  if (closing) return;
  closing = true;
  flushStream();
  setTimeout(() => {
    for (const s of [shell, control, stdin, iopub, heartbeat]) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    post({ kind: "exit" });
    setTimeout(() => process.kill(process.pid, "SIGKILL"), 1500).unref();
  }, 100);
}

// ---------------------------------------------------------------------------------------------------- stdin

async function serveStdin(): Promise<void> {
  for await (const received of stdin) {
    const d = decode(received as Buffer[], signer);
    if (!d.ok) {
      log("dropped stdin message:", d.reason);
      continue;
    }
    if (d.message.header.msg_type === "input_reply") {
      post({ kind: "input_reply", value: String(d.message.content.value ?? "") });
    }
  }
}

async function serveHeartbeat(): Promise<void> {
  for await (const msg of heartbeat) await heartbeat.send(msg as Buffer[]);
}

// ---------------------------------------------------------------------------------------------------- main thread

port.on("message", (msg: FromMain) => {
  switch (msg.kind) {
    case "info": {
      log("kernel info ready; process cpu ms so far:", Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000));
      kernelInfo = msg.content;
      for (const w of waitingForInfo.splice(0)) w();
      break;
    }
    case "iopub":
      if (msg.msgType === "status") {
        const state = JSON.parse(msg.content).execution_state as string;
        if (state === "busy") runningParent = msg.parent as MessageHeader;
        else if (state === "idle" && runningParent?.msg_id === (msg.parent as MessageHeader | null)?.msg_id) runningParent = null;
      }
      if (msg.msgType === "stream") {
        const c = JSON.parse(msg.content) as { name: string; text: string };
        publishStream(msg.parent, c.name, c.text);
      } else {
        publish(msg.msgType, msg.parent, msg.content, msg.metadata, msg.buffers);
      }
      break;
    case "reply": {
      const f = forwarded.get(msg.id);
      if (!f) break;
      reply(shellOut, f.identities, f.header, msg.msgType, msg.content, msg.metadata, msg.buffers);
      break;
    }
    case "done":
      forwarded.delete(msg.id);
      break;
    case "input_request": {
      const f = forwarded.get(msg.id);
      if (!f) break;
      flushStream();
      void stdinOut.send(frames(f.identities, raw("input_request", f.header, JSON.stringify({ prompt: msg.prompt, password: msg.password }))));
      break;
    }
    case "shutdown-ready":
      shutdownAck?.();
      break;
    case "close":
      closeAndExit();
      break;
  }
});

// ---------------------------------------------------------------------------------------------------- start

function watchParent(): void {
  // Jupyter sets JPY_PARENT_PID; when that process is gone the kernel would be an orphan: exit (as ipykernel).
  const parentPid = Number(process.env.JPY_PARENT_PID || 0);
  if (!parentPid) return;
  const t = setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch {
      closeAndExit();
    }
  }, 2000);
  t.unref();
}

async function start(): Promise<void> {
  // allSettled: closing a socket whose bind is still pending aborts the process in native code.
  const binds = await Promise.allSettled([
    shell.bind(address(conn, conn.shell_port)),
    control.bind(address(conn, conn.control_port)),
    stdin.bind(address(conn, conn.stdin_port)),
    iopub.bind(address(conn, conn.iopub_port)),
    heartbeat.bind(address(conn, conn.hb_port)),
  ]);
  const failed = binds.find((b): b is PromiseRejectedResult => b.status === "rejected");
  if (failed) throw failed.reason;
  status("starting", null);
  for (const serve of [serveShell, serveControl, serveStdin, serveHeartbeat]) {
    serve().catch((err: unknown) => log("socket loop ended", err));
  }
  watchParent();
  log("sockets bound");
  post({ kind: "ready" });
}

start().catch((err: unknown) => {
  log("start failed", err);
  // Close what did bind: a thread ending with open ZeroMQ sockets can abort the process in native code.
  for (const s of [shell, control, stdin, iopub, heartbeat]) {
    try {
      s.close();
    } catch {
      // not open
    }
  }
  post({ kind: "fatal", message: `${err instanceof Error ? err.message : String(err)} (check the addresses in the connection file)` });
});
