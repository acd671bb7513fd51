/**
 * The value every widget function returns: a MIME bundle that renders through Deno's
 * `[Symbol.for("Jupyter.display")]()` convention, with its parts exposed for tests and curious learners.
 *
 * A bundle always has `text/plain` and `image/svg+xml` (drawn by our own code, or by Vega for charts) and
 * `image/png` (resvg from that SVG), plus the native type (`text/vnd.mermaid`, `text/html` or
 * `application/vnd.vegalite.v5+json`) so each frontend picks the best it can show.
 */
import { JUPYTER_DISPLAY } from "../runtime/display-hook.js";
import type { MimeBundle } from "./display-sink.js";
import { svgToPngBase64 } from "./png.js";

export type { MimeBundle };

export const MIME = {
  text: "text/plain",
  html: "text/html",
  svg: "image/svg+xml",
  png: "image/png",
  mermaid: "text/vnd.mermaid",
  vegaLite: "application/vnd.vegalite.v5+json",
} as const;

export type WidgetKind =
  | "tree"
  | "tree-diff"
  | "sequence"
  | "process-table"
  | "restarts-chart"
  | "memory-chart"
  | "mailbox-chart"
  | "metrics-chart"
  | "live";

/** What a renderer produces before the PNG is made. */
export interface Drawing {
  /** Native MIME type and its data, e.g. `["text/vnd.mermaid", "flowchart TD ..."]`. */
  native: [string, unknown];
  svg: string;
  width: number;
  height: number;
  text: string;
}

export class Widget {
  readonly kind: WidgetKind;
  readonly bundle: MimeBundle;

  constructor(kind: WidgetKind, bundle: MimeBundle) {
    this.kind = kind;
    this.bundle = bundle;
  }

  /** Jupyter (our kernel, Deno's) calls this to display the widget. */
  [JUPYTER_DISPLAY](): MimeBundle {
    return this.bundle;
  }

  /** The ASCII fallback; also what `console.log(widget)` and string concatenation show. */
  get text(): string {
    return String(this.bundle[MIME.text] ?? "");
  }

  get svg(): string {
    return String(this.bundle[MIME.svg] ?? "");
  }

  /** Base64 PNG. */
  get png(): string {
    return String(this.bundle[MIME.png] ?? "");
  }

  /** Mermaid source, for tree and sequence diagrams. */
  get mermaid(): string | undefined {
    const m = this.bundle[MIME.mermaid];
    return typeof m === "string" ? m : undefined;
  }

  toString(): string {
    return this.text;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.text;
  }
}

/** Assemble the bundle: native type first, then the static fallbacks. */
export function bundleOf(drawing: Drawing): MimeBundle {
  return {
    [drawing.native[0]]: drawing.native[1],
    [MIME.svg]: drawing.svg,
    [MIME.png]: svgToPngBase64(drawing.svg, drawing.width, drawing.height),
    [MIME.text]: drawing.text,
  };
}
