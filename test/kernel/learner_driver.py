"""A learner's mistakes, seen by a real client (Debian's jupyter_client): errors shown where they came from.

Usage: python3 learner_driver.py   (JUPYTER_PATH must point at a prefix holding the otp-lab kernelspec)

Prints one JSON object with each cell's summary (see driver.py); test/kernel-learner.test.ts makes the assertions.
"""
import time

from driver import Kernel, emit


def main():
    k = Kernel()
    try:
        res = {}
        # A timer that throws after its cell finished, shown in the next cell: where it was set, and that the
        # next cell did not raise it.
        res["timer_set"] = k.execute("const delay = 50;\nsetTimeout(() => { throw new Error('late boom') }, delay);\n'scheduled'")  # 1
        time.sleep(0.5)
        res["timer_shown"] = k.execute("'next'")  # 2
        # A timer of an earlier cell that fires while a later cell runs: shown in the running cell, same origin.
        res["timer_set_2"] = k.execute("setTimeout(() => {\n  throw new RangeError('during another cell');\n}, 100);")  # 3
        res["timer_during"] = k.execute("await new Promise((r) => setTimeout(r, 500));\n'waited'")  # 4
        # A promise rejected after its cell finished, nobody handling it; and one rejected with a plain string.
        res["rejection_set"] = k.execute(
            "const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('rejected late')), 50));\n'made'"
        )  # 5
        time.sleep(0.5)
        res["rejection_shown"] = k.execute("'after'")  # 6
        res["rejection_string_set"] = k.execute(
            "const failLater = async () => {\n  await new Promise((r) => setTimeout(r, 50));\n  throw 'a plain string';\n};\nvoid failLater();"
        )  # 7
        time.sleep(0.5)
        res["rejection_string_shown"] = k.execute("'after again'")  # 8
        # name? for a name that does not exist.
        res["help_missing"] = k.execute("nosuchThing?")  # 9
        # A `let` keeps its type across cells; redeclaring it is still allowed.
        res["let_declare"] = k.execute("let q = 1;")  # 10
        res["let_wrong_type"] = k.execute("const other = 2;\nq = 's';")  # 11
        res["let_after_error"] = k.execute("q")  # 12
        res["let_same_type"] = k.execute("q = 5;\nq")  # 13
        res["let_redeclare"] = k.execute("let q = 's';\nq")  # 14
        res["let_new_type"] = k.execute("q = 't';\nq")  # 15
        # Ops never awaited: a warning at the end of the cell naming the call and line; nothing started.
        res["ops_setup"] = k.execute(
            "const Worker = defmodule('Worker', { init: (n: number) => ['ok', n] });\n"
            "const [, ds] = await DynamicSupervisor.startLink({});\n"
            "const spec = (i: number) => ({ id: i, start: () => GenServer.startLink(Worker, i) });"
        )  # 16
        res["ops_not_awaited"] = k.execute(
            "for (let i = 0; i < 3; i++)\n  DynamicSupervisor.startChild(ds, spec(i));\n(await DynamicSupervisor.countChildren(ds)).active"
        )  # 17
        res["ops_started"] = k.execute("(await DynamicSupervisor.whichChildren(ds)).length")  # 18
        res["ops_awaited"] = k.execute(
            "for (let i = 0; i < 3; i++)\n  await DynamicSupervisor.startChild(ds, spec(i));\n(await DynamicSupervisor.countChildren(ds)).active"
        )  # 19
        res["ops_one_call"] = k.execute("const [, w] = await DynamicSupervisor.startChild(ds, spec(9)) as ['ok', Pid];\nGenServer.call(w, 'get');\n'done'")  # 20
        res["ops_value"] = k.execute("GenServer.call(w, 'get')")  # 21
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        k.close()


if __name__ == "__main__":
    main()
