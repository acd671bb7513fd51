/**
 * Values → MIME bundles.
 *
 * Rich output by protocol, not inheritance (Deno's convention): an object whose
 * `[Symbol.for("Jupyter.display")]()` returns a MIME bundle renders as that bundle, so the runtime's objects
 * render the same way in this kernel and in Deno's. Everything else is shown as `util.inspect` text, bounded
 * (depth, array length, string length) so that a huge value cannot produce a huge message. The runtime's values
 * print in their short OTP form through their own `util.inspect` hook (`#PID<0.84.0>`, `#Reference<3>`, a
 * crash as `{%RuntimeError{message: "boom"}, [stacktrace]}`, an un-awaited `Op` saying so), and the EXIT and
 * DOWN messages links and monitors deliver print as OTP terms: `{:EXIT, #PID<0.84.0>, :killed}`.
 */
import { inspect, types } from "node:util";
import { formatTerm, isSignalMessage } from "../runtime/terms.js";
import type { MimeBundle } from "./output.js";

export const JUPYTER_DISPLAY = Symbol.for("Jupyter.display");

const MIME_KEY = /^[\w\-+.]+\/[\w\-+.]+$/;

export function plainText(value: unknown): string {
  if (typeof value === "string") return inspect(value, { maxStringLength: 100_000 });
  return inspect(withSignalsAsTerms(value, 0, { left: 2000 }), { depth: 4, colors: false, maxArrayLength: 100, maxStringLength: 10_000, breakLength: 100 });
}

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** Prints as `text`, unquoted. */
function printsAs(text: string): object {
  return { [INSPECT]: () => text };
}

/**
 * `value` with every EXIT or DOWN message in it (within what `inspect` shows, and at most `budget.left` values
 * looked at) replaced by its OTP form. Arrays and plain objects holding one are copied; everything else, and
 * every value holding none, is returned as it is, so its text does not change.
 */
function withSignalsAsTerms(value: unknown, depth: number, budget: { left: number }): unknown {
  if (typeof value !== "object" || value === null || budget.left-- <= 0 || types.isProxy(value)) return value;
  if (isSignalMessage(value)) return printsAs(formatTerm(value));
  if (depth >= 4) return value;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (Array.isArray(value) && proto === Array.prototype) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < Math.min(value.length, 100); i++) {
      const shown = withSignalsAsTerms(value[i], depth + 1, budget);
      if (shown !== value[i]) (copy ??= value.slice())[i] = shown;
    }
    return copy ?? value;
  }
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | null = null;
  for (const key of Object.keys(value)) {
    if (budget.left <= 0) break;
    const d = Object.getOwnPropertyDescriptor(value, key)!;
    if (!("value" in d)) return value; // a getter: leave the object alone rather than run it
    const shown = withSignalsAsTerms(d.value, depth + 1, budget);
    if (shown !== d.value) (copy ??= Object.assign(Object.create(proto as object | null) as Record<string, unknown>, value))[key] = shown;
  }
  return copy ?? value;
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
  // Node's Buffer where there is one; in a browser worker (the static site's kernel) btoa.
  if (typeof Buffer !== "undefined") return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
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
