/**
 * Vega-Lite spec -> static SVG, synchronously, with the `vega` and `vega-lite` packages (no canvas, no browser).
 *
 * Why a worker: `[Symbol.for("Jupyter.display")]()` and the runtime's display hook are synchronous, but Vega
 * only renders through promises (`view.toSVG()`). A promise cannot be awaited synchronously on the same thread,
 * so one long-lived worker thread does the rendering while the caller blocks on `Atomics.wait` and then takes
 * the answer with `receiveMessageOnPort` (the technique of the `synckit` package). The worker also keeps the
 * ~2 MB of Vega code out of the kernel's start-up: it loads on the first chart. Node's modules are reached at
 * run time (`node-builtins.ts`), so that this module loads, unused, in a browser.
 */
import type { MessagePort, Worker } from "node:worker_threads";
import { requireNodeBuiltin } from "./node-builtins.js";

export type VegaLiteSpec = Record<string, unknown>;

/** Longest wait for one chart; a wedged worker is replaced rather than hanging the kernel. */
const TIMEOUT_MS = 60_000;

// Plain CommonJS run with `eval: true`: the worker needs no file of its own, so it works the same from the
// TypeScript sources under vitest and from the compiled `dist/`.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const port = workerData.port;
let vega, vegaLite, loadError;
try {
  vega = require(workerData.vegaPath);
  vegaLite = require(workerData.vegaLitePath);
} catch (err) {
  // Answered on every request, so the caller fails fast instead of waiting for a reply that never comes.
  loadError = err;
}
parentPort.on("message", async ({ id, spec, signal }) => {
  let reply;
  try {
    if (loadError) throw loadError;
    const compiled = vegaLite.compile(spec).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: "none", logLevel: vega.Error });
    const svg = await view.toSVG();
    view.finalize();
    reply = { id, svg };
  } catch (err) {
    reply = { id, error: err && err.stack ? String(err.stack) : String(err) };
  }
  port.postMessage(reply);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
`;

interface Channel {
  worker: Worker;
  port: MessagePort;
}

let channel: Channel | null = null;
let nextId = 1;

function start(): Channel {
  const { createRequire } = requireNodeBuiltin("node:module", "Vega charts rendered to SVG");
  const { MessageChannel, Worker } = requireNodeBuiltin("node:worker_threads", "Vega charts rendered to SVG");
  const require = createRequire(import.meta.url);
  let vegaPath: string;
  let vegaLitePath: string;
  try {
    vegaPath = require.resolve("vega");
    vegaLitePath = require.resolve("vega-lite");
  } catch (err) {
    throw new Error(`charts need the vega and vega-lite packages (${err instanceof Error ? err.message : String(err)}); run \`npm install\``);
  }
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { vegaPath, vegaLitePath, port: port2 }, transferList: [port2] });
  // Neither may keep a finished script (or test run) alive.
  worker.unref();
  port1.unref();
  worker.on("error", () => {
    channel = null;
  });
  worker.on("exit", () => {
    channel = null;
  });
  return { worker, port: port1 };
}

/** Render a Vega-Lite spec to an SVG string; throws with Vega's message if the spec is invalid. */
export function vegaLiteToSvg(spec: VegaLiteSpec): string {
  channel ??= start();
  const { worker, port } = channel;
  const { receiveMessageOnPort } = requireNodeBuiltin("node:worker_threads", "Vega charts rendered to SVG");
  const id = nextId++;
  const signal = new Int32Array(new SharedArrayBuffer(4));
  worker.postMessage({ id, spec, signal });
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const reply = receiveMessageOnPort(port)?.message as { id: number; svg?: string; error?: string } | undefined;
    if (reply && reply.id === id) {
      if (reply.error !== undefined) throw new Error(`Vega could not render the chart: ${reply.error.split("\n")[0]}`);
      return reply.svg!;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      void worker.terminate();
      channel = null;
      throw new Error(`Vega did not render the chart within ${TIMEOUT_MS / 1000} s; the renderer was restarted, try again`);
    }
    Atomics.wait(signal, 0, 0, Math.min(left, 1000));
  }
}

/** Stop the renderer thread (tests; a kernel shutting down). It restarts on the next chart. */
export async function stopVegaRenderer(): Promise<void> {
  const c = channel;
  channel = null;
  if (c) await c.worker.terminate();
}

/** Width and height attributes of an SVG root, for PNG scaling. */
export function svgSize(svg: string): { width: number; height: number } {
  const head = /<svg\b[^>]*>/.exec(svg)?.[0] ?? "";
  const width = Number(/\bwidth="([\d.]+)"/.exec(head)?.[1] ?? 0);
  const height = Number(/\bheight="([\d.]+)"/.exec(head)?.[1] ?? 0);
  return { width, height };
}
