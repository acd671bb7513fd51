/**
 * `otp-lab autograder SOURCE --out autograder.zip`: a Gradescope autograder, run the way Gradescope runs it.
 * The zip is unpacked (with Python's zipfile, keeping the permissions it records) into a temporary root laid out
 * like Gradescope's `/autograder` (`source/`, `submission/`, `results/`), and `run_autograder` is run there with
 * `AUTOGRADER_ROOT` pointing at it, for a solved, a blank and a broken submission (and a symbolic link to the
 * source notebook, which must score nothing). setup.sh (apt-get, NodeSource,
 * npm ci) is for Gradescope's image and is not run here: `OTP_LAB` makes run_autograder use this machine's node
 * and this checkout; the zip's own copy of the package runs where no kernel is needed (a multi-notebook
 * assignment with nothing gradable submitted), with this checkout's node_modules linked in.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CLI, ROOT, otpLab, readNb, requireBuild, tempDir, type CliResult } from "./grader/helpers.js";

const LESSON = path.join(ROOT, "notebooks/03-one-for-one.ipynb");
const L01 = path.join(ROOT, "notebooks/01-processes-links-monitors.ipynb");
const dir = tempDir("otp-lab-autograder-test-");
const zipFile = path.join(dir, "autograder.zip");
const SLOW = 300_000;

/** Entries of a zip as Python's zipfile reads them (name, Unix mode, size), after checking every CRC. */
function zipEntries(file: string): { name: string; mode: number; size: number }[] {
  const r = spawnSync(
    "/usr/bin/python3",
    ["-c", "import sys, json, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps([[i.filename, i.external_attr >> 16, i.file_size] for i in z.infolist()]))", file],
    { encoding: "utf8" },
  );
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as [string, number, number][]).map(([name, mode, size]) => ({ name, mode, size }));
}

/** Unpacks into `root/source`, as Gradescope does, with the recorded permissions (zipfile alone drops them). */
function unpack(file: string, root: string): void {
  for (const d of ["source", "submission", "results"]) mkdirSync(path.join(root, d), { recursive: true });
  const r = spawnSync(
    "/usr/bin/python3",
    ["-c", "import sys, os, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor i in z.infolist():\n    p = z.extract(i, sys.argv[2])\n    os.chmod(p, (i.external_attr >> 16) & 0o777)", file, path.join(root, "source")],
    { encoding: "utf8" },
  );
  expect(r.status, r.stderr).toBe(0);
}

/** Runs `ROOT/source/run_autograder` itself (Gradescope executes it), with the root from the environment. */
function runAutograder(root: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(root, "source", "run_autograder"), [], {
      cwd: root,
      env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, AUTOGRADER_ROOT: root, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const results = (root: string) => JSON.parse(readFileSync(path.join(root, "results", "results.json"), "utf8"));

beforeAll(async () => {
  requireBuild();
  const r = await otpLab(["autograder", LESSON, "--out", zipFile, "--timeout", "5"]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/otp-lab autograder: wrote .*autograder\.zip \(\d+ KB: 03-one-for-one\.ipynb; --timeout 5 --budget 480 --memory 1024\)/);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the autograder zip", () => {
  it("has setup.sh and run_autograder at its root (executable), the source, the settings and this package", () => {
    const entries = zipEntries(zipFile);
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get("setup.sh")?.mode).toBe(0o100755);
    expect(byName.get("run_autograder")?.mode).toBe(0o100755);
    expect(byName.get("assignment/03-one-for-one.ipynb")?.size).toBe(statSync(LESSON).size);
    expect(byName.get("otp-lab-autograder.json")?.mode).toBe(0o100644);
    // The whole build, JavaScript and declarations (the kernel type-checks cells against them).
    const dist: string[] = [];
    const walk = (rel: string) => {
      for (const e of readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${rel}/${e.name}`);
        else if (e.name.endsWith(".js") || e.name.endsWith(".d.ts")) dist.push(`otp-lab/${rel}/${e.name}`);
      }
    };
    walk("dist");
    expect(dist.filter((f) => !byName.has(f))).toEqual([]);
    expect(entries.some((e) => e.name.endsWith(".map"))).toBe(false);

    const root = path.join(dir, "inspect");
    unpack(zipFile, root);
    const pkg = JSON.parse(readFileSync(path.join(root, "source/otp-lab/package.json"), "utf8"));
    expect(pkg.name).toBe("otp-lab");
    expect(pkg.scripts).toBeUndefined(); // no "prepare": npm ci must not try to build sources that are not there
    expect(readFileSync(path.join(root, "source/otp-lab/package-lock.json"), "utf8")).toBe(readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
    const settings = JSON.parse(readFileSync(path.join(root, "source/otp-lab-autograder.json"), "utf8"));
    expect(settings).toMatchObject({ notebooks: ["03-one-for-one.ipynb"], timeout_s: 5, budget_s: 480, memory_mb: 1024, hidden_visibility: "after_published", allow_unsandboxed: false });
    const setup = readFileSync(path.join(root, "source/setup.sh"), "utf8");
    for (const s of ["node_20.x", "apt-get install -y nodejs", "bubblewrap", "npm ci --omit=dev"]) expect(setup).toContain(s);
    for (const script of ["setup.sh", "run_autograder"]) {
      const r = spawnSync("bash", ["-n", path.join(root, "source", script)], { encoding: "utf8" });
      expect(r.status, `${script}: ${r.stderr}`).toBe(0);
    }
  });
});

describe("run_autograder in a root laid out like Gradescope's", () => {
  const roots: Record<string, string> = {};
  const runs: Record<string, CliResult> = {};

  beforeAll(async () => {
    const student = path.join(dir, "student.ipynb");
    expect((await otpLab(["assign", LESSON, student])).code).toBe(0);
    const submissions: Record<string, [string, string | Buffer]> = {
      // One notebook is asked for: the student's may have any name.
      solved: ["Lab 3 (final).ipynb", readFileSync(LESSON)],
      blank: ["03-one-for-one.ipynb", readFileSync(student)],
      broken: ["03-one-for-one.ipynb", '{"cells": [ this is not JSON'],
      // A link to the source notebook in the zip (a git repository submitted to Gradescope can hold one).
      link: ["03-one-for-one.ipynb", ""],
    };
    await Promise.all(
      Object.entries(submissions).map(async ([what, [name, content]]) => {
        const root = path.join(dir, what);
        unpack(zipFile, root);
        if (what === "link") symlinkSync(path.join(root, "source/assignment/03-one-for-one.ipynb"), path.join(root, "submission", name));
        else writeFileSync(path.join(root, "submission", name), content);
        writeFileSync(path.join(root, "submission", "README.txt"), "not a notebook");
        roots[what] = root;
        runs[what] = await runAutograder(root, { OTP_LAB: `${process.execPath} ${CLI}` });
      }),
    );
  }, SLOW);

  it("a solved submission: full marks in results.json", () => {
    expect(runs.solved!.code, runs.solved!.stderr).toBe(0);
    expect(runs.solved!.stderr).toMatch(/autograder: grading Lab 3 \(final\)\.ipynb against 03-one-for-one\.ipynb/);
    const gs = results(roots.solved!);
    expect(gs).toMatchObject({ score: 6, visibility: "visible", stdout_visibility: "hidden", extra_data: { max_score: 6, finished: true } });
    expect(gs.tests.map((t: any) => [t.name, t.score, t.max_score, t.status, t.visibility])).toEqual([
      ["l03-ex1-tests", 2, 2, "passed", "after_published"],
      ["l03-ex2-tests", 4, 4, "passed", "after_published"],
    ]);
  });

  it("a blank submission: zero, each test saying why", () => {
    expect(runs.blank!.code, runs.blank!.stderr).toBe(0);
    const gs = results(roots.blank!);
    expect(gs).toMatchObject({ score: 0, extra_data: { max_score: 6, finished: true } });
    expect(gs.tests.map((t: any) => [t.score, t.status, t.output])).toEqual([
      [0, "failed", "Error: not implemented"],
      [0, "failed", "Error: not implemented"],
    ]);
  });

  it("a broken submission: zero, and the reason for the student", () => {
    expect(runs.broken!.code, runs.broken!.stderr).toBe(0);
    const gs = results(roots.broken!);
    expect(gs).toMatchObject({ score: 0, extra_data: { max_score: 6, finished: false } });
    expect(gs.output).toMatch(/The submission could not be graded: submission .*03-one-for-one\.ipynb is not valid notebook JSON/);
    for (const t of gs.tests) expect(t.output).toMatch(/^not run: submission .* is not valid notebook JSON/);
  });

  it("a symbolic link instead of a notebook: zero, never the file it points at", () => {
    expect(runs.link!.code, runs.link!.stderr).toBe(0);
    const gs = results(roots.link!);
    expect(gs).toMatchObject({ score: 0, extra_data: { max_score: 6, finished: false } });
    expect(gs.output).toMatch(/The submission could not be graded: submission .*03-one-for-one\.ipynb is a symbolic link, not a notebook; submit the notebook file itself/);
  });

  it("no hidden-test text anywhere students see it at once", () => {
    const nb = readNb(LESSON);
    const hidden = nb.cells
      .flatMap((c) => (Array.isArray(c.source) ? c.source.join("") : c.source).match(/\/\/ BEGIN HIDDEN TESTS\n[\s\S]*?\/\/ END HIDDEN TESTS/g) ?? [])
      .flatMap((b) => b.split("\n").slice(1, -1).map((l) => l.trim()))
      .filter((l) => l.length > 40);
    expect(hidden.length).toBeGreaterThan(3);
    for (const root of Object.values(roots)) {
      const gs = results(root);
      const shown = [gs.output, ...gs.tests.filter((t: any) => t.visibility === "visible").map((t: any) => t.output)].join("\n");
      for (const line of hidden) expect(shown).not.toContain(line);
    }
  });
});

describe("a multi-notebook assignment", () => {
  it("matches notebooks by file name; one missing and one broken score zero, saying so, in one results.json (the zip's own otp-lab)", async () => {
    const sources = path.join(dir, "sources");
    mkdirSync(sources, { recursive: true });
    writeFileSync(path.join(sources, "01-processes-links-monitors.ipynb"), readFileSync(L01));
    writeFileSync(path.join(sources, "03-one-for-one.ipynb"), readFileSync(LESSON));
    const zip2 = path.join(dir, "two.zip");
    expect((await otpLab(["autograder", sources, "--out", zip2])).code).toBe(0);
    const root = path.join(dir, "two");
    unpack(zip2, root);
    // setup.sh's `npm ci` is not run here: this checkout's dependencies stand in for it.
    symlinkSync(path.join(ROOT, "node_modules"), path.join(root, "source/otp-lab/node_modules"));
    writeFileSync(path.join(root, "submission", "01-processes-links-monitors.ipynb"), "{ broken");
    const r = await runAutograder(root);
    expect(r.code, r.stderr).toBe(0);
    const gs = results(root);
    expect(gs).toMatchObject({ score: 0, stdout_visibility: "hidden", extra_data: { max_score: 12, finished: false } });
    expect(gs.tests.map((t: any) => [t.name, t.score, t.max_score])).toEqual([
      ["01-processes-links-monitors: l01-ex1-tests", 0, 2],
      ["01-processes-links-monitors: l01-ex2-tests", 0, 4],
      ["03-one-for-one: l03-ex1-tests", 0, 2],
      ["03-one-for-one: l03-ex2-tests", 0, 4],
    ]);
    expect(gs.output).toMatch(/^01-processes-links-monitors\.ipynb\nScore: 0 \/ 6\nThe submission could not be graded: submission .* is not valid notebook JSON/);
    expect(gs.output).toMatch(/\n\n03-one-for-one\.ipynb\nScore: 0 \/ 6\nThe submission could not be graded: the submission has no notebook named 03-one-for-one\.ipynb/);
    expect(gs.tests[3].output).toBe("not run: the submission has no notebook named 03-one-for-one.ipynb");
  });

  it("autograder --run on a folder that is not an unpacked autograder exits 2", async () => {
    const r = await otpLab(["autograder", "--run", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/otp-lab-autograder\.json is missing or unreadable .*is .* an unpacked otp-lab autograder\?/);
  });
});
