/**
 * The kernel side of the Jupyter widgets message protocol, version 2.1.0 (ipywidgets 8;
 * `packages/schema/messages.md` in jupyter-widgets/ipywidgets), so widgets render in every front end that ships
 * the widgets manager (JupyterLab 4's `@jupyter-widgets/jupyterlab-manager` 5, VS Code, Voilà...).
 *
 * A `WidgetModel` is one comm to the target `jupyter.widget`. Opening it sends the whole state
 * (`{state, buffer_paths}` with the protocol version in the metadata); later changes go out as
 * `{method: "update"}`. From the front end come `update` (applied, then echoed to every front end as
 * `echo_update`, which is how a second front end learns what the first one did), `request_state` (answered with
 * the whole state), `custom` (a button's `{event: "click"}`) and `comm_close`. The `jupyter.widget.control`
 * target answers `request_states` with every open model at once, as `{model_name, model_module,
 * model_module_version, state}` per model id (what the manager asks for when a page is reloaded). Binary values (`Uint8Array`, `ArrayBuffer`, `DataView`) anywhere in a state travel as buffers.
 */
import { commApi, type CommLike, type CommMessageLike } from "./comms.js";

export const PROTOCOL_VERSION = "2.1.0";
export const WIDGET_TARGET = "jupyter.widget";
export const CONTROL_TARGET = "jupyter.widget.control";
export const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";
/** A model reference in a state, e.g. a Box's children: `"IPY_MODEL_<model id>"`. */
export const MODEL_REF = "IPY_MODEL_";

export type WidgetState = Record<string, unknown>;

/** Who changed an attribute: the kernel (`set`) or a front end (`update` message). */
export type ChangeSource = "kernel" | "frontend";

export type ChangeListener = (value: unknown, old: unknown, source: ChangeSource) => void;

/** Open models by id (for `request_states` and clean-up). */
const open = new Map<string, WidgetModel>();

export class WidgetModel {
  readonly modelId: string;
  private readonly state: WidgetState;
  private comm: CommLike | null;
  private readonly listeners = new Map<string, Set<ChangeListener>>();
  private readonly customHandlers = new Set<(content: unknown, buffers: Uint8Array[]) => void>();
  private readonly closeHandlers = new Set<() => void>();
  private isClosed = false;

  /**
   * Opens the comm and sends `state` (which must hold `_model_name`, `_model_module`, `_model_module_version`,
   * `_view_name`, `_view_module`, `_view_module_version`). Models referenced in it must be created first, as the
   * front end resolves references when the state arrives. `comm` is given when the front end opened it.
   */
  constructor(state: WidgetState, comm?: CommLike) {
    this.state = { ...state };
    if (comm) {
      this.comm = comm;
    } else {
      const api = commApi();
      ensureTargets();
      if (api) {
        const { state: json, bufferPaths, buffers } = splitBuffers(serialize(this.state));
        this.comm = api.openComm(WIDGET_TARGET, { state: json, buffer_paths: bufferPaths }, { metadata: { version: PROTOCOL_VERSION }, buffers });
      } else {
        this.comm = null;
      }
    }
    this.modelId = this.comm?.commId ?? globalThis.crypto.randomUUID().replace(/-/g, "");
    open.set(this.modelId, this);
    this.comm?.onMessage((data, message) => this.receive(data, message));
    this.comm?.onClose(() => this.markClosed());
  }

  /** True once either side closed the comm. */
  get closed(): boolean {
    return this.isClosed;
  }

  get(key: string): unknown {
    return this.state[key];
  }

  /** The whole state as the front end sees it (model references as `"IPY_MODEL_..."`). */
  getState(): WidgetState {
    return serialize(this.state) as WidgetState;
  }

  /** Changes attributes; those whose value changed are sent to the front end in one `update`. */
  set(patch: WidgetState): void {
    const changed: WidgetState = {};
    for (const [key, value] of Object.entries(patch)) {
      const old = this.state[key];
      if (sameValue(old, value)) continue;
      this.state[key] = value;
      changed[key] = value;
    }
    if (Object.keys(changed).length === 0) return;
    this.sendState("update", changed);
    for (const [key, value] of Object.entries(changed)) this.notify(key, value, undefined, "kernel");
  }

  /** Calls `fn` when attribute `key` changes (from either side); returns a function that removes it. */
  observe(key: string, fn: ChangeListener): () => void {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  /** Handles `custom` messages from the front end (a button sends `{event: "click"}`). */
  onCustom(fn: (content: unknown, buffers: Uint8Array[]) => void): () => void {
    this.customHandlers.add(fn);
    return () => this.customHandlers.delete(fn);
  }

  /** Called once when the model is closed, by the kernel or the front end. */
  onClose(fn: () => void): () => void {
    this.closeHandlers.add(fn);
    return () => this.closeHandlers.delete(fn);
  }

  /** Sends a `custom` message to the front end's model. */
  send(content: unknown, buffers: Uint8Array[] = []): void {
    if (this.isClosed) throw new Error(`widget ${this.modelId} is closed; display a new one instead`);
    this.comm?.send({ method: "custom", content }, { buffers });
  }

  /** Closes the comm on both sides; the front end removes the model and its views. */
  close(): void {
    if (this.isClosed) return;
    this.comm?.close();
    this.markClosed();
  }

  /** What a cell shows: the view's MIME type first; `fallback` (text, picture) for front ends without widgets. */
  viewBundle(fallback: Record<string, unknown>): Record<string, unknown> {
    return { [WIDGET_VIEW_MIME]: { model_id: this.modelId, version_major: 2, version_minor: 0 }, ...fallback };
  }

  toJSON(): string {
    return MODEL_REF + this.modelId;
  }

  private markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    open.delete(this.modelId);
    for (const fn of [...this.closeHandlers]) fn();
    this.closeHandlers.clear();
    this.listeners.clear();
    this.customHandlers.clear();
  }

  private sendState(method: "update" | "echo_update", state: WidgetState): void {
    if (!this.comm || this.isClosed) return;
    const { state: json, bufferPaths, buffers } = splitBuffers(serialize(state));
    this.comm.send({ method, state: json, buffer_paths: bufferPaths }, { buffers });
  }

  private notify(key: string, value: unknown, old: unknown, source: ChangeSource): void {
    for (const fn of [...(this.listeners.get(key) ?? [])]) fn(value, old, source);
  }

  private receive(data: unknown, message: CommMessageLike): void {
    if (!isRecord(data)) return;
    switch (data.method) {
      case "update": {
        if (!isRecord(data.state)) return;
        const state = joinBuffers(data.state, Array.isArray(data.buffer_paths) ? data.buffer_paths : [], message.buffers);
        // Every front end learns the new value first (protocol 2.1.0), then the kernel reacts to it.
        this.sendState("echo_update", state);
        for (const [key, value] of Object.entries(state)) {
          const old = this.state[key];
          this.state[key] = value;
          if (!sameValue(old, value)) this.notify(key, value, old, "frontend");
        }
        return;
      }
      case "request_state":
        this.sendState("update", this.state);
        return;
      case "custom":
        for (const fn of [...this.customHandlers]) fn(data.content, message.buffers);
        return;
    }
  }
}

/** An open model by id (closed ones are forgotten). */
export function modelById(id: string): WidgetModel | undefined {
  return open.get(id);
}

export function openModels(): WidgetModel[] {
  return [...open.values()];
}

let targetsRegistered = false;

/**
 * Registers `jupyter.widget` (a front end creating a model: kept as a plain model with its state) and
 * `jupyter.widget.control` (`request_states`). Done when the first model is made, or when widgets load in a
 * kernel; a second call does nothing.
 */
export function ensureTargets(): void {
  const api = commApi();
  if (!api || targetsRegistered) return;
  targetsRegistered = true;
  api.registerCommTarget(WIDGET_TARGET, (comm, data, message) => {
    const d = isRecord(data) ? data : {};
    const state = isRecord(d.state) ? joinBuffers(d.state, Array.isArray(d.buffer_paths) ? d.buffer_paths : [], message.buffers) : {};
    new WidgetModel(state, comm);
  });
  api.registerCommTarget(CONTROL_TARGET, (comm) => {
    comm.onMessage((data) => {
      if (!isRecord(data) || data.method !== "request_states") return;
      // Each entry as ipywidgets 8 sends it and the managers read it: the model's class and its state.
      const states: WidgetState = {};
      for (const m of open.values()) {
        const state = m.getState();
        states[m.modelId] = { model_name: state._model_name, model_module: state._model_module, model_module_version: state._model_module_version, state };
      }
      const { state, bufferPaths, buffers } = splitBuffers(states);
      comm.send({ method: "update_states", states: state, buffer_paths: bufferPaths }, { buffers });
    });
  });
}

// ------------------------------------------------------------------ state (de)serialization

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer);
}

function isBinary(v: unknown): v is Uint8Array | ArrayBuffer | DataView {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isBinary(a) || isBinary(b) || typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(serialize(a)) === JSON.stringify(serialize(b));
}

/** Model references become `"IPY_MODEL_<id>"`, recursively; binary values are kept for `splitBuffers`. */
function serialize(v: unknown): unknown {
  if (v instanceof WidgetModel) return MODEL_REF + v.modelId;
  if (isBinary(v)) return v;
  if (Array.isArray(v)) return v.map(serialize);
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = serialize(x);
    return out;
  }
  return v === undefined ? null : v;
}

function toBytes(v: Uint8Array | ArrayBuffer | DataView): Uint8Array {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * Takes binary values out of a state: each becomes a buffer and a path to it (a list item is left as `null`, a
 * key is removed), as messages.md specifies for `buffer_paths`.
 */
export function splitBuffers(state: unknown): { state: WidgetState; bufferPaths: (string | number)[][]; buffers: Uint8Array[] } {
  const bufferPaths: (string | number)[][] = [];
  const buffers: Uint8Array[] = [];
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (Array.isArray(v)) {
      return v.map((x, i) => {
        if (isBinary(x)) {
          bufferPaths.push([...path, i]);
          buffers.push(toBytes(x));
          return null;
        }
        return walk(x, [...path, i]);
      });
    }
    if (isRecord(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (isBinary(x)) {
          bufferPaths.push([...path, k]);
          buffers.push(toBytes(x));
        } else out[k] = walk(x, [...path, k]);
      }
      return out;
    }
    return v;
  };
  return { state: walk(state, []) as WidgetState, bufferPaths, buffers };
}

/** Puts buffers back at their paths (the inverse of `splitBuffers`); malformed paths are ignored. */
export function joinBuffers(state: Record<string, unknown>, paths: unknown[], buffers: Uint8Array[]): WidgetState {
  const out = structuredClone(state) as WidgetState;
  paths.forEach((path, i) => {
    if (!Array.isArray(path) || path.length === 0 || i >= buffers.length) return;
    let obj: unknown = out;
    for (const key of path.slice(0, -1)) {
      if (typeof obj !== "object" || obj === null) return;
      obj = (obj as Record<string | number, unknown>)[key as string | number];
    }
    if (typeof obj === "object" && obj !== null) (obj as Record<string | number, unknown>)[path[path.length - 1] as string | number] = buffers[i];
  });
  return out;
}
