/**
 * Values a learner can read, seen by a real client (Debian's jupyter_client, test/kernel/values_driver.py): a
 * cell whose value is a Pid, an EXIT message carrying a crash, or an Op nobody awaited shows the short OTP form
 * (`#PID<0.84.0>`, `{:EXIT, #PID<0.85.0>, {%RuntimeError{message: "boom"}, [stacktrace]}}`, "did you forget
 * `await`?"), never the runtime's internal fields or a JS stack; `console.log` prints the same forms.
 */
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { KERNEL_TEST_DIR, PYTHON, run, useJupyterEnv } from "./kernel/helpers.js";

interface Output {
  type: string;
  name?: string;
  text?: string;
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
interface Cell {
  status: string;
  outputs: Output[];
}

const result = (c: Cell) => c.outputs.find((o) => o.type === "execute_result")?.data?.["text/plain"] as string | undefined;
const stdout = (c: Cell) => c.outputs.filter((o) => o.type === "stream" && o.name === "stdout").map((o) => o.text).join("");
const PID = String.raw`#PID<0\.\d+\.0>`;

const env = useJupyterEnv();

describe("values in cell results", () => {
  let r: { cells: Record<string, Cell>; kernel_stderr: string };
  beforeAll(async () => {
    const out = await run(PYTHON, [path.join(KERNEL_TEST_DIR, "values_driver.py")], { env: env.env, timeoutMs: 200_000 });
    const line = out.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
    if (out.code !== 0 || !line) throw new Error(`values_driver.py failed (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
    r = JSON.parse(line);
  }, 240_000);

  it("a Pid's result text starts with #PID<0.N.0>", () => {
    expect(r.cells.pid!.status).toBe("ok");
    const text = result(r.cells.pid!)!;
    expect(text.split("\n")[0]).toMatch(new RegExp(`^${PID}$`));
    expect(text).toContain("gen_server");
    expect(text).not.toMatch(/rt:|Runtime \{|labelText/);
  });

  it("an EXIT message carrying a crash shows as an OTP term, without a JS stack", () => {
    expect(r.cells.exit_crash!.status).toBe("ok");
    expect(result(r.cells.exit_crash!)).toMatch(new RegExp(String.raw`^\{:EXIT, ${PID}, \{%RuntimeError\{message: "boom"\}, \[stacktrace\]\}\}$`));
    expect(result(r.cells.worker!)).toMatch(new RegExp(String.raw`^${PID} \(dead: \{%RuntimeError\{message: "boom"\}, \[stacktrace\]\}\)$`));
  });

  it("an Op nobody awaited says so: did you forget `await`?", () => {
    expect(r.cells.op!.status).toBe("ok");
    expect(result(r.cells.op!)).toMatch(new RegExp(String.raw`^Op GenServer\.call\(${PID}, "get"\) — not run: did you forget \`await\`\?$`));
    expect(result(r.cells.awaited!)).toBe("0");
  });

  it("console.log prints the same short forms", () => {
    const text = stdout(r.cells.logged!).replace(/\s+/g, " ").trim();
    expect(text).toMatch(
      new RegExp(String.raw`^\[ \[ 'EXIT', ${PID}, \{%RuntimeError\{message: "boom"\}, \[stacktrace\]\} \], ${PID} \] #Reference<\d+> %ExitSignal\{reason: :killed\}$`),
    );
  });

  it("processInfo.of gives Pids and needs no ?.; for a dead process it says why", () => {
    expect(r.cells.info!.status).toBe("ok");
    expect(result(r.cells.info!)).toMatch(new RegExp(String.raw`^\[ ${PID} \]$`));
    const dead = r.cells.info_dead!;
    expect(dead.status).toBe("error");
    expect(dead.outputs.find((o) => o.type === "error")?.evalue).toMatch(new RegExp(String.raw`^processInfo\.of\(${PID}\): the process is dead \(exit reason \{%RuntimeError`));
  });

  it("writes nothing to the kernel's stderr", () => {
    expect(r.kernel_stderr).toBe("");
  });
});
