/**
 * The OS sandbox the grader runs untrusted code in (`kernel/grader/isolation.ts`), tested with real processes.
 *
 * Each escape is tried by a small plain Node script (written below) run with `spawnIsolatedNode`, the same
 * launch the grading kernel gets, but WITHOUT Node's permission-model flags: each attempt must be stopped by
 * the OS layer alone (namespaces, read-only mounts, cgroup limits). The last tests start the real kernel.
 *
 * The machine these run on in CI is root with writable cgroups: there every limit must be a cgroup one. As
 * another user the cgroup tests are skipped (the fallback test still runs).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { IsolationUnavailableError, probeIsolation, spawnIsolatedNode, type IsolatedNodeOptions, type IsolatedProcess } from "../kernel/grader/isolation.js";
import type { Sandbox as SandboxType } from "../kernel/grader/sandbox.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ROOT_USER = process.getuid?.() === 0;
const MEMORY_MB = 512;

/** The test's own temporary folder; `box` in it is the sandbox's working folder (the submission's copy). */
const work = mkdtempSync(path.join(os.tmpdir(), "otp-lab-isolation-test-"));
const box = path.join(work, "box");
/** Elsewhere, as the source notebook is: the sandbox must not read it. */
const secretDir = mkdtempSync(path.join(os.tmpdir(), "otp-lab-isolation-secret-"));
const secret = path.join(secretDir, "source.ipynb");
const probeScript = path.join(box, "probe.cjs");
/** A prebuilt native addon, to copy and load. */
const ADDON = path.join(ROOT, "node_modules/@resvg/resvg-js-linux-x64-gnu/resvgjs.linux-x64-gnu.node");

/** The escape attempts: `node probe.cjs NAME JSON-PARAMS`; each prints one JSON line (a few stream more). */
const PROBES = String.raw`
const fs = require("node:fs");
const path = require("node:path");
const [name, raw] = process.argv.slice(2);
const p = JSON.parse(raw || "{}");
const out = (x) => process.stdout.write(JSON.stringify(x) + "\n");
const attempt = (f) => { try { const v = f(); return { ok: true, value: v === undefined ? null : v }; } catch (e) { return { ok: false, code: e.code || e.message }; } };
const probes = {
  identity() {
    const status = fs.readFileSync("/proc/self/status", "utf8");
    out({ uid: process.getuid(), gid: process.getgid(), pid: process.pid, ppid: process.ppid, hostname: require("os").hostname(),
          capEff: /^CapEff:\s*(\S+)/m.exec(status)[1], root: fs.readdirSync("/").sort(), processes: fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).length });
  },
  async net() {
    const results = {};
    for (const host of p.hosts) {
      results[host] = await new Promise((resolve) => {
        const s = require("node:net").connect({ host, port: p.port, timeout: 3000 });
        s.on("connect", () => { s.destroy(); resolve("connected"); });
        s.on("timeout", () => { s.destroy(); resolve("timeout"); });
        s.on("error", (e) => resolve(e.code));
      });
    }
    out(results);
  },
  async signals() {
    let ownTerm = 0;
    process.on("SIGTERM", () => ownTerm++);
    const r = {
      ppid: process.ppid,
      parent: attempt(() => process.kill(process.ppid, "SIGKILL")),
      grader: attempt(() => process.kill(p.grader, "SIGUSR1")),
      graderKill: attempt(() => process.kill(p.grader, "SIGKILL")),
      sibling: attempt(() => process.kill(p.sibling, "SIGKILL")),
      group: attempt(() => process.kill(0, "SIGTERM")),
      all: attempt(() => process.kill(-1, "SIGKILL")),
    };
    await new Promise((res) => setTimeout(res, 300));
    out({ ...r, ownTerm });
  },
  inspector() {
    const inspector = require("node:inspector");
    const r = attempt(() => inspector.open(p.port, "127.0.0.1"));
    out({ open: r, url: inspector.url() || null });
    setInterval(() => {}, 1000);
  },
  write() {
    const r = {};
    for (const dir of p.dirs) {
      r[dir] = { file: attempt(() => fs.writeFileSync(path.join(dir, "escaped.txt"), "x")), mkdir: attempt(() => fs.mkdirSync(path.join(dir, "escaped-dir"))) };
    }
    out(r);
  },
  read() {
    const r = {};
    for (const f of p.files) r[f] = attempt(() => fs.readFileSync(f, "utf8").length);
    out(r);
  },
  dlopen() {
    const r = { original: attempt(() => { const m = { exports: {} }; process.dlopen(m, p.addon); return typeof m.exports; }) };
    for (const dir of p.dirs) {
      const copy = path.join(dir, "evil.node");
      r[dir] = { copy: attempt(() => fs.copyFileSync(p.addon, copy)), dlopen: attempt(() => process.dlopen({ exports: {} }, copy)) };
    }
    out(r);
  },
  async zeromq() {
    const zmq = require(p.zeromq);
    const r = {};
    for (const f of p.sockets) {
      const sock = new zmq.Reply();
      try { await sock.bind("ipc://" + f); r[f] = "bound"; } catch (e) { r[f] = e.code || e.message; }
      sock.close();
    }
    out(r);
  },
  memory() {
    const keep = [];
    for (let mb = 0; mb < 6 * 1024; mb += 64) {
      try {
        // Touched, so the pages really exist; Buffers and ArrayBuffers both live outside the JS heap.
        keep.push(mb % 128 === 0 ? Buffer.alloc(64 << 20).fill(1) : new Uint8Array(new ArrayBuffer(64 << 20)).fill(1));
      } catch (e) {
        out({ refused: e.message, mb });
        return;
      }
      out({ mb: mb + 64 });
    }
    out({ done: true });
  },
  async bomb() {
    const { Worker } = require("node:worker_threads");
    const r = { workers: 0, workerErrors: [], children: 0, childErrors: [] };
    for (let i = 0; i < 200; i++) {
      try {
        const w = new Worker("setInterval(() => {}, 1000)", { eval: true });
        await new Promise((res) => { w.once("online", () => { r.workers++; res(); }); w.once("error", (e) => { r.workerErrors.push(e.code || e.message); res(); }); });
      } catch (e) { r.workerErrors.push(e.code || e.message); }
    }
    for (let i = 0; i < 200; i++) {
      await new Promise((res) => {
        try {
          const c = require("node:child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
          c.once("spawn", () => { r.children++; res(); });
          c.once("error", (e) => { r.childErrors.push(e.code || e.message); res(); });
        } catch (e) { r.childErrors.push(e.code || e.message); res(); }
      });
    }
    r.workerErrors = [...new Set(r.workerErrors)];
    r.childErrors = [...new Set(r.childErrors)];
    out(r);
    process.exit(0);
  },
  spin() {
    out({ spinning: process.pid });
    for (;;) {}
  },
};
Promise.resolve(probes[name]()).catch((e) => { out({ probeFailed: String(e && e.stack || e) }); });
`;

interface ProbeRun {
  jail: IsolatedProcess;
  lines: any[];
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

function start(name: string, params: unknown = {}, options: Partial<IsolatedNodeOptions> = {}): { jail: IsolatedProcess; lines: any[]; stderr: () => string; ended: Promise<ProbeRun> } {
  const jail = spawnIsolatedNode({
    script: probeScript,
    args: [name, JSON.stringify(params)],
    cwd: box,
    env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" },
    stdio: ["ignore", "pipe", "pipe"],
    readPaths: [path.join(ROOT, "node_modules")],
    memoryMb: MEMORY_MB,
    ...options,
  });
  const lines: any[] = [];
  let stderr = "";
  let buffered = "";
  jail.child.stdout!.setEncoding("utf8").on("data", (s: string) => {
    buffered += s;
    for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
      lines.push(JSON.parse(buffered.slice(0, i)));
      buffered = buffered.slice(i + 1);
    }
  });
  jail.child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const ended = new Promise<ProbeRun>((resolve) =>
    jail.child.once("close", (code, signal) => resolve({ jail, lines, stderr, ...jail.exitStatus(code, signal) })),
  );
  return { jail, lines, stderr: () => stderr, ended };
}

/** Runs a probe to its end; returns its first output line. */
async function probe(name: string, params: unknown = {}, options: Partial<IsolatedNodeOptions> = {}): Promise<any> {
  const run = await start(name, params, options).ended;
  if (run.lines.length === 0) throw new Error(`probe ${name} printed nothing (code ${run.code}, signal ${run.signal}): ${run.stderr}`);
  if (run.lines[0].probeFailed) throw new Error(run.lines[0].probeFailed);
  return run.lines[0];
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Processes (host pids) whose command line contains `token`: what is left of a sandbox. */
function processesWith(token: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, "utf8").includes(token)) pids.push(Number(d));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

const failed = (r: { ok: boolean }) => r.ok === false;

beforeAll(() => {
  mkdirSync(box);
  writeFileSync(probeScript, PROBES);
  writeFileSync(path.join(box, "submission.ipynb"), "{}");
  writeFileSync(secret, JSON.stringify({ hidden: "tests" }));
  // Fail with a clear message rather than with every test: the OS sandbox is required here.
  const p = probeIsolation();
  if (!p.ok) throw new Error(`the OS sandbox is not available on this machine: ${p.problem}`);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(secretDir, { recursive: true, force: true });
});

describe("the OS sandbox", () => {
  it("runs the script as uid 65534 without capabilities, alone in its PID namespace, with only the bound paths", async () => {
    const r = await probe("identity");
    expect(r).toMatchObject({ uid: 65534, gid: 65534, pid: 2, ppid: 1, hostname: "otp-lab-sandbox", capEff: "0000000000000000" });
    // bwrap's init and the script.
    expect(r.processes).toBe(2);
    // The merged-/usr links, /usr, /etc (fonts only), /proc, /dev, and the parents of the bound folders.
    const allowed = ["bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "proc", "dev", work.split(path.sep)[1], ROOT.split(path.sep)[1]];
    expect(r.root.filter((d: string) => !allowed.includes(d))).toEqual([]);
    expect(r.root).toEqual(expect.arrayContaining(["usr", "proc", "dev"]));
  });

  it("has no network: a TCP server of the test on 127.0.0.1 (or the machine's address) gets no connection", async () => {
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const external = Object.values(os.networkInterfaces())
        .flat()
        .filter((a) => a && a.family === "IPv4" && !a.internal)
        .map((a) => a!.address);
      const r = await probe("net", { port, hosts: ["127.0.0.1", ...external.slice(0, 1)] });
      expect(r["127.0.0.1"]).toBe("ECONNREFUSED"); // the sandbox's own, empty, loopback
      for (const host of external.slice(0, 1)) expect(r[host]).toMatch(/ENETUNREACH|EHOSTUNREACH|ECONNREFUSED/);
      // The control: the server works, from outside.
      await new Promise<void>((resolve, reject) => net.connect(port, "127.0.0.1").on("connect", resolve).on("error", reject));
      await until("the control connection", () => connections === 1);
      expect(connections).toBe(1);
    } finally {
      server.close();
    }
  });

  it("cannot signal the grader or its other processes: process.kill(ppid | 0 | -1), SIGUSR1 to the grader's pid", async () => {
    const sibling: ChildProcess = spawn("sleep", ["60"], { stdio: "ignore" });
    let usr1 = 0;
    const onUsr1 = () => usr1++;
    process.on("SIGUSR1", onUsr1);
    try {
      const r = await probe("signals", { grader: process.pid, sibling: sibling.pid });
      // Its parent is bwrap's init inside the namespace, which ignores signals from there.
      expect(r.ppid).toBe(1);
      // The grader's and the sibling's pids do not exist in the sandbox's PID namespace.
      expect(r.grader).toMatchObject({ ok: false, code: "ESRCH" });
      expect(r.graderKill).toMatchObject({ ok: false, code: "ESRCH" });
      expect(r.sibling).toMatchObject({ ok: false, code: "ESRCH" });
      // Its own process group is only itself (a new session), and -1 reaches nothing else.
      expect(r.ownTerm).toBe(1);
      await new Promise((res) => setTimeout(res, 200));
      expect(usr1).toBe(0);
      expect(sibling.exitCode).toBeNull();
      expect(sibling.signalCode).toBeNull();
      expect(() => process.kill(sibling.pid!, 0)).not.toThrow();
    } finally {
      process.off("SIGUSR1", onUsr1);
      sibling.kill("SIGKILL");
    }
  });

  it("cannot be reached through the inspector: a port it opens is not reachable from outside", async () => {
    const free = net.createServer();
    await new Promise<void>((resolve) => free.listen(0, "127.0.0.1", resolve));
    const port = (free.address() as net.AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const run = start("inspector", { port });
    try {
      await until("the inspector probe", () => run.lines.length > 0);
      const r = run.lines[0];
      // It may well open one, in its own network namespace.
      expect(r.open.ok).toBe(true);
      expect(r.url).toContain(`127.0.0.1:${port}`);
      const outside = await new Promise<string>((resolve) =>
        net.connect(port, "127.0.0.1").on("connect", () => resolve("connected")).on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message)),
      );
      expect(outside).toBe("ECONNREFUSED");
    } finally {
      run.jail.kill();
      await run.ended;
    }
  });

  it("can write nowhere: not its folder, the test's temporary folder, /tmp, the project, /dev/shm, /", async () => {
    const dirs = [box, work, os.tmpdir(), "/tmp", "/var/tmp", ROOT, path.join(ROOT, "dist"), path.join(ROOT, "node_modules"), "/dev/shm", "/dev", "/", "/usr", "/proc/self"];
    const r = await probe("write", { dirs });
    for (const d of dirs) {
      expect(failed(r[d].file), `write in ${d}`).toBe(true);
      expect(failed(r[d].mkdir), `mkdir in ${d}`).toBe(true);
      expect(existsSync(path.join(d, "escaped.txt"))).toBe(false);
      expect(existsSync(path.join(d, "escaped-dir"))).toBe(false);
    }
    expect(r[box].file.code).toBe("EROFS");
  });

  it("cannot read outside what is bound: not the source notebook in another folder, not /etc or /root", async () => {
    const files = [secret, "/etc/passwd", "/etc/hostname", "/root/.bashrc", path.join(ROOT, "README.md"), path.join(box, "submission.ipynb")];
    const r = await probe("read", { files });
    expect(r[secret]).toMatchObject({ ok: false, code: "ENOENT" });
    expect(failed(r["/etc/passwd"])).toBe(true);
    expect(failed(r["/etc/hostname"])).toBe(true);
    expect(failed(r["/root/.bashrc"])).toBe(true);
    expect(failed(r[path.join(ROOT, "README.md")])).toBe(true);
    // The control: its own folder is readable.
    expect(r[path.join(box, "submission.ipynb")]).toEqual({ ok: true, value: 2 });
  });

  it("cannot load an addon of its own: there is nowhere to copy one to (the bound one loads)", async () => {
    expect(existsSync(ADDON)).toBe(true);
    const dirs = [box, "/tmp", "/dev/shm", "/dev", "/", "/var/tmp", "/proc/self"];
    const r = await probe("dlopen", { addon: ADDON, dirs });
    expect(r.original).toEqual({ ok: true, value: "object" });
    for (const d of dirs) {
      expect(failed(r[d].copy), `copy into ${d}`).toBe(true);
      expect(failed(r[d].dlopen), `dlopen from ${d}`).toBe(true);
    }
  });

  it("cannot bind a zeromq ipc:// socket outside (nor anywhere)", async () => {
    const sockets = [path.join(work, "escape.sock"), path.join(box, "escape.sock"), "/tmp/otp-lab-escape.sock", path.join(ROOT, "escape.sock")];
    const r = await probe("zeromq", { zeromq: path.join(ROOT, "node_modules/zeromq"), sockets });
    for (const s of sockets) {
      expect(r[s], s).not.toBe("bound");
      expect(existsSync(s)).toBe(false);
    }
  });

  it.runIf(ROOT_USER)("is killed when it allocates 6 GiB of Buffers and ArrayBuffers, reported as out of memory (512 MB allowed)", async () => {
    const before = process.memoryUsage().rss;
    const run = await start("memory").ended;
    expect(run.jail.protections.memory).toMatch(/^cgroup-v[12]$/);
    expect(run.signal).toBe("SIGKILL");
    expect(run.jail.outOfMemory()).toBe(true);
    expect(run.jail.counters().oomKills).toBeGreaterThanOrEqual(1);
    const reached = Math.max(...run.lines.map((l) => l.mb ?? 0));
    expect(reached).toBeGreaterThanOrEqual(128);
    expect(reached).toBeLessThanOrEqual(MEMORY_MB);
    expect(run.lines.some((l) => l.done)).toBe(false);
    // The test process did not pay for it.
    expect(process.memoryUsage().rss - before).toBeLessThan(256 << 20);
  });

  it.runIf(ROOT_USER)("caps a thread and process bomb (200 Workers, 200 child processes) at its pids limit", async () => {
    const run = start("bomb", {}, { maxProcesses: 64 });
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, run.jail.counters().tasks ?? 0)), 20);
    const ended = await run.ended;
    clearInterval(sample);
    expect(ended.jail.protections.pids).toMatch(/^cgroup-v[12]$/);
    const counters = ended.jail.counters();
    expect(counters.tasksRefused).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(64);
    // Either the script saw its forks refused, or Node gave up on a thread it could not start: it did not get 400.
    const r = ended.lines[0];
    if (r) {
      expect(r.workers + r.children).toBeLessThan(64);
      expect([...r.workerErrors, ...r.childErrors].length).toBeGreaterThan(0);
    } else {
      expect(ended.code !== 0 || ended.signal !== null).toBe(true);
    }
  });

  it("kill() ends everything in the sandbox, and a killed grader leaves nothing running", async () => {
    // kill(): the script spins; afterwards no process of its sandbox remains.
    const token = `spin-${process.pid}-${Date.now()}`;
    const run = start("spin", { token });
    await until("the spinning probe", () => run.lines.length > 0);
    expect(processesWith(token).length).toBeGreaterThanOrEqual(3); // bwrap, its init, node
    run.jail.kill();
    await run.ended;
    await until("the sandbox's processes to end", () => processesWith(token).length === 0);

    // A grader killed without warning: its sandbox dies with it (--die-with-parent, the PID namespace).
    const token2 = `orphan-${process.pid}-${Date.now()}`;
    const graderScript = path.join(work, "grader.mjs");
    writeFileSync(
      graderScript,
      `import { spawnIsolatedNode } from ${JSON.stringify(path.join(ROOT, "dist/kernel/grader/isolation.js"))};
       const j = spawnIsolatedNode({ script: ${JSON.stringify(probeScript)}, args: ["spin", ${JSON.stringify(JSON.stringify({ token: token2 }))}],
         cwd: ${JSON.stringify(box)}, env: { PATH: "/usr/bin:/bin" }, stdio: ["ignore", "inherit", "inherit"], memoryMb: 256 });`,
    );
    const grader = spawn(process.execPath, [graderScript], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    grader.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    grader.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
    await until(`the grader's sandbox to spin (${out})`, () => out.includes("spinning"));
    expect(processesWith(token2).length).toBeGreaterThanOrEqual(3);
    grader.kill("SIGKILL");
    await until("the orphaned sandbox to end", () => processesWith(token2).length === 0);
  });
});

describe("where a protection is missing", () => {
  it("refuses when bwrap is missing, saying how to install it; allowUnsandboxed runs with a warning", async () => {
    const missing = path.join(work, "no-such-bwrap");
    expect(() => start("identity", {}, { bwrap: missing })).toThrow(IsolationUnavailableError);
    expect(() => start("identity", {}, { bwrap: missing })).toThrow(/bubblewrap \(bwrap\) is not installed.*apt-get install -y bubblewrap.*--allow-unsandboxed/);
    const run = await start("identity", {}, { bwrap: missing, allowUnsandboxed: true }).ended;
    expect(run.jail.protections.isolated).toBe(false);
    expect(run.jail.protections.warnings.join("\n")).toMatch(/WITHOUT the OS sandbox.*bwrap/);
    // Not isolated: it runs as the grader's user, in the grader's PID namespace.
    expect(run.lines[0].uid).toBe(process.getuid!());
    expect(run.lines[0].pid).toBe(run.jail.child.pid);
  });

  it("falls back to RLIMIT_DATA, with warnings, where no cgroup can be made; allocations then fail at the limit", async () => {
    const run = await start("memory", {}, { cgroupRoot: path.join(work, "no-cgroups") }).ended;
    expect(run.jail.protections).toMatchObject({ isolated: true, memory: "rlimit", pids: "none" });
    const warnings = run.jail.protections.warnings.join("\n");
    expect(warnings).toMatch(/memory is limited per process with RLIMIT_DATA only/);
    expect(warnings).toMatch(/the number of processes and threads is not limited/);
    const refused = run.lines.find((l) => l.refused);
    expect(refused?.refused).toMatch(/allocation failed/i);
    expect(refused.mb).toBeLessThanOrEqual(MEMORY_MB);
  });
});

describe("the grading kernel", () => {
  let Sandbox: typeof SandboxType;
  let readableBySandbox: (file: string, cwd: string) => boolean;
  let sandbox: SandboxType | null = null;

  beforeAll(async () => {
    // The build, as the grader runs it (the kernel's script is found next to sandbox.js).
    ({ Sandbox, readableBySandbox } = (await import(path.join(ROOT, "dist/kernel/grader/sandbox.js"))) as typeof import("../kernel/grader/sandbox.js"));
  });
  afterAll(() => sandbox?.kill());

  it("starts isolated when grading, runs a cell, and reports its protections", async () => {
    sandbox = await Sandbox.start({ cwd: box, memoryMb: MEMORY_MB, grading: true });
    expect(sandbox.protections.isolated).toBe(true);
    if (ROOT_USER) expect(sandbox.protections).toMatchObject({ memory: expect.stringMatching(/^cgroup-v[12]$/), pids: expect.stringMatching(/^cgroup-v[12]$/) });
    const results: unknown[] = [];
    sandbox.onEvent = (_id, e) => results.push(e);
    expect(await sandbox.execute("1 + 1", { timeoutMs: 30_000 })).toEqual({ status: "ok", executionCount: 1 });
    expect(results).toContainEqual(expect.objectContaining({ kind: "result", data: { "text/plain": "2" } }));
  }, 120_000);

  it.runIf(ROOT_USER)("is ended by a cell that fills typed arrays past the limit, which the grader reports as out of memory", async () => {
    // Typed arrays live outside V8's heap: --max-old-space-size does not see them, the cgroup does.
    const cell = "const keep: Uint8Array[] = [];\nfor (let i = 0; i < 96; i++) keep.push(new Uint8Array(64 << 20).fill(1));";
    const outcome = await sandbox!.execute(cell, { timeoutMs: 60_000 });
    expect(outcome).toEqual({ status: "crashed", reason: `the kernel ran out of memory (the grader allows ${MEMORY_MB} MB)` });
    expect(sandbox!.alive).toBe(false);
    sandbox!.kill();
  }, 120_000);

  it("counts what the OS sandbox binds as readable: grade refuses a source notebook under /usr as under dist/", () => {
    expect(readableBySandbox("/usr/share/otp-lab/source.ipynb", box)).toBe(true);
    expect(readableBySandbox(path.join(ROOT, "dist/source.ipynb"), box)).toBe(true);
    expect(readableBySandbox(path.join(box, "source.ipynb"), box)).toBe(true);
    expect(readableBySandbox(secret, box)).toBe(false);
  });

  it("leaves no cgroup of this process behind once its sandboxes ended", async () => {
    const mine = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((d) => d.split("-")[1] === String(process.pid)) : []);
    const dirs = ["/sys/fs/cgroup/memory/otp-lab", "/sys/fs/cgroup/pids/otp-lab", "/sys/fs/cgroup/otp-lab"];
    await until("the cgroups to be removed", () => dirs.every((d) => mine(d).length === 0));
  });
});
