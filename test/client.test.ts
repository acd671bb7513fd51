/**
 * `otp-lab/client` (client/index.ts) against a real Jupyter server (Debian's python3-jupyter-server) that this
 * test starts on a free port with a token; the otp-lab kernelspec is installed in a temporary JUPYTER_PATH.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PYTHON, ROOT, run, useJupyterEnv } from "./kernel/helpers.js";
import type { ControlEvent, OtpLab as OtpLabType } from "../client/index.js";

const env = useJupyterEnv();
const token = randomBytes(16).toString("hex");
let server: ChildProcess | null = null;
let serverLog = "";
let url = "";
let root = "";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  root = mkdtempSync(path.join(tmpdir(), "otp-lab-client-"));
  url = `http://127.0.0.1:${port}/`;
  server = spawn(
    PYTHON,
    ["-m", "jupyter_server", "--allow-root", `--ServerApp.port=${port}`, "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
      `--ServerApp.token=${token}`, "--ServerApp.open_browser=False", `--ServerApp.root_dir=${root}`],
    { env: env.env, stdio: ["ignore", "pipe", "pipe"] },
  );
  server.stdout!.on("data", (d) => (serverLog += d));
  server.stderr!.on("data", (d) => (serverLog += d));
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      const r = await fetch(`${url}api/status`, { headers: { Authorization: `token ${token}` } });
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`jupyter server did not start:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}, 120_000);

afterAll(async () => {
  server?.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 500));
  if (server && server.exitCode === null) server.kill("SIGKILL");
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The next `n` events of an iterator, or fails after `ms`. */
async function take<T>(it: AsyncIterator<T>, n: number, ms = 20_000): Promise<T[]> {
  const out: T[] = [];
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`only ${out.length} of ${n} events in ${ms} ms: ${JSON.stringify(out)}`)), ms));
  while (out.length < n) {
    const r = await Promise.race([it.next(), timeout]);
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe("otp-lab/client on a Jupyter server", () => {
  let lab: OtpLabType;

  it("is exported as otp-lab/client by the build", async () => {
    const mod = await import("otp-lab/client");
    expect(typeof mod.OtpLab.connect).toBe("function");
    expect(mod.CONTROL_TARGET).toBe("otp-lab.control");
  });

  it("starts an otp-lab kernel and drives its runtime with typed calls and subscriptions", async () => {
    const { OtpLab, ControlError } = await import("otp-lab/client");
    lab = await OtpLab.connect({ url, token });
    expect(lab.kernelId).toMatch(/^[0-9a-f-]{36}$/);
    await lab.execute(
      'const Counter = defmodule("Counter", { init: (n: number) => ["ok", n], handleCall: (_r: unknown, _f: unknown, n: number) => ["reply", n, n], handleCast: (_m: unknown, n: number) => ["noreply", n + 1] });',
    );
    const { pid: sup, tree } = await lab.startSupervisor({ strategy: "one_for_all", name: "Shop", children: [{ id: "cart", module: "Counter", arg: 3 }, { id: "stock" }] });
    expect(tree.root.strategy).toBe("one_for_all");
    expect(tree.root.children!.map((c) => c.id)).toEqual(["cart", "stock"]);
    expect(await lab.listSupervisors()).toEqual([{ pid: sup, name: "Shop", behaviour: "supervisor", strategy: "one_for_all", children: 2 }]);
    const cart = tree.root.children![0]!.pid!;
    const stock = tree.root.children![1]!.pid!;
    expect(await lab.state(cart)).toBe(3);
    expect(await lab.processInfo(cart)).toMatchObject({ pid: cart, module: "Counter", links: [sup] });

    // Events of the supervisor while we kill cart: one_for_all restarts both.
    const events = lab.subscribe("supervisor", { sup });
    await lab.kill(cart);
    const got: ControlEvent[] = [];
    for await (const e of events) {
      got.push(e);
      if (got.length === 3) break; // leaving the loop unsubscribes
    }
    expect(got.map((e) => [e.event, e.data.type, "id" in e.data ? e.data.id : null])).toEqual([
      ["supervisor", "report", "cart"],
      ["supervisor", "restart", "cart"],
      ["supervisor", "restart", "stock"],
    ]);
    const after = await lab.tree("Shop");
    expect(after.root.children!.map((c) => c.pid)).not.toContain(cart);
    expect(after.root.children!.map((c) => c.pid)).not.toContain(stock);
    expect(after.t).toBe(0); // virtual time did not move

    // Children by data, restart and removal.
    const [ok, extra] = await lab.addChild("Shop", { id: "extra", arg: "x" });
    expect(ok).toBe("ok");
    expect(await lab.state(extra)).toBe("x");
    const [, restarted] = await lab.restartChild("Shop", "extra");
    expect(restarted).not.toBe(extra);
    await lab.removeChild("Shop", "extra");
    expect((await lab.tree("Shop")).root.children!.map((c) => c.id)).toEqual(["cart", "stock"]);

    // A followed process's state, changed by a cell.
    const newCart = after.root.children![0]!.pid!;
    const states = lab.subscribe("process", { pid: newCart })[Symbol.asyncIterator]();
    expect((await take(states, 1))[0]).toMatchObject({ event: "process", pid: newCart, alive: true, state: 3 });
    await lab.execute(`GenServer.cast((await Supervisor.whichChildren("Shop")).find((c) => c.id === "cart")!.child as Pid, "inc")`);
    expect((await take(states, 1))[0]).toMatchObject({ state: 4 });
    await lab.crash(newCart, "shutdown");
    expect((await take(states, 1))[0]).toMatchObject({ alive: false, reason: ":shutdown" });
    expect((await states.next()).done).toBe(true);

    // Code loads.
    const code = lab.subscribe("code")[Symbol.asyncIterator]();
    const reload = await lab.reload("Counter");
    expect(reload).toMatchObject({ module: "Counter", version: 2 });
    expect((await take(code, 1))[0]).toMatchObject({ event: "code", data: { type: "code_load", module: "Counter", version: 2 } });
    await code.return!();

    // A bad request is a ControlError with the kernel's message; the runtime is untouched.
    const before = await lab.tree("Shop");
    const err = await lab.restartChild("Shop", "nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect((err as InstanceType<typeof ControlError>).reason).toBe("not_found");
    await expect(lab.request("explode")).rejects.toThrow(/unknown op "explode"; use one of/);
    await expect(lab.kill("<0.9999.0>")).rejects.toThrow(/no live process/);
    expect(await lab.tree("Shop")).toEqual(before);
  });

  it("attaches a second client to the running kernel by id", async () => {
    const { OtpLab } = await import("otp-lab/client");
    const other = await OtpLab.connect({ url, token, kernelId: lab.kernelId });
    try {
      expect((await other.listSupervisors()).map((s) => s.name)).toEqual(["Shop"]);
    } finally {
      await other.close();
    }
    // The first client still works; closing it shuts down the kernel it started.
    expect((await lab.tree("Shop")).root.id).toBe("Shop");
    await lab.close();
    const r = await fetch(`${url}api/kernels`, { headers: { Authorization: `token ${token}` } });
    expect(await r.json()).toEqual([]);
  });
});

describe("the README's client example", () => {
  it("runs as written against the server and prints the report and the two restarts", async () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.split("## Driving a running kernel")[1]!.split("\n## ")[0]!;
    const example = /```js\n([\s\S]*?)```/.exec(section)![1]!;
    expect(example).toContain('from "otp-lab/client"');
    // Inside the package, so that `otp-lab/client` resolves to this build (a package may import itself).
    const dir = mkdtempSync(path.join(ROOT, "test", ".readme-client-"));
    try {
      const file = path.join(dir, "example.mjs");
      writeFileSync(file, example.replace("http://127.0.0.1:8888/", url));
      const r = await run(process.execPath, [file], { env: { ...env.env, JUPYTER_TOKEN: token }, timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split("\n").filter((l) => /^(report|restart) /.test(l));
      expect(lines).toEqual(["report a", "restart a", "restart b"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const kernels = await (await fetch(`${url}api/kernels`, { headers: { Authorization: `token ${token}` } })).json();
    expect(kernels).toEqual([]);
  });
});
