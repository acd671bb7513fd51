/**
 * Where widgets send what they draw. The kernel installs a sink that turns these calls into Jupyter
 * `display_data` / `update_display_data` messages; outside a kernel (tests, scripts) nothing is installed and
 * live views simply keep their latest bundle.
 *
 * This indirection keeps `widgets/` free of any dependency on `kernel/`.
 */

/** A Jupyter MIME bundle: MIME type → data (string for text types, JSON value for +json types). */
export type MimeBundle = Record<string, unknown>;

export interface DisplayOptions {
  /** Stable id; a later call with `update: true` and the same id replaces the output in place. */
  displayId?: string;
  /** Send `update_display_data` for `displayId` instead of a new `display_data`. */
  update?: boolean;
  metadata?: Record<string, unknown>;
}

export interface DisplaySink {
  display(bundle: MimeBundle, options?: DisplayOptions): void;
}

let sink: DisplaySink | null = null;

/** Called once by the kernel at start-up. */
export function setDisplaySink(next: DisplaySink | null): void {
  sink = next;
}

export function getDisplaySink(): DisplaySink | null {
  return sink;
}
