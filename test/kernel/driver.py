"""End-to-end scenarios for the otp-lab kernel, driven with Debian's jupyter_client.

Usage: python3 driver.py SCENARIO   (JUPYTER_PATH must point at a prefix holding the otp-lab kernelspec)

Each scenario starts a real kernel through jupyter_client's KernelManager, talks to it over ZeroMQ, and prints
one JSON object with what it observed; test/kernel-*.test.ts make the assertions. The kernel process's own
stderr is captured to check that nothing is written there.
"""
import json
import os
import re
import signal
import sys
import tempfile
import time
from queue import Empty

import zmq
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain(s):
    return ANSI.sub("", s)


class Kernel:
    def __init__(self, cwd=None):
        self.stderr_file = tempfile.TemporaryFile()
        self.km = KernelManager(kernel_name="otp-lab")
        t0 = time.monotonic()
        self.km.start_kernel(cwd=cwd or FIXTURES, stderr=self.stderr_file)
        self.kc = self.km.client()
        self.kc.start_channels()
        # Time to the first kernel_info_reply, measured from the launch.
        self.kc.kernel_info()
        try:
            self.info = self.kc.get_shell_msg(timeout=60)
            self.startup_ms = (time.monotonic() - t0) * 1000
            self.kc.wait_for_ready(timeout=60)
        except Exception as e:
            # Say why: a kernel that died, or one still alive but silent, and what it wrote on stderr.
            alive = self.km.is_alive()
            err = self.stderr()
            self.close()
            raise RuntimeError(f"the kernel did not answer kernel_info within 60 s ({type(e).__name__}); "
                               f"its process is {'alive' if alive else 'gone'}; its stderr:\n{err or '(empty)'}") from e
        self.drain()

    def drain(self):
        while True:
            try:
                self.kc.get_iopub_msg(timeout=0.2)
            except Empty:
                return

    def collect(self, msg_id, timeout=60):
        """iopub messages of one request, up to and including its idle status."""
        msgs = []
        deadline = time.monotonic() + timeout
        while True:
            m = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            msgs.append(m)
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                return msgs

    def shell_reply(self, msg_id, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            m = self.kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if m["parent_header"].get("msg_id") == msg_id:
                return m

    def execute(self, code, timeout=60, **kw):
        t0 = time.monotonic()
        msg_id = self.kc.execute(code, **kw)
        reply = self.shell_reply(msg_id, timeout)
        msgs = self.collect(msg_id, timeout)
        return summarize(code, reply, msgs, (time.monotonic() - t0) * 1000)

    def stderr(self):
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode("utf8", "replace")

    def close(self):
        try:
            self.kc.stop_channels()
        finally:
            self.km.shutdown_kernel(now=False)


def summarize(code, reply, msgs, ms):
    statuses = [m["content"]["execution_state"] for m in msgs if m["msg_type"] == "status"]
    outputs = []
    for m in msgs:
        t = m["msg_type"]
        c = m["content"]
        if t == "status":
            continue
        if t == "stream":
            outputs.append({"type": t, "name": c["name"], "text": c["text"]})
        elif t in ("execute_result", "display_data", "update_display_data"):
            outputs.append({"type": t, "data": c["data"], "transient": c.get("transient", {}), "metadata": c.get("metadata", {})})
        elif t == "error":
            outputs.append({"type": t, "ename": c["ename"], "evalue": c["evalue"], "traceback": plain("\n".join(c["traceback"]))})
        else:
            outputs.append({"type": t, "content": c})
    r = reply["content"]
    out = {
        "code": code,
        "status": r["status"],
        "execution_count": r.get("execution_count"),
        "statuses": statuses,
        "first_status": statuses[0] if statuses else None,
        "outputs": outputs,
        "ms": round(ms, 1),
        "reply": {k: v for k, v in r.items() if k not in ("traceback",)},
    }
    if r["status"] == "error":
        out["traceback"] = plain("\n".join(r.get("traceback", [])))
    return out


def text_of(result):
    """text/plain of the execute_result, or None."""
    for o in result["outputs"]:
        if o["type"] == "execute_result":
            return o["data"].get("text/plain")
    return None


def emit(obj):
    print(json.dumps(obj))


# ---------------------------------------------------------------------------------------------- scenarios


def scenario_cells():
    """Cells: redeclaration, persistence, top-level await, results, errors mapped to cell lines, counts."""
    k = Kernel()
    try:
        res = {"startup_ms": k.startup_ms, "kernel_info": k.info["content"]}
        cells = {}
        cells["first"] = k.execute(
            "const a = 1;\nlet b = 2;\nclass C { v() { return 1 } }\nfunction f() { return 'f1' }\n"
            "type T = number;\ninterface I { x: number }\nconst t0: T = 5;\n[a, b, new C().v(), f(), t0]"
        )
        cells["redeclare"] = k.execute(
            "const a = 'two';\nclass C { v() { return 2 } }\nfunction f() { return 'f2' }\n"
            "type T = string;\ninterface I { y: string }\nconst t: T = 's';\nconst i: I = { y: 'q' };\n[a, new C().v(), f(), t, i.y, b]"
        )
        cells["counter_def"] = k.execute("let counter = 0;\nfunction inc() { return ++counter }")
        cells["counter_use"] = k.execute("inc(); inc()")
        cells["counter_read"] = k.execute("counter")
        cells["counter_assign"] = k.execute("counter = 10; counter")
        cells["tla"] = k.execute("const waited = await new Promise<string>((r) => setTimeout(() => r('waited'), 30));\nwaited.toUpperCase()")
        cells["destructure"] = k.execute("const { p, q: [r1, ...rest] } = { p: 1, q: [2, 3, 4] };\nlet [u = 9, , w] = [undefined, 0, 7];\n[p, r1, rest, u, w]")
        cells["enum"] = k.execute("enum Color { Red, Green }\nColor.Green")
        cells["runtime_error"] = k.execute(
            "function thrower(n: number): number {\n  if (n > 1) return thrower(n - 1);\n  throw new RangeError('too small: ' + n);\n}\nconst before = 1;\nthrower(3)"
        )
        cells["error_from_old_cell_fn"] = k.execute("// a cell that calls into the previous one\n\nthrower(2)")
        cells["type_error"] = k.execute("const ok = 1;\nconst n: number = 'not a number';\nn")
        cells["type_error_count"] = k.execute("typeof n")
        cells["const_reassign"] = k.execute("a = 'changed'")
        cells["syntax_error"] = k.execute("const x = ;")
        cells["silent"] = k.execute("globalThis.silentRan = true; 123", silent=True)
        cells["after_silent"] = k.execute("(globalThis as any).silentRan")
        cells["no_history"] = k.execute("'not stored'", store_history=False)
        cells["user_expressions"] = k.execute("const ux = 20", user_expressions={"double": "ux * 2", "bad": "nope("})
        cells["async_mode"] = k.execute("async function* gen() { yield 1; yield 2 }\nconst got: number[] = [];\nfor await (const v of gen()) got.push(v);\ngot")
        cells["undefined_result"] = k.execute("undefined")
        cells["rich_result"] = k.execute(
            "({ [Symbol.for('Jupyter.display')]() { return { 'text/html': '<i>rich</i>', 'text/plain': 'rich' } } })"
        )
        # stop_on_error: requests queued behind a failing cell are aborted, not run.
        ids = [
            k.kc.execute("await new Promise((r) => setTimeout(r, 200)); throw new Error('first fails')"),
            k.kc.execute("globalThis.ranAfterError = true"),
            k.kc.execute("2 + 2"),
        ]
        replies = [k.shell_reply(i)["content"]["status"] for i in ids]
        for i in ids:
            k.collect(i)
        cells["after_abort"] = k.execute("typeof (globalThis as any).ranAfterError")
        res["aborted_statuses"] = replies
        res["cells"] = cells
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        k.close()


def scenario_security():
    """Forged, unsigned, tampered and replayed messages are dropped and never executed."""
    k = Kernel()
    try:
        info = k.km.get_connection_info(session=False)
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"tcp://{info['ip']}:{info['shell_port']}")
        key = info["key"]
        key = key if isinstance(key, bytes) else key.encode()
        good = Session(key=key, signature_scheme=info["signature_scheme"])
        bad = Session(key=b"not-the-key", signature_scheme=info["signature_scheme"])

        def exec_msg(session, code):
            return session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                                    "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})

        def frames(session, msg):
            return session.serialize(msg)

        def replies_within(seconds, stop_after=None):
            got = []
            poller = zmq.Poller()
            poller.register(sock, zmq.POLLIN)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                if poller.poll(100):
                    got.append(sock.recv_multipart())
                    if stop_after and len(got) >= stop_after:
                        break
            return got

        # Warm the kernel up first, so that "no reply within 1.5 s" means "dropped", not "still compiling".
        k.execute("'warm'")

        sent = {}
        # 1. wrong key
        sock.send_multipart(frames(bad, exec_msg(bad, "globalThis.pwnedWrongKey = true")))
        sent["wrong_key"] = len(replies_within(1.5))
        # 2. missing signature
        f = frames(good, exec_msg(good, "globalThis.pwnedNoSig = true"))
        idx = f.index(b"<IDS|MSG>")
        f[idx + 1] = b""
        sock.send_multipart(f)
        sent["no_signature"] = len(replies_within(1.5))
        # 3. content changed after signing
        f = frames(good, exec_msg(good, "globalThis.harmless = true"))
        idx = f.index(b"<IDS|MSG>")
        f[idx + 5] = f[idx + 5].replace(b"harmless", b"pwnedTamp")
        sock.send_multipart(f)
        sent["tampered"] = len(replies_within(1.5))
        # 4. a correctly signed message runs once; the same frames again are a replay
        f = frames(good, exec_msg(good, "globalThis.replayCount = ((globalThis as any).replayCount ?? 0) + 1"))
        sock.send_multipart(f)
        first = replies_within(60, stop_after=1)
        sock.send_multipart(f)
        second = replies_within(1.5)
        sent["valid_first"] = len(first)
        sent["replay"] = len(second)
        check = k.execute("[typeof (globalThis as any).pwnedWrongKey, typeof (globalThis as any).pwnedNoSig, "
                          "typeof (globalThis as any).pwnedTamp, (globalThis as any).replayCount]")
        sock.close()
        emit({"sent": sent, "check": text_of(check), "kernel_stderr": k.stderr()})
    finally:
        k.close()


def heartbeat_echo(k, payload=b"ping"):
    """Round trip on the heartbeat socket, in ms (None if no echo within 2 s)."""
    info = k.km.get_connection_info(session=False)
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://{info['ip']}:{info['hb_port']}")
    t0 = time.monotonic()
    sock.send(payload)
    ok = sock.poll(2000)
    echo = sock.recv() if ok else None
    sock.close()
    return round((time.monotonic() - t0) * 1000, 1) if echo == payload else None


def interrupt_after(k, code, delay=0.6, how="message", timeout=20, probe=None):
    msg_id = k.kc.execute(code)
    time.sleep(delay)
    probed = probe() if probe else None
    t0 = time.monotonic()
    if how == "message":
        k.km.interrupt_kernel()
    else:
        k.km.signal_kernel(signal.SIGINT)
    reply = k.shell_reply(msg_id, timeout)
    ms = (time.monotonic() - t0) * 1000
    msgs = k.collect(msg_id, timeout)
    r = summarize(code, reply, msgs, ms)
    r["interrupt_ms"] = round(ms, 1)
    if probe:
        r["probe"] = probed
    return r


def scenario_interrupt():
    """Interrupts stop busy loops (cell, after an await, timer, runtime process) and pending awaits; state stays."""
    k = Kernel()
    try:
        res = {}
        res["setup"] = k.execute("const keep = { value: 42 };\nlet spins = 0;")
        # The first cell ran before the type checker was warm; this one waits for it, so that the loops below
        # are running, not waiting for their check, when the interrupts come.
        k.execute("'warm'")
        # While the main thread spins, the protocol thread still answers the heartbeat.
        res["busy"] = interrupt_after(k, "while (true) { spins++ }", probe=lambda: heartbeat_echo(k))
        res["after_busy"] = k.execute("[keep.value, spins > 0]")
        res["await"] = interrupt_after(k, "await new Promise(() => {})")
        res["busy_after_await"] = interrupt_after(k, "await new Promise((r) => setTimeout(r, 10));\nwhile (true) {}")
        res["sigint_busy"] = interrupt_after(k, "for (;;) {}", how="signal")
        res["sigint_await"] = interrupt_after(k, "await new Promise(() => {})", how="signal")
        # An interrupted await throws KeyboardInterrupt into the cell, where it can be caught.
        res["caught"] = interrupt_after(k, "let caught = 'no';\ntry { await new Promise(() => {}) } catch (e) { caught = (e as Error).name }\ncaught")
        # A busy loop in a timer, after the cell that set it up has finished.
        res["timer_setup"] = k.execute("setTimeout(() => { while (true) {} }, 50); 'scheduled'")
        time.sleep(0.5)
        t0 = time.monotonic()
        k.km.interrupt_kernel()
        res["timer_after"] = k.execute("keep.value + 1", timeout=20)
        res["timer_after"]["since_interrupt_ms"] = round((time.monotonic() - t0) * 1000, 1)
        # A busy loop inside a runtime process: the runtime runs processes through the kernel's guard.
        res["process"] = interrupt_after(k, "spawn(() => { while (true) {} });\n'spawned'")
        res["alive"] = k.execute("keep.value")
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        k.close()


def scenario_recover():
    """After an interrupt stops a loop anywhere (cell, process body, callback, timer, async function, settle,
    advance), the runtime keeps working: a call, a kill and resetRuntime() all do."""
    k = Kernel()
    try:
        res = {}
        k.execute('const Echo = defmodule("Echo", { init: () => ["ok", 0], handleCall: (r: Term, _f: From, s: number) => ["reply", r, s] });')
        cases = {
            "spawned": (None, "const spinner = spawn(function* () { for (;;) {} });\nsettle();"),
            "handle_call": ('const Spin = defmodule("Spin", { init: () => ["ok", 0], handleCall: () => { for (;;) {} } });\nconst spinner = okPid(await GenServer.start(Spin, null));', 'await GenServer.call(spinner, "x")'),
            "handle_info": ('const SpinInfo = defmodule("SpinInfo", { init: () => ["ok", 0], handleInfo: () => { for (;;) {} } });\nconst spinner = okPid(await GenServer.start(SpinInfo, null));', 'send(spinner, "go");\nsettle();'),
            "init": ('const SpinInit = defmodule("SpinInit", { init: () => { for (;;) {} } });\nlet spinner: Pid | undefined;', "await GenServer.start(SpinInit, null)"),
            # The timer is set by the cell that then waits, so that it fires while that cell runs (set by an earlier
            # cell, it could fire before this one starts).
            "timer": ("let spinner: Pid | undefined;", "setTimeout(() => { for (;;) {} }, 50);\nawait new Promise((r) => setTimeout(r, 5000))"),
            "async_fn": ("let spinner: Pid | undefined;\nasync function spinAfterAwait() { await null; for (;;) {} }", "await spinAfterAwait()"),
            "settle": ("const spinner = spawn(function* () { yield* sleep(10); for (;;) {} });", "advance(5);\nsettle();\nadvance(10);"),
            "advance": ("const spinner = spawn(function* () { yield* sleep(100); for (;;) {} });", "advance(200)"),
        }
        for name, (setup, loop) in cases.items():
            r = {"reset": k.execute("resetRuntime(); 'fresh'")}
            if setup:
                r["setup"] = k.execute(setup)
            r["interrupted"] = interrupt_after(k, loop, delay=0.8)
            r["call"] = k.execute('const [, echo] = await GenServer.start(Echo, null) as [string, Pid];\nawait GenServer.call(echo, "still here")')
            r["spinner"] = k.execute('spinner === undefined ? "none" : `${spinner.alive} ${formatTerm(spinner.exitReason)}`')
            r["kill"] = k.execute('const victim = spawn(function* () { yield* receive(); });\nexit(victim, "kill");\nsettle();\nformatTerm(victim.exitReason)')
            r["after_reset"] = k.execute('resetRuntime();\nconst [, echo2] = await GenServer.start(Echo, null) as [string, Pid];\nawait GenServer.call(echo2, "after reset")')
            res[name] = r
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        k.close()


def scenario_io():
    """Display API, update in place, clear_output, stdin, comms, large outputs."""
    k = Kernel()
    try:
        res = {}
        res["display"] = k.execute(
            "display.html('<b>h</b>');\ndisplay.markdown('*m*');\ndisplay.svg('<svg xmlns=\"http://www.w3.org/2000/svg\"/>');\n"
            "display.json({ a: [1, 2] });\ndisplay.png(new Uint8Array([1, 2, 3]), { width: 10 });\ndisplay.latex('$x$');\n"
            "display({ 'application/vnd.custom+json': { z: 1 } }, { raw: true });\ndisplay([1, 2, 3]);"
        )
        res["update"] = k.execute("const h = display('first', { displayId: 'd1' });\nh.update('second');\ndisplay('third', { displayId: 'd1', update: true });")
        res["clear"] = k.execute("console.log('x');\nclearOutput({ wait: true });\nconsole.log('y')")
        # stdin
        msg_id = k.kc.execute("const answer = await input('Your name? ');\n'hello ' + answer", allow_stdin=True)
        req = k.kc.get_stdin_msg(timeout=30)
        res["input_request"] = req["content"]
        res["input_parent_matches"] = req["parent_header"]["msg_id"] == msg_id
        k.kc.input("Ada")
        reply = k.shell_reply(msg_id)
        res["input"] = summarize("input", reply, k.collect(msg_id), 0)
        res["input_no_stdin"] = k.execute("await input('x')", allow_stdin=False)
        # comms: a target registered from a cell, opened by the frontend
        res["comm_setup"] = k.execute(
            "registerCommTarget('echo', (comm, data) => {\n  comm.send({ opened: data });\n"
            "  comm.onMessage((d) => comm.send({ echo: d }));\n  comm.onClose(() => { (globalThis as any).commClosed = true });\n});"
        )
        comm_id = "c0ffee"
        m = k.kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "echo", "data": {"hello": 1}})
        k.kc.shell_channel.send(m)
        res["comm_open"] = [x["content"] for x in k.collect(m["header"]["msg_id"]) if x["msg_type"].startswith("comm")]
        info_id = k.kc.comm_info(target_name="echo")
        res["comm_info"] = k.shell_reply(info_id)["content"]
        m = k.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"ping": 2}})
        k.kc.shell_channel.send(m)
        res["comm_msg"] = [x["content"] for x in k.collect(m["header"]["msg_id"]) if x["msg_type"].startswith("comm")]
        m = k.kc.session.msg("comm_close", {"comm_id": comm_id, "data": {}})
        k.kc.shell_channel.send(m)
        k.collect(m["header"]["msg_id"])
        res["comm_closed"] = text_of(k.execute("(globalThis as any).commClosed === true"))
        m = k.kc.session.msg("comm_open", {"comm_id": "nope", "target_name": "no-such-target", "data": {}})
        k.kc.shell_channel.send(m)
        res["comm_unknown"] = [x["msg_type"] for x in k.collect(m["header"]["msg_id"]) if x["msg_type"].startswith("comm")]
        res["kernel_comm"] = k.execute("const kc = openComm('frontend-target', { v: 1 });\nkc.send({ v: 2 });\nkc.close();")
        # large outputs
        big = k.execute("const big = 'x'.repeat(5_000_000);\nconsole.log(big);\nbig.length", timeout=120)
        res["big_stream_chars"] = sum(len(o.get("text", "")) for o in big["outputs"] if o["type"] == "stream")
        res["big_status"] = big["status"]
        many = k.execute("for (let i = 0; i < 100000; i++) console.log(i);\n'done'", timeout=120)
        res["many_stream_messages"] = sum(1 for o in many["outputs"] if o["type"] == "stream")
        res["many_text_lines"] = sum(o["text"].count("\n") for o in many["outputs"] if o["type"] == "stream")
        res["big_result"] = k.execute("'y'.repeat(3_000_000)", timeout=120)["status"]
        res["big_display"] = k.execute("display.text('z'.repeat(4_000_000))", timeout=120)["status"]
        # widgets' live views draw through the display sink the kernel installs
        res["live"] = k.execute(
            "let liveN = 0;\nconst liveFns: ((e: unknown) => void)[] = [];\n"
            "const liveSrc = { snapshot: () => { throw new Error('unused') }, subscribe(fn: (e: unknown) => void) { liveFns.push(fn); return () => {} }, now: () => 0 };\n"
            "const view = live(liveSrc as any, { render: () => ({ 'text/plain': 'n=' + liveN }), minIntervalMs: 1 });\n"
            "liveN = 1;\nliveFns.forEach((f) => f({ type: 'spawn', t: 0, pid: '<0.1.0>' }));\n"
            "await new Promise((r) => setTimeout(r, 300));"
        )
        # an update that happens after its cell finished goes out with that cell as parent
        msg_id = k.kc.execute("liveN = 2;\nliveFns.forEach((f) => f({ type: 'spawn', t: 0, pid: '<0.2.0>' }));\n'fired'")
        k.shell_reply(msg_id)
        k.collect(msg_id)
        late = []
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            try:
                m = k.kc.get_iopub_msg(timeout=0.2)
            except Empty:
                continue
            if m["parent_header"].get("msg_id") == msg_id:
                late.append({"type": m["msg_type"], "data": m["content"].get("data"), "transient": m["content"].get("transient")})
        res["live_late"] = late
        res["alive"] = text_of(k.execute("1 + 1"))
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        k.close()


def scenario_robust():
    """Crashes in user code are outputs, never a dead kernel."""
    k = Kernel()
    try:
        res = {}
        res["timer_throw"] = k.execute("setTimeout(() => { throw new Error('timer boom') }, 10);\nawait new Promise((r) => setTimeout(r, 100));\n'cell done'")
        res["timer_throw_idle"] = k.execute("setTimeout(() => { throw new Error('late boom') }, 50);\n'scheduled'")
        time.sleep(0.4)
        res["next_cell"] = k.execute("'next'")
        res["rejection"] = k.execute("Promise.reject(new Error('nobody catches me'));\n'after'")
        res["stack_overflow"] = k.execute("function down(n: number): number { return down(n + 1) + 1 }\ndown(0)")
        res["exit"] = k.execute("process.exit(3)")
        res["throw_string"] = k.execute("throw 'just a string'")
        res["throw_null_proto"] = k.execute("throw Object.create(null)")
        res["bad_display"] = k.execute("({ [Symbol.for('Jupyter.display')]() { throw new Error('cannot draw') } })")
        res["bigint"] = k.execute("10n ** 20n")
        res["alive"] = text_of(k.execute("'still alive'"))
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        k.close()


def scenario_imports():
    """import of Node built-ins, an ESM-only package, a CommonJS package and local .ts files."""
    k = Kernel(cwd=FIXTURES)
    try:
        res = {}
        res["builtin"] = k.execute("import path from 'node:path';\nimport { readFileSync } from 'fs';\npath.basename('/a/b.txt') + typeof readFileSync")
        res["esm_only"] = k.execute("import { walk } from 'estree-walker';\nlet seen = 0;\nwalk({ type: 'Program', body: [] } as any, { enter() { seen++ } });\n[typeof walk, seen]")
        res["cjs_default"] = k.execute("import ms from 'ms';\nms('2h')")
        res["cjs_named"] = k.execute("import { green, isColorSupported } from 'picocolors';\n[typeof green, typeof isColorSupported]")
        res["cjs_namespace"] = k.execute("import * as pc from 'picocolors';\ntypeof pc.default.red")
        res["local_ts"] = k.execute("import { greet, Counter } from './helper.ts';\nconst c = new Counter();\nc.add(2);\n[greet('Ada'), c.total]")
        res["local_js_spelling"] = k.execute("import { greet as g2 } from './helper.js';\ng2('Bob')")
        res["local_chain"] = k.execute("import { twice } from './uses-helper.ts';\ntwice('x')")
        res["dynamic"] = k.execute("const m = await import('node:os');\ntypeof m.platform")
        res["require"] = k.execute("const ms2 = require('ms');\nms2(1000)")
        res["missing"] = k.execute("import nothing from 'no-such-package-xyz';")
        res["type_from_local"] = k.execute("import type { Greeting } from './helper.ts';\nconst gg: Greeting = 42;")
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        k.close()


def scenario_language():
    """Completion, inspection and the pager from the TypeScript language service, including the runtime's API."""
    k = Kernel()
    try:
        res = {}
        k.execute("const myLongVariableName = { field: 1 };\n/** Adds one. */\nfunction addOne(n: number) { return n + 1 }")

        def complete(code, pos=None):
            msg_id = k.kc.complete(code, len(code) if pos is None else pos)
            return k.shell_reply(msg_id)["content"]

        def inspect(code, pos=None, detail=0):
            msg_id = k.kc.inspect(code, len(code) if pos is None else pos, detail)
            return k.shell_reply(msg_id)["content"]

        res["complete_prev_cell"] = complete("myLong")
        res["complete_member"] = complete("myLongVariableName.fi")
        res["complete_runtime"] = complete("spaw")
        res["complete_display"] = complete("display.mark")
        res["complete_unicode"] = complete("const é = 1; 'é'; myLo")
        res["inspect_fn"] = inspect("addOne(1)", 3)
        res["inspect_display"] = inspect("display")
        res["inspect_runtime"] = inspect("spawn")
        res["inspect_nothing"] = inspect("   ")
        res["pager_suffix"] = k.execute("addOne?")
        res["pager_prefix"] = k.execute("?display.html")
        res["pager_missing"] = k.execute("noSuchThing?")

        def is_complete(code):
            msg_id = k.kc.is_complete(code)
            return k.shell_reply(msg_id)["content"]

        res["is_complete"] = {c: is_complete(c) for c in ["1 + 1", "function f() {", "if (a) {\n  if (b) {", "1 +* 2", "const s = `x${", "/* open"]}
        res["history_tail"] = k.shell_reply(k.kc.history(hist_access_type="tail", n=2, output=True, raw=True))["content"]
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        k.close()


def scenario_lifecycle():
    """Restart gives a fresh kernel; shutdown ends the process; kernel_info reports the banner."""
    k = Kernel()
    try:
        res = {"startup_ms": k.startup_ms}
        k.execute("const beforeRestart = 1")
        pid_before = k.km.provisioner.process.pid
        t0 = time.monotonic()
        k.km.restart_kernel(now=False)
        k.kc.wait_for_ready(timeout=60)
        res["restart_ms"] = round((time.monotonic() - t0) * 1000, 1)
        res["pid_changed"] = k.km.provisioner.process.pid != pid_before
        k.drain()
        res["after_restart"] = k.execute("(globalThis as any).beforeRestart === undefined")
        res["count_after_restart"] = res["after_restart"]["execution_count"]
        # Shutdown while a cell busy-loops: the protocol thread still answers and the process ends.
        k.kc.execute("while (true) {}")
        time.sleep(0.3)
        proc = k.km.provisioner.process
        t0 = time.monotonic()
        k.km.shutdown_kernel(now=False)
        res["shutdown_ms"] = round((time.monotonic() - t0) * 1000, 1)
        res["exit_code"] = proc.poll()
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        try:
            k.kc.stop_channels()
        except Exception:
            pass


def scenario_first_cell():
    """The first cell, sent as soon as kernel_info is answered, runs before the type checker is warm; its type
    errors come with the next cell. Later cells are checked before they run."""
    k = Kernel()
    try:
        res = {}
        res["first"] = k.execute('const early: number = "text";\n[typeof early, 1 + 1]')
        res["second"] = k.execute("early")
        res["third"] = k.execute('const late: number = "again";\nlate')
        res["fourth"] = k.execute("typeof (globalThis as any).late")
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        k.close()


def scenario_late_load():
    """The sockets are bound (and kernel_info sent) before the kernel's main module has loaded."""
    os.environ["OTP_LAB_TEST_KERNEL_LOAD_DELAY_MS"] = "3000"
    k = Kernel()
    try:
        result = text_of(k.execute("20 + 22"))
        emit({"startup_ms": round(k.startup_ms, 1), "result": result, "kernel_stderr": k.stderr()})
    finally:
        k.close()


def scenario_startup():
    """Time from launch to kernel_info_reply, several times; and a request sent before any kernel_info."""
    km = KernelManager(kernel_name="otp-lab")
    errf = tempfile.TemporaryFile()
    km.start_kernel(cwd=FIXTURES, stderr=errf)
    kc = km.client()
    kc.start_channels()
    msg_id = kc.execute("40 + 2")  # no kernel_info first: the kernel may still be preloading
    early = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        m = kc.get_shell_msg(timeout=120)
        if m["parent_header"].get("msg_id") == msg_id:
            early = m["content"]["status"]
            break
    kc.stop_channels()
    km.shutdown_kernel(now=False)
    times = []
    for _ in range(2):
        k = Kernel()
        times.append(round(k.startup_ms, 1))
        trivial = [k.execute(f"{i} + 1")["ms"] for i in range(8)]
        k.close()
    emit({"startup_ms": times, "trivial_ms": trivial, "early_request": early})


if __name__ == "__main__":
    name = sys.argv[1]
    globals()["scenario_" + name]()
