/**
 * The operating-system sandbox around a Node process the grader does not trust (the grading kernel,
 * `sandbox-child.ts`), and the limits on what it may consume. Node's permission model, which `sandbox.ts` also
 * applies, is a second layer: it is not a security boundary (Node's own documentation says so), this is.
 *
 * What is isolated, and how:
 *   - Namespaces, with Debian's `bwrap` (bubblewrap): new user, PID, network, IPC, UTS and cgroup namespaces.
 *     - network: the sandbox has only its own loopback; nothing it opens is reachable from outside and it
 *       reaches nothing outside, not even the host's 127.0.0.1 (a grader's services, an inspector port);
 *     - PID: it sees and signals only its own processes, so `process.kill(ppid | 0 | -1)` cannot reach the
 *       grader or anything else on the machine; `--new-session` also takes it out of the grader's process
 *       group and terminal;
 *     - user: it runs as uid/gid 65534 with every capability dropped (`--cap-drop ALL`) and may not create
 *       further user namespaces (`--disable-userns`, where bwrap has it). As with any bwrap, uid 65534 inside
 *       is the grader's own uid outside (root's, when the grader runs as root): that is what lets it read the
 *       grader's private (0700) copy of the submission. Without capabilities, with every file it can reach
 *       mounted read-only and no process but its own in sight, that uid gives it nothing more; running the
 *       grader as an unprivileged user makes it an unprivileged uid outside as well.
 *   - Files: the root is an empty tmpfs, remounted read-only, with read-only binds of only what the kernel
 *     needs: `/usr` (with the merged-/usr links `/bin`, `/lib`, `/lib64`...), `/etc/fonts` (the widgets draw
 *     with the system fonts), the node binary, the project's `dist/`, `node_modules/` and `package.json`, and
 *     the submission's working folder (a fresh copy made by `grade-command.ts`). Every path is bound at itself,
 *     so the `--allow-fs-read` flags of the permission model mean the same inside. `/proc` is a fresh
 *     PID-namespace-local procfs, `/dev` a minimal one, also remounted read-only. There is no writable
 *     directory at all (the kernel needs none: the permission model already forbade every write), so code
 *     cannot bring an addon of its own to `process.dlopen`, nor fill a tmpfs.
 *   - Memory and processes, with a cgroup per sandbox (`<cgroupfs>/memory/otp-lab/<id>` and
 *     `<cgroupfs>/pids/otp-lab/<id>` on cgroup v1, `<cgroupfs>/otp-lab/<id>` on v2): `memoryMb` is the limit
 *     for all the memory of everything in the sandbox (JS heap, `Buffer`s and `ArrayBuffer`s, native
 *     allocations, thread stacks), swap included where the kernel accounts it (a warning says when not);
 *     `maxProcesses` (default 64) caps its tasks (processes and threads). The
 *     process enters the cgroup before bwrap even starts (a `/bin/sh` wrapper writes its own pid to
 *     `cgroup.procs` and then `exec`s bwrap), so nothing it forks can be left outside. An OOM kill by the
 *     cgroup is reported as running out of memory. The cgroup is removed once the sandbox has ended, its
 *     remaining members killed first; cgroups left behind by a grader that was itself killed are removed by
 *     the next one.
 *   - Lifetime: `--die-with-parent` kills the sandbox when the grader dies, however it dies, and the PID
 *     namespace ends with its first process, so nothing started inside outlives it. `kill()` ends bwrap and
 *     every member of the cgroup.
 *
 * Where a piece is missing:
 *   - bwrap is not installed, or cannot create the namespaces (unprivileged user namespaces disabled, a
 *     container's seccomp/AppArmor profile): `spawnIsolatedNode` refuses, with `IsolationUnavailableError`
 *     saying what is missing and how to fix it. Running student code without the namespaces would leave it
 *     the grader's network, processes and files: that is not a choice to make silently. The caller may
 *     allow it explicitly (`allowUnsandboxed`, the CLI's `--allow-unsandboxed`): the process then runs
 *     without namespaces, still under the limits below, and a warning names what is missing.
 *   - The cgroup hierarchy is not writable (not root, a read-only `/sys/fs/cgroup` in a container): the
 *     grader still grades, with weaker limits and a warning: memory falls back to the per-process
 *     `RLIMIT_DATA` (`ulimit -d`: an allocation that would exceed it fails instead of the process being
 *     killed; it does not add up processes), processes to none (the PID namespace still ends them all with
 *     the sandbox, and the permission model forbids child processes). Limits degrade gracefully because
 *     they only protect the grading machine's availability, which the per-cell time limit also guards;
 *     isolation protects the source notebook's hidden tests and the machine itself.
 *   `Protections` tells the caller which of these are active, with the warnings to print and report.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export type MemoryProtection = "cgroup-v1" | "cgroup-v2" | "rlimit" | "heap-only";
export type ProcessProtection = "cgroup-v1" | "cgroup-v2" | "none";

export interface Protections {
  /** Namespaces and the read-only mount layout (bwrap) are in place. */
  isolated: boolean;
  /** What caps the memory: a cgroup (all memory of the sandbox), `RLIMIT_DATA` (per process), or V8's heap limit only. */
  memory: MemoryProtection;
  /** What caps the number of processes and threads. */
  pids: ProcessProtection;
  /** One line per missing protection, for the grader's output and report. */
  warnings: string[];
}

/** No protection beyond Node's: `otp-lab run` on trusted notebooks. */
export const UNPROTECTED: Readonly<Protections> = Object.freeze({ isolated: false, memory: "heap-only", pids: "none", warnings: [] });

export const DEFAULT_MAX_PROCESSES = 64;
/** The uid and gid inside the sandbox: `nobody`, which owns nothing. */
const SANDBOX_ID = "65534";
const DEFAULT_CGROUP_ROOT = "/sys/fs/cgroup";
const CGROUP_PARENT = "otp-lab";

export class IsolationUnavailableError extends Error {
  override name = "IsolationUnavailableError";
}

export interface IsolatedNodeOptions {
  /** The script node runs; it is bound read-only into the sandbox. */
  script: string;
  args?: readonly string[];
  /** Node flags before the script (the permission model's, in `sandbox.ts`). */
  execArgv?: readonly string[];
  /** Working directory; bound read-only, at the same path. */
  cwd: string;
  /** The whole environment of the process (bwrap passes it on; Node adds its IPC channel's variables). */
  env: NodeJS.ProcessEnv;
  /** As for `child_process.spawn`; may contain "ipc". */
  stdio: StdioOptions;
  serialization?: "json" | "advanced";
  /** Further files and folders the process may read, bound read-only at the same path. */
  readPaths?: readonly string[];
  /** The limit for all memory of the sandbox, in MB. */
  memoryMb: number;
  /** The limit for the sandbox's processes and threads (cgroup pids controller). */
  maxProcesses?: number;
  /** Run without namespaces, with a warning, when bwrap is not usable (instead of refusing). */
  allowUnsandboxed?: boolean;
  /** The bwrap executable (default: `bwrap` on PATH). */
  bwrap?: string;
  /** Where the cgroup hierarchies are mounted (default `/sys/fs/cgroup`). */
  cgroupRoot?: string;
}

/** What the limits recorded (at the process's exit, or now while it runs). */
export interface LimitCounters {
  /** Processes the kernel's OOM killer ended in the cgroup. */
  oomKills: number;
  /** Times usage reached the memory limit (v1 `memory.failcnt`, v2 `memory.events` max). */
  memoryLimitHits: number;
  /** Highest memory use, in bytes, when the cgroup reports it. */
  memoryPeak: number | null;
  /** Tasks in the cgroup now. */
  tasks: number | null;
  /** Forks and thread creations refused by `pids.max`. */
  tasksRefused: number;
}

export interface IsolatedProcess {
  /** The process the grader started (the wrapper that became bwrap, or node itself when not isolated). */
  readonly child: ChildProcess;
  readonly protections: Protections;
  /** Ends the sandbox: bwrap, and every process in its cgroup. Idempotent. */
  kill(): void;
  /**
   * The exit status of the sandboxed program: bwrap reports a program killed by signal N as exit code 128+N,
   * which this turns back into the signal.
   */
  exitStatus(code: number | null, signal: NodeJS.Signals | null): { code: number | null; signal: NodeJS.Signals | null };
  /** True once the process ended because it ran out of its memory limit (the cgroup's OOM killer). */
  outOfMemory(): boolean;
  counters(): LimitCounters;
}

// ---------------------------------------------------------------------------------------------------------
// bwrap

interface BwrapProbe {
  ok: boolean;
  path?: string;
  /** What is wrong and how to fix it. */
  problem?: string;
  disableUserns: boolean;
}

const probes = new Map<string, BwrapProbe>();

function findOnPath(name: string): string | null {
  // Debian's place first: a grader started with a minimal PATH still finds it.
  for (const dir of ["/usr/bin", ...(process.env.PATH ?? "").split(":")]) {
    if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

const INSTALL_HINT = "install it (Debian/Ubuntu: sudo apt-get install -y bubblewrap; Fedora: sudo dnf install bubblewrap)";
const NAMESPACE_HINT =
  "bwrap needs user namespaces: enable them (Debian: sudo sysctl -w kernel.unprivileged_userns_clone=1; " +
  "any distribution: sudo sysctl -w user.max_user_namespaces=15000; Ubuntu 24.04+: an AppArmor profile for bwrap, " +
  "or sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0); in Docker, run the container with " +
  "--security-opt seccomp=unconfined --security-opt apparmor=unconfined, or --privileged";

/**
 * Whether bwrap can build the sandbox here: it is installed, and creates the namespaces and mounts (tried by
 * starting `node --version` in the sandbox; a success is remembered for the process, a failure tried again).
 */
export function probeIsolation(bwrap?: string): BwrapProbe {
  const key = bwrap ?? "";
  const cached = probes.get(key);
  if (cached) return cached;
  const probe = runProbe(bwrap);
  if (probe.ok) probes.set(key, probe);
  return probe;
}

function runProbe(bwrap: string | undefined): BwrapProbe {
  const exe = bwrap ?? findOnPath("bwrap");
  if (!exe || !existsSync(exe)) {
    return { ok: false, disableUserns: false, problem: `bubblewrap (bwrap) is not installed${bwrap ? ` (no ${bwrap})` : ""}: ${INSTALL_HINT}` };
  }
  const help = spawnSync(exe, ["--help"], { encoding: "utf8", timeout: 10_000 });
  if (help.error) return { ok: false, disableUserns: false, problem: `cannot run ${exe}: ${help.error.message}; ${INSTALL_HINT}` };
  const disableUserns = `${help.stdout}${help.stderr}`.includes("--disable-userns");
  const args = [...bwrapArgs({ cwd: "/", readPaths: [], disableUserns }), "--", process.execPath, "--version"];
  const run = spawnSync(exe, args, { encoding: "utf8", timeout: 20_000, env: { PATH: "/usr/bin:/bin" } });
  if (run.status !== 0) {
    const why = (run.error?.message ?? run.stderr ?? "").trim().split("\n").slice(-2).join(" ") || `exit code ${run.status}`;
    return { ok: false, path: exe, disableUserns, problem: `bwrap cannot create the sandbox (${why}); ${NAMESPACE_HINT}` };
  }
  return { ok: true, path: exe, disableUserns };
}

/** The merged-/usr links (`/bin` -> `usr/bin`) as links; on a system without merged /usr, the folders themselves. */
const ROOT_SYSTEM_DIRS = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];
/** `/etc` content the sandbox needs: font configuration (resvg's font database reads it). Nothing secret. */
const ETC_PATHS = ["/etc/fonts"];

/** Files and folders every sandbox can read besides its working folder and `readPaths`: the system's programs and libraries. */
export function systemReadPaths(): string[] {
  const paths = ["/usr"];
  for (const d of ROOT_SYSTEM_DIRS) {
    const p = `/${d}`;
    try {
      if (!lstatSync(p).isSymbolicLink()) paths.push(p);
    } catch {
      // Absent on this system.
    }
  }
  for (const p of ETC_PATHS) if (existsSync(p)) paths.push(p);
  paths.push(process.execPath);
  return [...new Set(paths.map(realpath))];
}

function systemMountArgs(): string[] {
  const args = ["--ro-bind", "/usr", "/usr"];
  for (const d of ROOT_SYSTEM_DIRS) {
    const p = `/${d}`;
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) args.push("--symlink", readlinkSync(p), p);
      else args.push("--ro-bind", p, p);
    } catch {
      // Absent on this system.
    }
  }
  for (const p of ETC_PATHS) if (existsSync(p)) args.push("--ro-bind", realpath(p), realpath(p));
  return args;
}

/** bwrap's options, up to (not including) the `--` before the command. */
function bwrapArgs(o: { cwd: string; readPaths: readonly string[]; disableUserns: boolean }): string[] {
  const args = [
    "--unshare-all", // user, PID, network, IPC, UTS, cgroup namespaces
    "--unshare-user", // not merely "try": --uid needs it
    "--uid", SANDBOX_ID,
    "--gid", SANDBOX_ID,
    "--hostname", "otp-lab-sandbox",
    "--die-with-parent",
    "--new-session",
    "--cap-drop", "ALL",
    ...(o.disableUserns ? ["--disable-userns"] : []),
    ...systemMountArgs(),
  ];
  // Shortest first, so that a path inside one already bound is skipped: it is readable through its parent.
  const covered: string[] = ["/usr", ...ETC_PATHS.map(realpath)];
  const binds = [...new Set([...o.readPaths, o.cwd, process.execPath].map(realpath))].sort((a, b) => a.length - b.length);
  for (const p of binds) {
    if (p === "/" || covered.some((c) => p === c || p.startsWith(c + "/"))) continue;
    if (!existsSync(p)) continue;
    args.push("--ro-bind", p, p);
    covered.push(p);
  }
  args.push(
    "--proc", "/proc",
    "--dev", "/dev",
    // Nothing writable: not the tmpfs bwrap makes the root of, not /dev (and /dev/shm in it).
    "--remount-ro", "/dev",
    "--remount-ro", "/",
    "--chdir", realpath(o.cwd),
  );
  return args;
}

// ---------------------------------------------------------------------------------------------------------
// cgroups

interface CgroupDir {
  version: 1 | 2;
  dir: string;
  controllers: ("memory" | "pids")[];
}

interface Limits {
  memory: MemoryProtection;
  pids: ProcessProtection;
  cgroups: CgroupDir[];
  /** `ulimit -d` value in KiB, when memory falls back to RLIMIT_DATA. */
  dataKb: number | null;
  warnings: string[];
}

let sequence = 0;

/** This process's PID namespace (its inode number). */
const PID_NAMESPACE = (() => {
  try {
    return /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1] ?? "0";
  } catch {
    return "0";
  }
})();

/**
 * `<pid namespace>-<grader pid>-<n>-<random>`: the namespace, because graders in other containers may share
 * the hierarchy and their pids mean nothing here (see `sweepStale`).
 */
function sandboxName(): string {
  return `${PID_NAMESPACE}-${process.pid}-${++sequence}-${randomBytes(3).toString("hex")}`;
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code} ${e.path ?? ""}`.trim() : String(e.message ?? err);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readInt(file: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** A `key value` line of a cgroup stats file (`memory.events`, `memory.oom_control`, `pids.events`). */
function readField(file: string, key: string): number {
  try {
    const m = readFileSync(file, "utf8").match(new RegExp(`^${key} (\\d+)$`, "m"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function members(cg: CgroupDir): number[] {
  try {
    return readFileSync(path.join(cg.dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function killMembers(cg: CgroupDir): void {
  // cgroup v2 (Linux 5.14+) kills the whole group in one write, without racing against forks.
  if (cg.version === 2 && existsSync(path.join(cg.dir, "cgroup.kill"))) {
    try {
      writeFileSync(path.join(cg.dir, "cgroup.kill"), "1");
      return;
    } catch {
      // Fall back to one signal per member.
    }
  }
  for (const pid of members(cg)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/**
 * Removes a sandbox's cgroup; false while members remain. The shared `otp-lab` parent stays: removing it
 * when empty would race with a grader creating its group there (and, on v2, enabling its controllers).
 */
function removeCgroup(cg: CgroupDir): boolean {
  try {
    rmdirSync(cg.dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
}

/** Creates `<parent>/otp-lab/<name>`. */
function makeCgroupDir(parent: string, name: string): string {
  const base = path.join(parent, CGROUP_PARENT);
  mkdirSync(base, { recursive: true });
  sweepStale(base);
  const dir = path.join(base, name);
  mkdirSync(dir);
  return dir;
}

/**
 * Removes the cgroups of graders of this PID namespace that died without cleaning up. Their sandboxes died
 * with them (`--die-with-parent`), so the groups are empty; a group that still has members is left alone
 * (rmdir refuses), and nothing is killed here: a pid that looks dead may be reused or another namespace's.
 */
function sweepStale(base: string): void {
  let entries: string[];
  try {
    entries = readdirSync(base);
  } catch {
    return;
  }
  for (const name of entries) {
    const m = /^(\d+)-(\d+)-\d+-[0-9a-f]+$/.exec(name);
    if (!m || m[1] !== PID_NAMESPACE || Number(m[2]) === process.pid || isAlive(Number(m[2]))) continue;
    try {
      rmdirSync(path.join(base, name));
    } catch {
      // Members still dying: the next grader tries again.
    }
  }
}

function enableControllers(dir: string, wanted: string[]): void {
  const enabled = readFileSync(path.join(dir, "cgroup.subtree_control"), "utf8").split(/\s+/);
  const missing = wanted.filter((c) => !enabled.includes(c));
  if (missing.length > 0) writeFileSync(path.join(dir, "cgroup.subtree_control"), missing.map((c) => `+${c}`).join(" "));
}

function setupLimits(memoryMb: number, maxProcesses: number, cgroupRoot: string): Limits {
  const bytes = String(Math.max(1, Math.round(memoryMb * 1024 * 1024)));
  const limits: Limits = { memory: "rlimit", pids: "none", cgroups: [], dataKb: null, warnings: [] };
  const problems: { memory?: string; pids?: string } = {};
  const name = sandboxName();

  // cgroup v1: one hierarchy per controller.
  const v1Memory = path.join(cgroupRoot, "memory");
  if (existsSync(path.join(v1Memory, "memory.limit_in_bytes"))) {
    let dir: string | null = null;
    try {
      dir = makeCgroupDir(v1Memory, name);
      writeFileSync(path.join(dir, "memory.limit_in_bytes"), bytes);
      // Swap too, where swap is accounted (memsw can only be set at or above the memory limit, hence after it).
      if (existsSync(path.join(dir, "memory.memsw.limit_in_bytes"))) writeFileSync(path.join(dir, "memory.memsw.limit_in_bytes"), bytes);
      else if (swapTotal() > 0) limits.warnings.push("swap is not accounted by the memory cgroup (boot with swapaccount=1): the sandbox may use swap beyond its memory limit");
      // Keep the sandbox's memory out of swap, so that reaching the limit ends it rather than slowing it down to a
      // crawl (older kernels refuse this below a hierarchical parent: then swap stays possible, as the warning says).
      try {
        writeFileSync(path.join(dir, "memory.swappiness"), "0");
      } catch {
        /* see above */
      }
      limits.cgroups.push({ version: 1, dir, controllers: ["memory"] });
      limits.memory = "cgroup-v1";
    } catch (err) {
      if (dir) removeCgroup({ version: 1, dir, controllers: [] });
      problems.memory = `cannot set up ${path.join(v1Memory, CGROUP_PARENT)} (${errorText(err)})`;
    }
  }
  const v1Pids = path.join(cgroupRoot, "pids");
  if (existsSync(path.join(v1Pids, "cgroup.procs"))) {
    let dir: string | null = null;
    try {
      dir = makeCgroupDir(v1Pids, name);
      writeFileSync(path.join(dir, "pids.max"), String(maxProcesses));
      limits.cgroups.push({ version: 1, dir, controllers: ["pids"] });
      limits.pids = "cgroup-v1";
    } catch (err) {
      if (dir) removeCgroup({ version: 1, dir, controllers: [] });
      problems.pids = `cannot set up ${path.join(v1Pids, CGROUP_PARENT)} (${errorText(err)})`;
    }
  }

  // cgroup v2 (the unified hierarchy mounted at the root): both controllers in one group. Processes may only
  // sit in leaves, so the group goes under the hierarchy's root (which is exempt), not under the grader's own.
  const wanted = [limits.memory === "rlimit" ? "memory" : null, limits.pids === "none" ? "pids" : null].filter((c): c is string => c !== null);
  if (wanted.length > 0 && existsSync(path.join(cgroupRoot, "cgroup.controllers"))) {
    let dir: string | null = null;
    try {
      const available = readFileSync(path.join(cgroupRoot, "cgroup.controllers"), "utf8").split(/\s+/);
      const usable = wanted.filter((c) => available.includes(c));
      if (usable.length === 0) throw new Error(`the cgroup v2 hierarchy has no ${wanted.join(" or ")} controller`);
      // Delegated down to otp-lab/<name>: the root's and otp-lab's subtree_control must list them.
      enableControllers(cgroupRoot, usable);
      mkdirSync(path.join(cgroupRoot, CGROUP_PARENT), { recursive: true });
      enableControllers(path.join(cgroupRoot, CGROUP_PARENT), usable);
      dir = makeCgroupDir(cgroupRoot, name);
      if (usable.includes("memory")) {
        writeFileSync(path.join(dir, "memory.max"), bytes);
        if (existsSync(path.join(dir, "memory.swap.max"))) writeFileSync(path.join(dir, "memory.swap.max"), "0");
        // An OOM kill ends the whole sandbox, not one arbitrary member of it.
        if (existsSync(path.join(dir, "memory.oom.group"))) writeFileSync(path.join(dir, "memory.oom.group"), "1");
        limits.memory = "cgroup-v2";
      }
      if (usable.includes("pids")) {
        writeFileSync(path.join(dir, "pids.max"), String(maxProcesses));
        limits.pids = "cgroup-v2";
      }
      limits.cgroups.push({ version: 2, dir, controllers: usable as ("memory" | "pids")[] });
    } catch (err) {
      if (dir) removeCgroup({ version: 2, dir, controllers: [] });
      const why = `cannot set up ${path.join(cgroupRoot, CGROUP_PARENT)} (${errorText(err)})`;
      if (limits.memory === "rlimit") problems.memory ??= why;
      if (limits.pids === "none") problems.pids ??= why;
    }
  }

  const fix = process.getuid?.() === 0 ? "make the cgroup hierarchy writable (in Docker: --privileged, or /sys/fs/cgroup mounted read-write)" : "run the grader as root (or in a cgroup delegated to its user)";
  if (limits.memory === "rlimit") {
    limits.dataKb = Math.max(1024, Math.round(memoryMb * 1024));
    limits.warnings.push(
      `memory is limited per process with RLIMIT_DATA only (${problems.memory ?? `no cgroup memory controller under ${cgroupRoot}`}): ` +
        `memory is not added up across processes, and an allocation over the limit fails instead of ending the kernel; to fix, ${fix}`,
    );
  }
  if (limits.pids === "none") {
    limits.warnings.push(
      `the number of processes and threads is not limited (${problems.pids ?? `no cgroup pids controller under ${cgroupRoot}`}); ` +
        `to fix, ${fix}`,
    );
  }
  return limits;
}

function swapTotal(): number {
  try {
    return Number(/^SwapTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function readCounters(cgroups: readonly CgroupDir[]): LimitCounters {
  const c: LimitCounters = { oomKills: 0, memoryLimitHits: 0, memoryPeak: null, tasks: null, tasksRefused: 0 };
  for (const cg of cgroups) {
    if (cg.controllers.includes("memory")) {
      if (cg.version === 1) {
        c.oomKills += readField(path.join(cg.dir, "memory.oom_control"), "oom_kill");
        c.memoryLimitHits += readInt(path.join(cg.dir, "memory.failcnt")) ?? 0;
        c.memoryPeak = readInt(path.join(cg.dir, "memory.max_usage_in_bytes"));
      } else {
        c.oomKills += readField(path.join(cg.dir, "memory.events"), "oom_kill");
        c.memoryLimitHits += readField(path.join(cg.dir, "memory.events"), "max");
        c.memoryPeak = readInt(path.join(cg.dir, "memory.peak"));
      }
    }
    if (cg.controllers.includes("pids")) {
      c.tasks = readInt(path.join(cg.dir, "pids.current"));
      c.tasksRefused += readField(path.join(cg.dir, "pids.events"), "max");
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// Launch

/**
 * Enters the cgroups and sets the data limit, then becomes the command: `sh -c WRAPPER sh DATA_KB PROCS... -- CMD...`.
 * Done in the process itself, before bwrap starts, so that nothing it forks starts outside the cgroup.
 */
const WRAPPER = [
  'data=$1; shift',
  'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done',
  "shift",
  'if [ "$data" != - ]; then ulimit -d "$data" || exit 125; fi',
  'exec "$@"',
].join("\n");

const live = new Set<() => void>();
let exitHookInstalled = false;

/** A grader that exits while sandboxes run (an uncaught error) takes them with it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const kill of [...live]) kill();
  });
}

/**
 * Starts `node [execArgv] script [args]` in the OS sandbox, with the memory and process limits. Throws
 * `IsolationUnavailableError` when bwrap cannot be used and `allowUnsandboxed` is not set.
 *
 * Used by the grading kernel (`sandbox.ts`) and by the tests, which run plain scripts in it.
 */
export function spawnIsolatedNode(o: IsolatedNodeOptions): IsolatedProcess {
  const probe = probeIsolation(o.bwrap);
  const warnings: string[] = [];
  if (!probe.ok) {
    if (!o.allowUnsandboxed) {
      throw new IsolationUnavailableError(
        `refusing to run untrusted code without the OS sandbox: ${probe.problem}. ` +
          "Only for code you trust, --allow-unsandboxed runs it without (Node's permission model and the limits only).",
      );
    }
    warnings.push(
      `running WITHOUT the OS sandbox (allowed by --allow-unsandboxed): ${probe.problem}. The code shares the grader's network, ` +
        "sees its processes and can read what the grader's user can read wherever Node's permission model has a hole",
    );
  }
  if (!probe.disableUserns && probe.ok) {
    warnings.push("this bwrap cannot forbid nested user namespaces (--disable-userns needs bubblewrap 0.8+)");
  }
  const limits = setupLimits(o.memoryMb, o.maxProcesses ?? DEFAULT_MAX_PROCESSES, o.cgroupRoot ?? DEFAULT_CGROUP_ROOT);
  warnings.push(...limits.warnings);
  const protections: Protections = { isolated: probe.ok, memory: limits.memory, pids: limits.pids, warnings };

  const node = [process.execPath, ...(o.execArgv ?? []), realpath(o.script), ...(o.args ?? [])];
  const command = probe.ok
    ? [probe.path!, ...bwrapArgs({ cwd: o.cwd, readPaths: [...(o.readPaths ?? []), realpath(o.script)], disableUserns: probe.disableUserns }), "--", ...node]
    : node;
  const procsFiles = limits.cgroups.map((cg) => path.join(cg.dir, "cgroup.procs"));
  let child: ChildProcess;
  try {
    child = spawn("/bin/sh", ["-c", WRAPPER, "otp-lab-sandbox", limits.dataKb === null ? "-" : String(limits.dataKb), ...procsFiles, "--", ...command], {
      cwd: o.cwd,
      env: o.env,
      stdio: o.stdio,
      serialization: o.serialization ?? "json",
    });
  } catch (err) {
    for (const cg of limits.cgroups) removeCgroup(cg);
    throw err;
  }

  let final: LimitCounters | null = null;
  let cleaning = false;
  const cleanup = () => {
    // Repeated until the members, killed, have left and the groups could be removed.
    if (cleaning) return;
    cleaning = true;
    const deadline = Date.now() + 10_000;
    const attempt = () => {
      let remaining = false;
      for (const cg of limits.cgroups) {
        killMembers(cg);
        if (!removeCgroup(cg)) remaining = true;
      }
      if (remaining && Date.now() < deadline) setTimeout(attempt, 25);
      else live.delete(killNow);
    };
    attempt();
  };
  const killNow = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const cg of limits.cgroups) killMembers(cg);
  };
  live.add(killNow);
  installExitHook();
  // Registered first, so the counters are read before any other "exit"/"close" listener asks about them.
  child.once("exit", () => {
    final = readCounters(limits.cgroups);
    cleanup();
  });
  child.once("error", () => {
    final ??= readCounters(limits.cgroups);
    cleanup();
  });

  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  child.once("exit", (code, signal) => (exited = { code, signal }));

  return {
    child,
    protections,
    kill: killNow,
    exitStatus(code, signal) {
      if (signal !== null || code === null) return { code, signal };
      // bwrap reports its program's death by signal N as exit code 128+N (the sh wrapper has exec'd it, so adds nothing).
      if (code > 128 && code < 128 + 65) {
        const name = Object.entries(os.constants.signals).find(([, n]) => n === code - 128)?.[0];
        if (name) return { code: null, signal: name as NodeJS.Signals };
      }
      return { code, signal };
    },
    outOfMemory() {
      const c = final ?? readCounters(limits.cgroups);
      if (c.oomKills > 0) return true;
      // A kernel allocation refused at the limit can make a process fail without an OOM kill (bwrap unable to
      // clone, with a few MB): it failed, and it had reached the limit.
      const e = exited as { code: number | null; signal: NodeJS.Signals | null } | null;
      return e !== null && (e.code !== 0 || e.signal !== null) && c.memoryLimitHits > 0;
    },
    counters: () => final ?? readCounters(limits.cgroups),
  };
}

function realpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}
