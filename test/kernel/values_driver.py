"""What a learner sees of the runtime's values in the real kernel, through Debian's jupyter_client.

Usage: python3 values_driver.py   (JUPYTER_PATH must point at a prefix holding the otp-lab kernelspec)

Runs cells whose results are a Pid, an EXIT message carrying a crash, an un-awaited Op and a few more, and prints
one JSON object with each cell's summary (driver.py's format); test/kernel-values.test.ts makes the assertions.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Kernel, emit  # noqa: E402


def main():
    k = Kernel()
    try:
        cells = {}
        cells["pid"] = k.execute(
            'const Counter = defmodule("Counter", {\n'
            '  init: (n: number) => ["ok", n],\n'
            '  handleCall: (req: string, _from: From, n: number) => ["reply", n, n],\n'
            "});\n"
            "const pid = okPid(await GenServer.startLink(Counter, 0));\n"
            "pid"
        )
        cells["exit_crash"] = k.execute(
            "trapExit(true);\n"
            'const worker = spawnLink(function* () { throw new RuntimeError("boom"); });\n'
            "await sleep(1);\n"
            "const [msg] = flush();\n"
            "msg"
        )
        cells["worker"] = k.execute("worker")
        cells["op"] = k.execute('GenServer.call(pid, "get")')
        cells["awaited"] = k.execute('await GenServer.call(pid, "get")')
        cells["logged"] = k.execute("console.log([msg, pid]);\nconsole.log(monitor(pid));\nconsole.log(new ExitSignal(\"killed\"))")
        cells["info"] = k.execute("processInfo.of(pid).links")
        cells["info_dead"] = k.execute("processInfo.of(worker).mailbox")
        emit({"cells": cells, "kernel_stderr": k.stderr()})
    finally:
        k.close()


if __name__ == "__main__":
    main()
