#!/usr/bin/env node
/**
 * `otp-lab` command line. Each subcommand lives in its own module and is loaded only when used, so that
 * `otp-lab kernel` starts fast and a broken optional piece cannot stop the others.
 */
type Command = { summary: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  install: {
    summary: "install [--user | --sys-prefix | --prefix DIR]   install the Jupyter kernelspec 'otp-lab'",
    load: () => import("./install.js"),
  },
  kernel: {
    summary: "kernel CONNECTION_FILE   run the kernel (Jupyter does this, from the kernelspec)",
    load: () => import("./kernel-command.js"),
  },
  scenario: {
    summary: "scenario FILE.json [--check]   run an OTP conformance scenario, print its trace",
    load: () => import("./scenario-command.js"),
  },
  assign: {
    summary: "assign SRC.ipynb OUT.ipynb | SOURCE_DIR RELEASE_DIR   write the student version of a source notebook, or of every notebook in a folder (solutions stubbed, hidden tests removed)",
    load: () => import("./grader/assign-command.js"),
  },
  run: {
    summary: "run NOTEBOOK.ipynb [--out FILE] [--timeout SEC]   execute a notebook headless on a fresh kernel, save its outputs",
    load: () => import("./grader/run-command.js"),
  },
  grade: {
    summary:
      "grade SUBMISSION.ipynb --source SRC.ipynb [--format json|junit|gradescope] [--out FILE] [--timeout SEC]   restore locked cells, run, score each grade_id\n" +
      "  otp-lab grade SUBMISSIONS_DIR --source SRC --out-dir RESULTS_DIR [-j N]   grade a whole class: reports, feedback pages, grades.csv",
    load: () => import("./grader/grade-command.js"),
  },
  site: {
    summary: "site serve [--dir DIR] [--port N] [--host H]   serve the static site (npm run build:site) on 127.0.0.1 with the COOP/COEP headers",
    load: () => import("./site-command.js"),
  },
  autograder: {
    summary: "autograder SRC.ipynb|SRC_DIR --out autograder.zip [--timeout SEC]   write a Gradescope autograder (setup.sh, run_autograder)",
    load: () => import("./grader/autograder-command.js"),
  },
};

function usage(): string {
  return ["usage: otp-lab <command> [options]", "", ...Object.values(commands).map((c) => "  otp-lab " + c.summary)].join("\n");
}

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`otp-lab: unknown command '${name}'.\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.main(rest);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`otp-lab: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
