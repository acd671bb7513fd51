"""Crash and supervisor reports in the real kernel, through Debian's jupyter_client.

Usage: python3 reports_driver.py   (JUPYTER_PATH must point at a prefix holding the otp-lab kernelspec)

Runs cells in which a GenServer crashes, a supervisor restarts a child, and `Logger.level` is turned down, and
prints one JSON object with each cell's summary (driver.py's format); test/kernel-reports.test.ts makes the
assertions.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Kernel, emit  # noqa: E402


def main():
    k = Kernel()
    try:
        cells = {}
        cells["define"] = k.execute(
            'const Counter = defmodule("Counter", {\n'
            '  init: (n: number) => ["ok", n],\n'
            "  handleCall(req: string, _from: From, n: number) {\n"
            '    if (req === "crash") throw new RuntimeError("boom");\n'
            '    return ["reply", n, n];\n'
            "  },\n"
            "});\n"
            "const counter = okPid(await GenServer.start(Counter, 7));\n"
            "Logger.level"
        )
        cells["crash"] = k.execute('await GenServer.call(counter, "crash")')
        cells["restart"] = k.execute(
            'const sup = okPid(await Supervisor.startLink([{ id: "a", start: () => GenServer.startLink(Counter, 0) }], { strategy: "one_for_one" }));\n'
            "const first = (await Supervisor.whichChildren(sup))[0].child as Pid;\n"
            "kill(first);\n"
            "first"
        )
        cells["spawned"] = k.execute(
            "spawn(function* () {\n"
            "  yield* sleep(5);\n"
            '  throw new RangeError("late");\n'
            "});\n"
            "await sleep(10);\n"
            '"slept"'
        )
        cells["errors_only"] = k.execute(
            'Logger.level = "error";\n'
            "kill((await Supervisor.whichChildren(sup))[0].child as Pid);\n"
            '"errors only"'
        )
        cells["quiet"] = k.execute(
            'Logger.level = "none";\n'
            "kill((await Supervisor.whichChildren(sup))[0].child as Pid);\n"
            "const other = okPid(await GenServer.start(Counter, 1));\n"
            'try { await GenServer.call(other, "crash"); } catch {}\n'
            "spawn(function* () { throw new Error(\"unseen\"); });\n"
            "await sleep(1);\n"
            '"quiet"'
        )
        cells["reset"] = k.execute("resetRuntime();\nLogger.level")
        emit({"cells": cells, "kernel_stderr": k.stderr()})
    finally:
        k.close()


if __name__ == "__main__":
    main()
