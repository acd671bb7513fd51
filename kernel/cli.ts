#!/usr/bin/env node
/**
 * `otp-lab` command line. Each subcommand lives in its own module and is loaded only when used, so that
 * `otp-lab kernel` starts fast and a broken optional piece cannot stop the others.
 */
type Command = { summary: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  scenario: {
    summary: "scenario FILE.json [--check]   run an OTP conformance scenario, print its trace",
    load: () => import("./scenario-command.js"),
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
