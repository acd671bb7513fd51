/**
 * Small helpers for the SVG our diagrams draw themselves.
 *
 * Text is monospace so its width is known exactly without a canvas: layouts are computed, not measured, and
 * the same input gives the same bytes everywhere. Styling uses presentation attributes only, no `<style>`
 * element and no ids: nbconvert inlines SVG into the page, where a stylesheet or an id would leak into (or
 * collide with) the rest of the notebook.
 */
import { cellWidth, escapeXml } from "./text.js";

export const FONT_FAMILY = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace";
export const FONT_SIZE = 12;
/** Advance width of one character of DejaVu Sans Mono at FONT_SIZE (0.602 em). */
export const CHAR_WIDTH = 7.23;
export const LINE_HEIGHT = 16;

/** Pixel width of a line of text at the default font size. */
export function textWidth(text: string, size = FONT_SIZE): number {
  return Math.ceil(cellWidth(text) * CHAR_WIDTH * (size / FONT_SIZE));
}

/** Numbers in attributes: at most two decimals, no "-0", so output is byte-stable. */
export function num(n: number): string {
  const r = Math.round(n * 100) / 100;
  return Object.is(r, -0) ? "0" : String(r);
}

export type Attrs = Record<string, string | number | undefined>;

export function attrs(a: Attrs): string {
  let out = "";
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    out += ` ${k}="${typeof v === "number" ? num(v) : escapeXml(v)}"`;
  }
  return out;
}

export function el(name: string, a: Attrs, children?: string): string {
  return children === undefined ? `<${name}${attrs(a)}/>` : `<${name}${attrs(a)}>${children}</${name}>`;
}

/** One `<text>` element; each entry of `lines` is a `<tspan>` on its own line. */
export function textBlock(
  x: number,
  y: number,
  lines: Array<{ text: string; bold?: boolean; fill?: string }>,
  options: { anchor?: "start" | "middle" | "end"; size?: number; fill?: string } = {},
): string {
  const size = options.size ?? FONT_SIZE;
  const lineHeight = LINE_HEIGHT * (size / FONT_SIZE);
  const spans = lines
    .map((line, i) =>
      el("tspan", { x, y: y + i * lineHeight, "font-weight": line.bold ? "bold" : undefined, fill: line.fill }, escapeXml(line.text)),
    )
    .join("");
  return el("text", { "font-size": size, "text-anchor": options.anchor ?? "start", fill: options.fill ?? "#212121" }, spans);
}

/** Wrap drawn elements in an `<svg>` root with a white background and an accessible title. */
export function svgDocument(width: number, height: number, title: string, body: string): string {
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg"${attrs({ width: w, height: h, viewBox: `0 0 ${w} ${h}`, "font-family": FONT_FAMILY, "font-size": FONT_SIZE, role: "img" })}>` +
    el("title", {}, escapeXml(title)) +
    el("rect", { x: 0, y: 0, width: w, height: h, fill: "#ffffff" }) +
    body +
    `</svg>`
  );
}
