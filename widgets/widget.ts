/**
 * The value every widget function returns: a MIME bundle that renders through Deno's
 * `[Symbol.for("Jupyter.display")]()` convention, with its parts exposed for tests and curious learners.
 *
 * A bundle has `text/plain` and `image/svg+xml` (drawn by our own code, or by Vega for charts) and `image/png`
 * (resvg from that SVG), plus the native type (`text/vnd.mermaid`, `text/html` or
 * `application/vnd.vegalite.v5+json`) so each frontend picks the best it can show. Where the PNG or Vega back end
 * is missing (a browser: `backends.ts`) those parts are left out.
 */
import { JUPYTER_DISPLAY } from "../runtime/display-hook.js";
import type { MimeBundle } from "./display-sink.js";
import { renderBackends } from "./backends.js";

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
  | "live"
  | "cluster";

/** What a renderer produces before the PNG is made. */
export interface Drawing {
  /** Native MIME type and its data, e.g. `["text/vnd.mermaid", "flowchart TD ..."]`. */
  native: [string, unknown];
  /** null: no static picture could be drawn here (a chart without a Vega renderer). */
  svg: string | null;
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
  const bundle: MimeBundle = { [drawing.native[0]]: drawing.native[1] };
  // Without an SVG (a chart where no Vega renderer is available) there is nothing to make a PNG from either.
  if (drawing.svg !== null) {
    bundle[MIME.svg] = drawing.svg;
    const png = renderBackends().png;
    if (png) bundle[MIME.png] = png(drawing.svg, drawing.width, drawing.height);
  }
  bundle[MIME.text] = drawing.text;
  return bundle;
}
