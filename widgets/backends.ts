/**
 * What draws the static fallbacks that need more than string building: SVG -> PNG, and a Vega-Lite spec -> SVG.
 *
 * In Node these are `@resvg/resvg-js` (`png.ts`) and Vega in a worker thread (`vega-render.ts`). In a browser
 * (the static site's kernel runs in a Web Worker) neither loads: by default a bundle there has no `image/png`,
 * and a chart carries its Vega-Lite spec and text only (JupyterLab draws the spec itself). A host that can do
 * better injects its own with `setRenderBackends` (resvg-wasm for PNGs, say). Everything else in `widgets/` is
 * the same code in both.
 */
import { nodeBuiltin } from "./node-builtins.js";
import { svgToPngBase64 } from "./png.js";
import { vegaLiteToSvg, type VegaLiteSpec } from "./vega-render.js";

export interface RenderBackends {
  /** SVG (with its own width and height) -> base64 PNG; null: bundles carry no `image/png`. */
  png: ((svg: string, width: number, height: number) => string) | null;
  /** Vega-Lite spec -> SVG; null: charts carry their spec and text, no SVG or PNG. */
  vegaSvg: ((spec: VegaLiteSpec) => string) | null;
}

/** Node's back ends where Node is, none elsewhere. */
export function defaultRenderBackends(): RenderBackends {
  const inNode = nodeBuiltin("node:module") !== null;
  return { png: inNode ? svgToPngBase64 : null, vegaSvg: inNode ? vegaLiteToSvg : null };
}

let current: RenderBackends = defaultRenderBackends();

/** The back ends in use. */
export function renderBackends(): Readonly<RenderBackends> {
  return current;
}

/**
 * Replaces some back ends (a key left out keeps its back end; null removes it) and returns the previous set, to
 * restore with another call.
 */
export function setRenderBackends(backends: Partial<RenderBackends>): RenderBackends {
  const previous = current;
  current = { ...current, ...backends };
  return previous;
}
