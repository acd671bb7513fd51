/**
 * The kernel's own globals, in scope in every cell: `display`, `clearOutput`, `input`, and comms.
 *
 * Every export of this module becomes a global of the notebook (see `preload.ts`); its doc comments are what
 * completion and `display?` show, so they are written for learners.
 */
import { base64, completeBundle, htmlToText, toBundle } from "./display.js";
import { output, type MimeBundle } from "./output.js";
export { registerCommTarget, openComm, Comm } from "./comm.js";
export type { CommMessage, CommSendOptions, CommTargetHandler } from "./comm.js";
export type { MimeBundle } from "./output.js";

/** Options of {@link display} and its helpers. */
export interface DisplayOptions {
  /**
   * Names this output so it can be replaced in place later: pass a string of your own, or `true` for a fresh id.
   * The returned handle's `update()` uses it.
   */
  displayId?: string | true;
  /** Same as `displayId` (Deno's spelling). */
  display_id?: string;
  /** Replace the output named by `displayId` instead of adding a new one (`update_display_data`). */
  update?: boolean;
  /** Treat `value` as a ready MIME bundle, e.g. `{ "text/html": "<b>hi</b>" }`. */
  raw?: boolean;
  /** Output metadata, e.g. `{ "image/png": { width: 200 } }`. */
  metadata?: Record<string, unknown>;
}

/** A shown output that can be replaced in place. */
export interface DisplayHandle {
  /** The output's id (`transient.display_id`). */
  readonly displayId: string;
  /** Replaces the output with `value`, rendered like {@link display} would. */
  update(value: unknown, options?: Omit<DisplayOptions, "displayId" | "display_id" | "update">): void;
}

/** Image options for {@link Display.png} and {@link Display.jpeg}. */
export interface ImageOptions extends DisplayOptions {
  width?: number;
  height?: number;
}

/** The `display` function and its helpers for common formats. */
export interface Display {
  /**
   * Shows `value` as output below the cell, without ending the cell.
   *
   * Objects with a `[Symbol.for("Jupyter.display")]()` method (the runtime's pids, supervisors, snapshots, event
   * logs...) render as the MIME bundle it returns; anything else is shown as text.
   *
   * @example
   * const h = display("starting...", { displayId: true });
   * h.update("done");            // replaces the text in place
   * display({ "text/html": "<b>bold</b>" }, { raw: true });
   */
  (value: unknown, options?: DisplayOptions): DisplayHandle;
  /** Shows HTML. @example display.html("<b>hello</b>") */
  html(html: string, options?: DisplayOptions): DisplayHandle;
  /** Shows Markdown. @example display.markdown("# Title\n*emphasis*") */
  markdown(markdown: string, options?: DisplayOptions): DisplayHandle;
  /** Shows an SVG image given as markup. */
  svg(svg: string, options?: DisplayOptions): DisplayHandle;
  /** Shows a PNG image: bytes, or a base64 string (a `data:` URL is accepted). */
  png(data: Uint8Array | ArrayBuffer | string, options?: ImageOptions): DisplayHandle;
  /** Shows a JPEG image: bytes, or a base64 string. */
  jpeg(data: Uint8Array | ArrayBuffer | string, options?: ImageOptions): DisplayHandle;
  /** Shows a JSON value as a collapsible tree (JupyterLab) with a text fallback. */
  json(value: unknown, options?: DisplayOptions): DisplayHandle;
  /** Shows LaTeX math, e.g. `display.latex("$e^{i\\pi} + 1 = 0$")`. */
  latex(latex: string, options?: DisplayOptions): DisplayHandle;
  /** Shows plain text as is (no quotes, no inspection). */
  text(text: string, options?: DisplayOptions): DisplayHandle;
  /** Shows a ready MIME bundle: `{ "text/html": ..., "text/plain": ... }`. */
  mimebundle(bundle: MimeBundle, options?: DisplayOptions): DisplayHandle;
}

/** Marks values that are not shown as a cell's result (see executor.ts). */
const NO_RESULT = Symbol.for("otp-lab.no-result");

function emit(bundle: MimeBundle, options: DisplayOptions, id: string | undefined, update: boolean): void {
  const transient = id ? { display_id: id } : {};
  output.target?.display?.(bundle, options.metadata ?? {}, transient, update);
}

function show(bundleOf: () => MimeBundle | Promise<MimeBundle>, options: DisplayOptions = {}): DisplayHandle {
  const requested = options.displayId ?? options.display_id;
  const id = requested === true ? globalThis.crypto.randomUUID() : requested;
  if (options.update && !id) throw new Error("display(..., { update: true }) needs a displayId naming the output to replace");
  const send = (b: MimeBundle | Promise<MimeBundle>, o: DisplayOptions, upd: boolean) => {
    if (b instanceof Promise) {
      // Keep the target of the moment: the promise may settle after the cell has finished.
      const target = output.target;
      void b.then((x) => target?.display?.(x, o.metadata ?? {}, id ? { display_id: id } : {}, upd));
    } else emit(b, o, id, upd);
  };
  send(bundleOf(), options, options.update === true);
  const handle: DisplayHandle = {
    displayId: id ?? "",
    update(value: unknown, opts: DisplayOptions = {}) {
      if (!id) throw new Error("this output has no id; pass { displayId: true } to display() to make it updatable");
      send(opts.raw ? completeBundle(value) : toBundle(value), opts, true);
    },
  };
  // `display(x)` as a cell's last line shows x once, not x and then its handle (IPython's display returns None).
  Object.defineProperty(handle, NO_RESULT, { value: true });
  return handle;
}

const displayFn = (value: unknown, options: DisplayOptions = {}): DisplayHandle =>
  show(() => (options.raw ? completeBundle(value) : toBundle(value)), options);

/** Shows values as rich output; see {@link Display}. */
export const display: Display = Object.assign(displayFn, {
  html: (html: string, o?: DisplayOptions) => show(() => ({ "text/html": html, "text/plain": htmlToText(html) }), o),
  markdown: (md: string, o?: DisplayOptions) => show(() => ({ "text/markdown": md, "text/plain": md }), o),
  svg: (svg: string, o?: DisplayOptions) => show(() => ({ "image/svg+xml": svg, "text/plain": "<SVG image>" }), o),
  png: (data: Uint8Array | ArrayBuffer | string, o: ImageOptions = {}) => image("image/png", data, o),
  jpeg: (data: Uint8Array | ArrayBuffer | string, o: ImageOptions = {}) => image("image/jpeg", data, o),
  json: (value: unknown, o?: DisplayOptions) =>
    show(() => ({ "application/json": JSON.parse(JSON.stringify(value ?? null)), "text/plain": JSON.stringify(value, null, 2) ?? "undefined" }), o),
  latex: (latex: string, o?: DisplayOptions) => show(() => ({ "text/latex": latex, "text/plain": latex }), o),
  text: (text: string, o?: DisplayOptions) => show(() => ({ "text/plain": text }), o),
  mimebundle: (bundle: MimeBundle, o?: DisplayOptions) => show(() => completeBundle(bundle), o),
});

function image(mime: string, data: Uint8Array | ArrayBuffer | string, o: ImageOptions): DisplayHandle {
  const size: Record<string, number> = {};
  if (o.width) size.width = o.width;
  if (o.height) size.height = o.height;
  const metadata = Object.keys(size).length ? { ...(o.metadata ?? {}), [mime]: size } : o.metadata;
  return show(() => ({ [mime]: base64(data), "text/plain": `<${mime.slice(6).toUpperCase()} image>` }), { ...o, metadata });
}

/**
 * Clears this cell's output. With `wait: true` the old output stays until new output arrives, which avoids
 * flicker in animations.
 *
 * @example
 * for (let i = 0; i < 3; i++) { clearOutput({ wait: true }); display(i); await new Promise(r => setTimeout(r, 100)); }
 */
export function clearOutput(options: { wait?: boolean } = {}): void {
  output.target?.clearOutput?.(options.wait === true);
}

/**
 * Asks the learner for a line of text in the notebook (an input box under the cell) and resolves to it.
 *
 * @example
 * const name = await input("Your name? ");
 */
export function input(prompt = "", options: { password?: boolean } = {}): Promise<string> {
  const target = output.active ?? null;
  if (!target?.input) {
    return Promise.reject(
      new Error("input() needs a frontend that allows stdin (allow_stdin); run the cell from a notebook, not in the background"),
    );
  }
  return target.input(String(prompt), options.password === true);
}
