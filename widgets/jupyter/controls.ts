/**
 * The core Jupyter widget models (`@jupyter-widgets/controls` 2.0.0, `@jupyter-widgets/base` 2.0.0,
 * `@jupyter-widgets/output` 1.0.0), as ipywidgets 8 describes them in `packages/schema/jupyterwidgetmodels.latest.md`.
 *
 * Each DOM widget gets its own Layout model and, where the model has one, its own style model, as ipywidgets
 * does, so a front end finds every reference it expects. Only the attributes the spec lists for each model are
 * sent, with its defaults unless given.
 */
import { WidgetModel, type WidgetState } from "./model.js";

const CONTROLS = "@jupyter-widgets/controls";
const BASE = "@jupyter-widgets/base";
const OUTPUT = "@jupyter-widgets/output";

function header(model: string, view: string, module = CONTROLS, viewModule = module, version = "2.0.0"): WidgetState {
  return {
    _model_name: model,
    _model_module: module,
    _model_module_version: version,
    _view_name: view,
    _view_module: viewModule,
    _view_module_version: version,
  };
}

/** CSS of a widget (`LayoutModel`): `{ width: "8em", margin: "0 4px" }`, attribute names as in the spec. */
export type LayoutAttributes = Partial<Record<
  "width" | "height" | "margin" | "padding" | "border_top" | "border_bottom" | "border_left" | "border_right" | "flex" | "flex_flow" |
  "align_items" | "justify_content" | "overflow" | "display" | "min_width" | "max_width" | "min_height" | "max_height" | "visibility",
  string | null
>>;

export class Layout extends WidgetModel {
  constructor(attrs: LayoutAttributes = {}) {
    super({ ...header("LayoutModel", "LayoutView", BASE), ...attrs });
  }
}

/** Style models that have a `description_width` (all but ButtonStyleModel among those used here). */
const DESCRIBED = new Set(["DescriptionStyleModel", "HTMLStyleModel", "LabelStyleModel", "SliderStyleModel", "ToggleButtonStyleModel"]);

export class Style extends WidgetModel {
  constructor(model: string, attrs: WidgetState = {}) {
    super({ ...header(model, "StyleView", CONTROLS, BASE), ...(DESCRIBED.has(model) ? { description_width: "" } : {}), ...attrs });
  }
}

export interface DomOptions {
  layout?: LayoutAttributes;
  tooltip?: string | null;
  /** Attributes of the widget's style model, e.g. `{ description_width: "initial" }` (a description shown whole). */
  style?: WidgetState;
}

/** A widget with a view: `_dom_classes`, `layout`, `tabbable`, `tooltip`, and its style model if it has one. */
export class DomWidget extends WidgetModel {
  readonly layout: Layout;
  readonly style: Style | null;

  constructor(model: string, view: string, attrs: WidgetState, options: DomOptions & { styleModel?: string | null; module?: string } = {}) {
    const layout = new Layout(options.layout);
    const style = options.styleModel ? new Style(options.styleModel, options.style) : null;
    const module = options.module ?? CONTROLS;
    super({
      ...header(model, view, module, module, module === OUTPUT ? "1.0.0" : "2.0.0"),
      _dom_classes: [],
      layout,
      ...(style ? { style } : {}),
      tabbable: null,
      tooltip: options.tooltip ?? null,
      ...attrs,
    });
    this.layout = layout;
    this.style = style;
    this.onClose(() => {
      layout.close();
      style?.close();
    });
  }
}

export interface ButtonOptions extends DomOptions {
  description?: string;
  button_style?: "primary" | "success" | "info" | "warning" | "danger" | "";
  icon?: string;
  disabled?: boolean;
}

export class Button extends DomWidget {
  constructor(o: ButtonOptions = {}) {
    super("ButtonModel", "ButtonView", {
      button_style: o.button_style ?? "",
      description: o.description ?? "",
      disabled: o.disabled ?? false,
      icon: o.icon ?? "",
    }, { ...o, styleModel: "ButtonStyleModel" });
  }

  /** Calls `fn` when the button is clicked (the front end sends `{method: "custom", content: {event: "click"}}`). */
  onClick(fn: () => void): () => void {
    return this.onCustom((content) => {
      if (typeof content === "object" && content !== null && (content as { event?: unknown }).event === "click") fn();
    });
  }
}

export interface ToggleButtonOptions extends ButtonOptions {
  value?: boolean;
}

export class ToggleButton extends DomWidget {
  constructor(o: ToggleButtonOptions = {}) {
    super("ToggleButtonModel", "ToggleButtonView", {
      button_style: o.button_style ?? "",
      description: o.description ?? "",
      description_allow_html: false,
      disabled: o.disabled ?? false,
      icon: o.icon ?? "",
      value: o.value ?? false,
    }, { ...o, styleModel: "ToggleButtonStyleModel" });
  }

  get value(): boolean {
    return this.get("value") === true;
  }
}

export interface DropdownOptions extends DomOptions {
  /** The labels shown; the value is the label. */
  options: string[];
  value?: string;
  description?: string;
  disabled?: boolean;
}

/** A choice among labels; the front end syncs the chosen `index`. */
export class Dropdown extends DomWidget {
  readonly options: readonly string[];

  constructor(o: DropdownOptions) {
    const index = o.value === undefined ? (o.options.length ? 0 : null) : o.options.indexOf(o.value);
    if (index === -1) throw new Error(`Dropdown: value ${JSON.stringify(o.value)} is not one of the options ${JSON.stringify(o.options)}`);
    super("DropdownModel", "DropdownView", {
      _options_labels: [...o.options],
      description: o.description ?? "",
      description_allow_html: false,
      disabled: o.disabled ?? false,
      index,
    }, { ...o, styleModel: "DescriptionStyleModel" });
    this.options = [...o.options];
  }

  /** The chosen label, or undefined when nothing is chosen. */
  get value(): string | undefined {
    const i = this.get("index");
    return typeof i === "number" ? this.options[i] : undefined;
  }

  set value(label: string | undefined) {
    const i = label === undefined ? null : this.options.indexOf(label);
    if (i === -1) throw new Error(`Dropdown: ${JSON.stringify(label)} is not one of the options ${JSON.stringify(this.options)}`);
    this.set({ index: i });
  }

  /** Calls `fn` with the new label when the choice changes (either side). */
  onChange(fn: (label: string | undefined) => void): () => void {
    return this.observe("index", () => fn(this.value));
  }
}

export interface IntSliderOptions extends DomOptions {
  value?: number;
  min?: number;
  max?: number;
  step?: number;
  description?: string;
}

export class IntSlider extends DomWidget {
  constructor(o: IntSliderOptions = {}) {
    super("IntSliderModel", "IntSliderView", {
      behavior: "drag-tap",
      continuous_update: true,
      description: o.description ?? "",
      description_allow_html: false,
      disabled: false,
      max: o.max ?? 100,
      min: o.min ?? 0,
      orientation: "horizontal",
      readout: true,
      readout_format: "d",
      step: o.step ?? 1,
      value: o.value ?? 0,
    }, { ...o, styleModel: "SliderStyleModel" });
  }

  get value(): number {
    return Number(this.get("value"));
  }
}

/** HTML (`HTMLModel`): `value` is shown as HTML. */
export class HTML extends DomWidget {
  constructor(value = "", o: DomOptions & { description?: string } = {}) {
    super("HTMLModel", "HTMLView", {
      description: o.description ?? "",
      description_allow_html: false,
      placeholder: "\u200b",
      value,
    }, { ...o, styleModel: "HTMLStyleModel" });
  }

  get value(): string {
    return String(this.get("value") ?? "");
  }

  set value(html: string) {
    this.set({ value: html });
  }
}

export class Label extends DomWidget {
  constructor(value = "", o: DomOptions = {}) {
    super("LabelModel", "LabelView", { description: "", description_allow_html: false, placeholder: "\u200b", value }, { ...o, styleModel: "LabelStyleModel" });
  }
}

/** Output (`@jupyter-widgets/output`): a list of Jupyter outputs shown in place. */
export class Output extends DomWidget {
  constructor(o: DomOptions = {}) {
    super("OutputModel", "OutputView", { msg_id: "", outputs: [] }, { ...o, module: OUTPUT });
  }

  appendStdout(text: string): void {
    this.set({ outputs: [...this.outputs, { output_type: "stream", name: "stdout", text }] });
  }

  appendDisplay(data: Record<string, unknown>): void {
    this.set({ outputs: [...this.outputs, { output_type: "display_data", data, metadata: {} }] });
  }

  clear(): void {
    this.set({ outputs: [] });
  }

  get outputs(): unknown[] {
    const o = this.get("outputs");
    return Array.isArray(o) ? o : [];
  }
}

export interface BoxOptions extends DomOptions {
  box_style?: "success" | "info" | "warning" | "danger" | "";
}

class Box extends DomWidget {
  constructor(model: string, view: string, children: WidgetModel[], o: BoxOptions) {
    super(model, view, { box_style: o.box_style ?? "", children: [...children] }, o);
  }

  get children(): WidgetModel[] {
    return [...((this.get("children") as WidgetModel[] | undefined) ?? [])];
  }

  set children(children: WidgetModel[]) {
    this.set({ children: [...children] });
  }
}

export class VBox extends Box {
  constructor(children: WidgetModel[] = [], o: BoxOptions = {}) {
    super("VBoxModel", "VBoxView", children, o);
  }
}

export class HBox extends Box {
  constructor(children: WidgetModel[] = [], o: BoxOptions = {}) {
    super("HBoxModel", "HBoxView", children, o);
  }
}
