/**
 * Values → MIME bundles.
 *
 * Rich output by protocol, not inheritance (Deno's convention): an object whose
 * `[Symbol.for("Jupyter.display")]()` returns a MIME bundle renders as that bundle, so the runtime's objects
 * render the same way in this kernel and in Deno's. Everything else is shown as `util.inspect` text, bounded
 * (depth, array length, string length) so that a huge value cannot produce a huge message.
 */
import { inspect } from "node:util";
import type { MimeBundle } from "./output.js";

export const JUPYTER_DISPLAY = Symbol.for("Jupyter.display");

const MIME_KEY = /^[\w\-+.]+\/[\w\-+.]+$/;

export function plainText(value: unknown): string {
  if (typeof value === "string") return inspect(value, { maxStringLength: 100_000 });
  return inspect(value, { depth: 4, colors: false, maxArrayLength: 100, maxStringLength: 10_000, breakLength: 100 });
}

/** The bundle for a value; a promise only when the value's display method returns one. */
export function toBundle(value: unknown): MimeBundle | Promise<MimeBundle> {
  const method =
    value !== null && (typeof value === "object" || typeof value === "function")
      ? (value as { [JUPYTER_DISPLAY]?: unknown })[JUPYTER_DISPLAY]
      : undefined;
  if (typeof method === "function") {
    let produced: unknown;
    try {
      produced = method.call(value);
    } catch (err) {
      return { "text/plain": `${plainText(value)}\n(display failed: ${err instanceof Error ? err.message : String(err)})` };
    }
    if (produced instanceof Promise) return produced.then((b) => completeBundle(b, value));
    return completeBundle(produced, value);
  }
  return { "text/plain": plainText(value) };
}

/** Keeps valid MIME keys, and adds a `text/plain` fallback so every frontend can show something. */
export function completeBundle(bundle: unknown, value?: unknown): MimeBundle {
  const out: MimeBundle = {};
  if (bundle && typeof bundle === "object") {
    for (const [k, v] of Object.entries(bundle as Record<string, unknown>)) {
      if (MIME_KEY.test(k) && v !== undefined) out[k] = v;
    }
  }
  if (!("text/plain" in out)) {
    const kinds = Object.keys(out);
    out["text/plain"] = value !== undefined ? plainText(value) : kinds.length ? `<${kinds.join(", ")}>` : "";
  }
  return out;
}

export function base64(data: Uint8Array | ArrayBuffer | string): string {
  if (typeof data === "string") return data.replace(/^data:[^,]*;base64,/, "");
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

export function htmlToText(html: string): string {
  const text = html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, "")
    .replace(/<br\s*\/?>|<\/(p|div|li|tr|h\d)>/gi, "\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return text.length > 2000 ? text.slice(0, 2000) + "…" : text;
}
