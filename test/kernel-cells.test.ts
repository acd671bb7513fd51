/**
 * Tests what a learner's cells do in the real kernel, driven by Debian's jupyter_client (test/kernel/driver.py):
 * declarations persist and may be redeclared, top-level await, results, errors pointing at the cell's own
 * lines, type errors before running, stop_on_error, imports, completion and help from the language service.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { scenario, useJupyterEnv } from "./kernel/helpers.js";

interface Output {
  type: string;
  name?: string;
  text?: string;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string;
  content?: Record<string, unknown>;
}
interface Cell {
  status: string;
  execution_count: number;
  statuses: string[];
  outputs: Output[];
  traceback?: string;
  reply: Record<string, unknown>;
}

const result = (c: Cell) => c.outputs.find((o) => o.type === "execute_result")?.data?.["text/plain"];
const errors = (c: Cell) => c.outputs.filter((o) => o.type === "error");

const env = useJupyterEnv();

describe("cells", () => {
  let r: { cells: Record<string, Cell>; aborted_statuses: string[]; kernel_stderr: string; kernel_info: Record<string, unknown> };
  beforeAll(async () => {
    r = await scenario(env.env, "cells", 280_000);
  }, 300_000);

  it("reports kernel_info with status, the TypeScript language and the preloaded scope in the banner", () => {
    expect(r.kernel_info.status).toBe("ok");
    expect(r.kernel_info.protocol_version).toBe("5.3");
    expect((r.kernel_info.language_info as { name: string }).name).toBe("typescript");
    expect(String(r.kernel_info.banner)).toMatch(/runtime: \d+ names in scope/);
  });

  it("lets a later cell redeclare const, let, class, function, type and interface; the new one wins", () => {
    expect(result(r.cells.first!)).toBe("[ 1, 2, 1, 'f1', 5 ]");
    expect(r.cells.redeclare!.status).toBe("ok");
    expect(result(r.cells.redeclare!)).toBe("[ 'two', 2, 'f2', 's', 'q', 2 ]");
  });

  it("keeps variables across cells, shared with functions declared in earlier cells", () => {
    expect(result(r.cells.counter_def!)).toBeUndefined(); // declarations have no value
    expect(result(r.cells.counter_use!)).toBe("2");
    expect(result(r.cells.counter_read!)).toBe("2");
    expect(result(r.cells.counter_assign!)).toBe("10");
  });

  it("supports top-level await, destructuring declarations, enums and for await", () => {
    expect(result(r.cells.tla!)).toBe("'WAITED'");
    expect(result(r.cells.destructure!)).toBe("[ 1, 2, [ 3, 4 ], 9, 7 ]");
    expect(result(r.cells.enum!)).toBe("1");
    expect(result(r.cells.async_mode!)).toBe("[ 1, 2 ]");
  });

  it("reports runtime errors with a traceback at the cell's own lines, also through earlier cells", () => {
    const c = r.cells.runtime_error!;
    expect(c.status).toBe("error");
    expect(c.reply.ename).toBe("RangeError");
    expect(c.reply.evalue).toBe("too small: 1");
    expect(c.traceback).toContain("Cell In[10], line 3, column 9");
    expect(c.traceback).toContain("at thrower (Cell In[10]:3:9)");
    expect(c.traceback).toContain("at Cell In[10]:6:1");
    expect(errors(c)).toHaveLength(1);
    const old = r.cells.error_from_old_cell_fn!;
    expect(old.traceback).toContain("at Cell In[11]:3:1");
    expect(old.traceback).toContain("at thrower (Cell In[10]:3:9)");
  });

  it("reports type errors at line and column before running the cell", () => {
    const c = r.cells.type_error!;
    expect(c.reply.ename).toBe("TSError");
    expect(String(c.reply.evalue)).toContain("Type 'string' is not assignable to type 'number'");
    expect(String(c.reply.evalue)).toContain(":2:7");
    // The failed cell did not run: `n` was never declared.
    expect(r.cells.type_error_count!.reply.ename).toBe("TSError");
    expect(String(r.cells.const_reassign!.reply.evalue)).toMatch(/Cannot assign to 'a'.*const/);
    expect(r.cells.syntax_error!.reply.ename).toBe("SyntaxError");
    expect(String(r.cells.syntax_error!.reply.evalue)).toContain(":1:11");
  });

  it("counts executions, and not silent or store_history=false ones", () => {
    expect(r.cells.first!.execution_count).toBe(1);
    const silent = r.cells.silent!;
    expect(silent.outputs.filter((o) => o.type !== "status")).toEqual([]); // no execute_input, no result
    expect(result(r.cells.after_silent!)).toBe("true"); // but it ran
    expect(r.cells.after_silent!.execution_count).toBe(silent.execution_count + 1);
    expect(r.cells.no_history!.execution_count).toBe(r.cells.after_silent!.execution_count);
  });

  it("brackets every request with busy and idle carrying the request as parent", () => {
    for (const c of Object.values(r.cells)) expect(c.statuses).toEqual(["busy", "idle"]);
  });

  it("evaluates user_expressions, errors included", () => {
    const ux = r.cells.user_expressions!.reply.user_expressions as Record<string, Record<string, unknown>>;
    expect(ux.double).toEqual({ status: "ok", data: { "text/plain": "40" }, metadata: {} });
    expect(ux.bad!.status).toBe("error");
  });

  it("shows undefined as no result and Symbol.for('Jupyter.display') objects as rich results", () => {
    expect(result(r.cells.undefined_result!)).toBeUndefined();
    const rich = r.cells.rich_result!.outputs.find((o) => o.type === "execute_result")!;
    expect(rich.data).toEqual({ "text/html": "<i>rich</i>", "text/plain": "rich" });
  });

  it("aborts execute requests queued behind a failing cell (stop_on_error)", () => {
    expect(r.aborted_statuses).toEqual(["error", "aborted", "aborted"]);
    expect(result(r.cells.after_abort!)).toBe("'undefined'");
  });

  it("writes nothing to the kernel process's stderr", () => {
    expect(r.kernel_stderr).toBe("");
  });
});

describe("imports", () => {
  let r: Record<string, Cell> & { kernel_stderr: string };
  beforeAll(async () => {
    r = await scenario(env.env, "imports", 280_000);
  }, 300_000);

  it("imports Node built-ins", () => {
    expect(result(r.builtin!)).toBe("'b.txtfunction'");
    expect(result(r.dynamic!)).toBe("'function'");
  });

  it("imports an ESM-only package (estree-walker has only an 'import' export)", () => {
    expect(r.esm_only!.status).toBe("ok");
    expect(result(r.esm_only!)).toBe("[ 'function', 1 ]");
  });

  it("imports CommonJS packages: default, named and namespace imports, and require", () => {
    expect(result(r.cjs_default!)).toBe("7200000");
    expect(result(r.cjs_named!)).toBe("[ 'function', 'boolean' ]");
    expect(result(r.cjs_namespace!)).toBe("'function'");
    expect(result(r.require!)).toBe("'1s'");
  });

  it("imports local .ts files relative to the notebook's directory, with .ts or .js spelling", () => {
    expect(result(r.local_ts!)).toBe("[ 'hello Ada', 2 ]");
    expect(result(r.local_js_spelling!)).toBe("'hello Bob'");
    expect(result(r.local_chain!)).toBe("'hello x / hello x'");
  });

  it("type-checks against imported declarations and reports missing modules", () => {
    expect(String(r.type_from_local!.reply.evalue)).toContain("not assignable to type 'string'");
    expect(r.missing!.status).toBe("error");
    expect(String(r.missing!.reply.evalue)).toContain("no-such-package-xyz");
    expect(r.kernel_stderr).toBe("");
  });
});

describe("language service", () => {
  let r: Record<string, unknown> & { kernel_stderr: string };
  beforeAll(async () => {
    r = await scenario(env.env, "language", 280_000);
  }, 300_000);

  const content = (k: string) => r[k] as Record<string, unknown>;

  it("completes names from earlier cells, members, the runtime's API and the display API", () => {
    expect(content("complete_prev_cell").matches).toEqual(["myLongVariableName"]);
    expect(content("complete_prev_cell").cursor_start).toBe(0);
    expect(content("complete_member").matches).toEqual(["field"]);
    expect(content("complete_runtime").matches).toContain("spawn");
    expect(content("complete_display").matches).toEqual(["markdown"]);
  });

  it("counts cursor positions in code points", () => {
    // "const é = 1; 'é'; myLo" — é is one code point; the replaced word starts at 18.
    expect(content("complete_unicode")).toMatchObject({ matches: ["myLongVariableName"], cursor_start: 18, cursor_end: 22 });
  });

  it("inspects with signatures and doc comments, the runtime's included", () => {
    const fn = content("inspect_fn");
    expect(fn.found).toBe(true);
    expect((fn.data as Record<string, string>)["text/plain"]).toBe("addOne(n: number): number\n\nAdds one.");
    const runtime = (content("inspect_runtime").data as Record<string, string>)["text/plain"]!;
    expect(runtime).toMatch(/^function spawn\(/);
    expect(runtime.split("\n\n").length).toBeGreaterThan(1); // signature, then the doc comment
    expect((content("inspect_display").data as Record<string, string>)["text/plain"]).toContain("rich output");
    expect(content("inspect_nothing").found).toBe(false);
  });

  it("shows help in the pager for name? and ?name, and says when a name is unknown", () => {
    const suffix = content("pager_suffix") as unknown as Cell;
    expect(suffix.reply.payload).toEqual([
      expect.objectContaining({ source: "page", data: expect.objectContaining({ "text/plain": "function addOne(n: number): number\n\nAdds one." }) }),
    ]);
    const prefix = content("pager_prefix") as unknown as Cell;
    expect(JSON.stringify(prefix.reply.payload)).toContain("Shows HTML.");
    const missing = content("pager_missing") as unknown as Cell;
    expect(missing.reply.payload).toEqual([]);
    expect(missing.outputs.find((o) => o.type === "stream")?.text).toBe("Object `noSuchThing` not found.\n");
  });

  it("answers is_complete with complete, incomplete (with indent) and invalid", () => {
    expect(content("is_complete")).toEqual({
      "1 + 1": { status: "complete" },
      "function f() {": { status: "incomplete", indent: "  " },
      "if (a) {\n  if (b) {": { status: "incomplete", indent: "    " },
      "1 +* 2": { status: "invalid" },
      "const s = `x${": { status: "incomplete", indent: "  " },
      "/* open": { status: "incomplete", indent: "" },
    });
  });

  it("keeps history with outputs", () => {
    const h = content("history_tail").history as unknown[][];
    expect(h).toHaveLength(2);
    expect(h[1]).toEqual([1, 4, ["noSuchThing?", null]]);
    expect(r.kernel_stderr).toBe("");
  });
});

describe("the first cell", () => {
  let r: Record<string, Cell> & { kernel_stderr: string };
  beforeAll(async () => {
    r = await scenario(env.env, "first_cell", 280_000);
  }, 300_000);

  it("runs before the type checker is warm, and its type errors are reported with the next cell", () => {
    // Sent right after kernel_info: the checker (about a second, more on a busy machine) is not warm yet.
    expect(r.first!.status).toBe("ok");
    expect(result(r.first!)).toBe("[ 'string', 2 ]");
    const late = errors(r.second!);
    expect(late).toHaveLength(1);
    expect(late[0]!.ename).toBe("TSError");
    expect(late[0]!.evalue).toContain("Type 'string' is not assignable to type 'number'");
    expect(late[0]!.evalue).toContain("(Cell In[1]:1:7)");
    expect(late[0]!.traceback).toContain("Cell In[1] ran before the type checker was ready");
    // The next cell itself ran: the late report is not its error. It sees the first cell's declaration.
    expect(r.second!.status).toBe("ok");
    expect(result(r.second!)).toBe("'text'");
  });

  it("checks every later cell before it runs", () => {
    expect(r.third!.status).toBe("error");
    expect(r.third!.reply.ename).toBe("TSError");
    expect(errors(r.third!)).toHaveLength(1);
    expect(result(r.third!)).toBeUndefined();
    expect(result(r.fourth!)).toBe("'undefined'");
    expect(r.kernel_stderr).toBe("");
  });
});
