/**
 * SVG -> PNG with `@resvg/resvg-js`, so frontends without SVG support still get a picture.
 *
 * resvg ships its native binary as a per-platform npm package (no install script, no download) and renders
 * synchronously, which lets `[Symbol.for("Jupyter.display")]()` stay synchronous. It is loaded on first use to
 * keep kernel start-up fast. Node's modules are reached at run time (`node-builtins.ts`), so that this module
 * loads, unused, in a browser.
 */
import { requireNodeBuiltin } from "./node-builtins.js";

interface ResvgModule {
  Resvg: new (svg: string, options?: Record<string, unknown>) => {
    render(): { asPng(): Buffer; width: number; height: number };
  };
}

let resvg: ResvgModule | null = null;

function load(): ResvgModule {
  if (!resvg) {
    try {
      const { createRequire } = requireNodeBuiltin("node:module", "PNG rendering with @resvg/resvg-js");
      resvg = createRequire(import.meta.url)("@resvg/resvg-js") as ResvgModule;
    } catch (err) {
      throw new Error(
        `widgets: cannot load @resvg/resvg-js (${err instanceof Error ? err.message : String(err)}); ` +
          "run `npm install` in the project so its prebuilt binary for this platform is present",
      );
    }
  }
  return resvg;
}

/**
 * Limits of the PNG we produce; bigger diagrams are scaled down. The PNG is the fallback for frontends
 * without SVG, shown at most a screen wide, and resvg's time grows with the pixel count (a 3000 x 2500
 * picture takes seconds).
 */
export const MAX_PNG_SIDE = 2400;
export const MAX_PNG_PIXELS = 3_000_000;

/** Scale factor (at most 1) that keeps a width x height picture within the limits. */
export function pngScale(width: number, height: number): number {
  if (width <= 0 || height <= 0) return 1;
  return Math.min(1, MAX_PNG_SIDE / width, MAX_PNG_SIDE / height, Math.sqrt(MAX_PNG_PIXELS / (width * height)));
}

/** Render `svg` to PNG bytes. `width`/`height` are the SVG's own size, used to pick the scale. */
export function svgToPng(svg: string, width: number, height: number): Buffer {
  const { Resvg } = load();
  const scale = pngScale(width, height);
  const renderer = new Resvg(svg, {
    fitTo: scale < 1 ? { mode: "zoom", value: scale } : { mode: "original" },
    background: "white",
    font: fontOptions(),
  });
  return renderer.render().asPng();
}

const FONT_DIR = "/usr/share/fonts/truetype/dejavu/";
const FONT_FILES = ["DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"];
let fonts: Record<string, unknown> | null = null;

/**
 * Our SVGs use DejaVu Sans Mono, Vega's use DejaVu Sans. When Debian's fonts-dejavu files are there, load
 * just those (scanning every system font costs more than drawing a small tree); otherwise let resvg look.
 */
function fontOptions(): Record<string, unknown> {
  if (!fonts) {
    const { existsSync } = requireNodeBuiltin("node:fs", "PNG rendering with @resvg/resvg-js");
    const files = FONT_FILES.map((f) => FONT_DIR + f);
    const base = { defaultFontFamily: "DejaVu Sans", monospaceFamily: "DejaVu Sans Mono", sansSerifFamily: "DejaVu Sans" };
    fonts = files.every((f) => existsSync(f)) ? { ...base, loadSystemFonts: false, fontFiles: files } : { ...base, loadSystemFonts: true };
  }
  return fonts;
}

/** Base64 PNG, as Jupyter wants it in a MIME bundle. */
export function svgToPngBase64(svg: string, width: number, height: number): string {
  return svgToPng(svg, width, height).toString("base64");
}
