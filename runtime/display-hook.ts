/**
 * Rich display for runtime objects without a dependency on `widgets/`.
 *
 * Runtime objects (pids, snapshots, event logs, metrics) implement `[Symbol.for("Jupyter.display")]()`, Deno's
 * convention, and ask this registry for a MIME bundle. `widgets/` registers the renderers when it loads; without
 * them an object falls back to `text/plain`, so the runtime stays usable (and printable) on its own.
 */

export type MimeBundle = Record<string, unknown>;

/** The kinds of runtime objects that can render. */
export type RenderableKind = "process" | "supervisor" | "snapshot" | "events" | "metrics" | "demo" | "netsplit";

type Renderer = (value: unknown) => MimeBundle;

const renderers = new Map<RenderableKind, Renderer>();

export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

export function registerRenderer(kind: RenderableKind, render: Renderer): void {
  renderers.set(kind, render);
}

/** Bundle for `value`, or a plain-text bundle when no renderer is registered or the renderer throws. */
export function renderAs(kind: RenderableKind, value: unknown, plain: () => string): MimeBundle {
  const render = renderers.get(kind);
  if (render) {
    try {
      return render(value);
    } catch (err) {
      // A broken picture must not break the cell; say why in the text fallback.
      return { "text/plain": `${plain()}\n(rendering failed: ${err instanceof Error ? err.message : String(err)})` };
    }
  }
  return { "text/plain": plain() };
}
