/**
 * Confined cells, for a kernel that runs code it does not trust (the grader's kernel, `OTP_LAB_GRADING=1`).
 *
 * A grade is only worth something if student code cannot change how a test cell's pass/fail is decided. In an
 * ordinary kernel, cells run in the kernel's own global scope with all of Node: a cell could replace
 * `node:vm`, `node:assert`, `Object.prototype.toJSON`, `process.send` or the runtime's exports, listen to the
 * channel that brings the hidden tests, or answer the grader itself. Here, instead:
 *
 *   - `lockdown()` (the `ses` package, run by `sandbox-child.ts` before anything else loads) has frozen every
 *     JavaScript intrinsic: `Object.prototype`, `Array.prototype`, `JSON`, `Promise`, `Function.prototype` ...;
 *     and `Function.prototype.constructor` no longer reaches a global scope.
 *   - Cells are evaluated in SES `Compartment`s, whose global scope holds only what is put there: the
 *     preloaded runtime, widgets and display API (hardened: frozen through and through), a console, and the
 *     cell's timers. No `process`, `require`, `import()` of Node modules, `Buffer`, `vm`, file system or
 *     network: `import` resolves `node:assert` and `node:assert/strict` (hardened) and nothing else. What
 *     decides and reports a cell's outcome (the executor, the IPC channel) is unreachable from there.
 *   - Two scopes. Student cells run in the *student* compartment. Locked cells (the source's tests and
 *     set-up, put back by the grader) run in the *locked* compartment, where the preloaded names and the names
 *     that locked cells declared keep the values those cells gave them: a student cell that redefines
 *     `snapshot`, `assert` or a set-up helper changes its own scope only. Names declared by student cells are
 *     visible to locked cells through forwarding accessors (a test must see the student's `startShop`).
 *     Names declared by locked set-up cells are copied into the student scope after they run (students use
 *     the helpers the lesson gave them); names declared by test cells are not (hidden tests' values stay out).
 *
 * What stays possible, by design: student code runs when a test calls it, and it can change objects it shares
 * with the tests (a process's state, a module's callbacks) the way the runtime's API allows. The OS sandbox
 * (`grader/isolation.ts`) is the boundary for everything else; this module is about the verdict.
 */
import "ses";

export type CellScope = "student" | "locked" | "test";

/** What the grading kernel lets a cell import. */
const ALLOWED_IMPORTS = new Map<string, string>([
  ["node:assert", "node:assert"],
  ["assert", "node:assert"],
  ["node:assert/strict", "node:assert/strict"],
  ["assert/strict", "node:assert/strict"],
]);

export class ImportNotAllowed extends Error {
  override name = "ImportNotAllowed";
}

interface CompartmentLike {
  globalThis: Record<string, unknown>;
  evaluate(source: string): unknown;
}

declare const Compartment: new (options: { globals?: Record<string, unknown>; __options__: true }) => CompartmentLike;
declare function harden<T>(value: T): T;

/** The `lockdown()` options of the grading kernel: errors keep their stacks (tracebacks map them to cells). */
export const LOCKDOWN_OPTIONS = {
  errorTaming: "unsafe",
  stackFiltering: "verbose",
  overrideTaming: "moderate",
  consoleTaming: "unsafe",
  evalTaming: "safeEval",
  domainTaming: "unsafe",
} as const;

/** Freezes the JavaScript intrinsics of this process; once, before any untrusted code loads. */
export function lockdownOnce(): void {
  const g = globalThis as unknown as { lockdown?: (o: object) => void; __otpLabLockedDown?: boolean };
  if (g.__otpLabLockedDown) return;
  if (typeof g.lockdown !== "function") throw new Error("ses did not install lockdown(); is the `ses` package installed?");
  g.lockdown(LOCKDOWN_OPTIONS);
  Object.defineProperty(globalThis, "__otpLabLockedDown", { value: true });
}

/** A cell's JavaScript as `transform.ts` emits it: `"use strict";`, optionally `var a, b;`, the function. */
const VAR_LINE = /^var ([^;\n]+);$/m;

export class Confinement {
  private readonly student: CompartmentLike;
  private readonly locked: CompartmentLike;
  /** Names whose binding in the locked scope is its own (preloaded, or declared by a locked cell). */
  private readonly lockedOwn = new Set<string>();
  /** Names declared by locked set-up cells, copied into the student scope after each locked cell. */
  private readonly setupNames = new Set<string>();
  readonly import: (specifier: unknown) => Promise<unknown>;

  /**
   * `preloaded`: the notebook's preloaded names (runtime, widgets, display API), hardened here.
   * `endowments`: further globals both scopes get (console, timer clearing), hardened here too.
   */
  constructor(preloaded: ReadonlyMap<string, unknown>, endowments: Record<string, unknown>) {
    const globals: Record<string, unknown> = {};
    const seen = new WeakSet<object>();
    for (const [name, value] of preloaded) globals[name] = freezeSurface(value, seen);
    for (const [name, value] of Object.entries(endowments)) globals[name] = harden(value);
    this.student = new Compartment({ globals: { ...globals }, __options__: true });
    this.locked = new Compartment({ globals: { ...globals }, __options__: true });
    for (const name of Object.keys(globals)) this.lockedOwn.add(name);
    const modules = new Map<string, Promise<unknown>>();
    this.import = (specifier: unknown) => {
      const spec = String(specifier);
      const target = ALLOWED_IMPORTS.get(spec);
      if (!target) {
        return Promise.reject(
          new ImportNotAllowed(
            `import of '${spec}' is not available in the grader: graded notebooks may import only node:assert and ` +
              `node:assert/strict (the runtime, the pictures and the display API are already in scope)`,
          ),
        );
      }
      let m = modules.get(target);
      if (!m) {
        // A plain copy of the namespace: a module namespace object cannot be frozen, a copy can.
        m = import(target).then((ns: Record<string, unknown>) => harden({ ...ns }));
        modules.set(target, m);
      }
      return m;
    };
    harden(this.import);
  }

  /**
   * Evaluates a compiled cell in the scope it belongs to and returns its function. The cell's top-level
   * declarations (the `var` line) become properties of that scope's global object, so that later cells of the
   * same scope see them (a compartment's `var`s would stay inside one evaluation).
   */
  evaluate(js: string, fileName: string, scope: CellScope): unknown {
    const match = VAR_LINE.exec(js);
    const names = match ? match[1]!.split(",").map((n) => n.trim()).filter((n) => n !== "") : [];
    // Keep the line (as a blank one) so that the source map's lines still match.
    const body = match ? js.slice(0, match.index) + js.slice(match.index + match[0].length) : js;
    if (scope === "student") {
      for (const name of names) {
        defineData(this.student.globalThis, name);
        if (!this.lockedOwn.has(name)) this.forward(name);
      }
    } else {
      for (const name of names) {
        defineData(this.locked.globalThis, name, true);
        this.lockedOwn.add(name);
        if (scope === "locked") this.setupNames.add(name);
        else this.setupNames.delete(name);
      }
    }
    // No spaces in a sourceURL: V8 stops at the first one. Stack frames then name the cell's registered file.
    const compartment = scope === "student" ? this.student : this.locked;
    return compartment.evaluate(`${body}\n//# sourceURL=${fileName}`);
  }

  /** After a locked set-up cell: what it declared becomes visible to student cells. */
  afterCell(scope: CellScope): void {
    if (scope !== "locked") return;
    for (const name of this.setupNames) {
      const value = this.locked.globalThis[name];
      try {
        Object.defineProperty(this.student.globalThis, name, { value, writable: true, configurable: true, enumerable: false });
      } catch {
        // The student made the name non-configurable in its own scope: its cells keep what they made.
      }
    }
  }

  /** A student name as seen from the locked scope: read and written through to the student scope. */
  private forward(name: string): void {
    const studentGlobal = this.student.globalThis;
    const own = Object.getOwnPropertyDescriptor(this.locked.globalThis, name);
    if (own && !own.configurable) return;
    Object.defineProperty(this.locked.globalThis, name, {
      get: () => studentGlobal[name],
      set: (v: unknown) => {
        studentGlobal[name] = v;
      },
      configurable: true,
      enumerable: false,
    });
  }
}

function defineData(target: Record<string, unknown>, name: string, replace = false): void {
  const own = Object.getOwnPropertyDescriptor(target, name);
  if (own && !replace) return;
  if (own && !own.configurable) return;
  Object.defineProperty(target, name, { value: own && "value" in own ? own.value : undefined, writable: true, configurable: true, enumerable: false });
}

/**
 * Freezes what a test relies on in a preloaded value, without freezing the runtime's state:
 *   - plain objects (API namespaces such as `GenServer`, `display`) are frozen, their members in turn;
 *   - functions and classes: their function- and object-valued statics become read-only, and a class's
 *     prototype is frozen with its methods and accessors (`pid.dead`, `Pid.prototype.toString` cannot be
 *     replaced); statics holding plain values (counters such as the next ref number) stay writable, since the
 *     runtime updates them;
 *   - other objects (instances: a runtime, an event log) are left alone: they are state.
 * SES's `harden()` would freeze all of it, counters included, and break the runtime.
 */
export function freezeSurface<T>(value: T, seen: WeakSet<object>): T {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return value;
  const v = value as unknown as object;
  if (seen.has(v)) return value;
  seen.add(v);
  if (typeof v === "function") {
    for (const key of Reflect.ownKeys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, key)!;
      if (key === "prototype") {
        if (typeof d.value === "object" && d.value !== null) freezePrototype(d.value as object, seen);
        continue;
      }
      if ("value" in d) {
        const x = d.value as unknown;
        if (typeof x !== "function" && !isPlainObject(x)) continue;
        freezeSurface(x, seen);
      } else {
        freezeSurface(d.get, seen);
        freezeSurface(d.set, seen);
      }
      if (d.configurable) Object.defineProperty(v, key, "value" in d ? { writable: false, configurable: false } : { configurable: false });
    }
    return value;
  }
  if (!isPlainObject(v)) return value;
  freezeMembers(v, seen);
  Object.freeze(v);
  return value;
}

/** `freezeSurface` on every member of `o` (values, getters, setters), except its `constructor`. */
function freezeMembers(o: object, seen: WeakSet<object>): void {
  for (const key of Reflect.ownKeys(o)) {
    if (key === "constructor") continue;
    const d = Object.getOwnPropertyDescriptor(o, key)!;
    if ("value" in d) freezeSurface(d.value, seen);
    else {
      freezeSurface(d.get, seen);
      freezeSurface(d.set, seen);
    }
  }
}

function freezePrototype(proto: object, seen: WeakSet<object>): void {
  if (seen.has(proto) || proto === Object.prototype || proto === Function.prototype) return;
  seen.add(proto);
  freezeMembers(proto, seen);
  Object.freeze(proto);
  const parent = Object.getPrototypeOf(proto) as object | null;
  if (parent) freezePrototype(parent, seen);
}

function isPlainObject(x: unknown): x is object {
  if (typeof x !== "object" || x === null) return false;
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}
