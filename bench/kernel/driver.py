"""Times one Jupyter kernel the way a notebook front end sees it (bench rows "kernel start-up", "trivial cell
round trip", "first cell" and "start-up + first cell"). The same script drives the otp-lab kernel and tslab so
both are measured identically.

Usage: /usr/bin/python3 bench/kernel/driver.py --cells N [--code SRC] [--new-cells M] -- KERNEL_CMD... {connection_file} ...
Prints one JSON line: {"startup_ms", "first_cell_ms", "cell_ms": [...], "reply": ...} or {"error": "..."}.

start-up = from launching the kernel process to receiving the reply to the first kernel_info_request (sent
right after launch; ZeroMQ queues it until the kernel binds, as with any Jupyter client).
cell = from sending execute_request to having both the execute_reply and the iopub status "idle" for it.
While a cell runs, the driver waits on the shell and iopub sockets together (a zmq Poller, as a front end's event
loop does) and decodes each message with jupyter_client's own Session as soon as it arrives. It used to alternate
1 ms polls through BlockingKernelClient.get_shell_msg/get_iopub_msg, each a trip through asyncio (run_sync,
nest_asyncio): that added 1.5-2.6 ms to every cell of either kernel, depending on when its messages arrived (the
instant kernel in echo_kernel.py measured 2.1 ms with it, 1.3 ms with the poller).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

import zmq

from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import write_connection_file


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=10)
    ap.add_argument("--code", default="1 + 1")
    ap.add_argument("--new-cells", type=int, default=0, help="then N cells never seen before: '2 + 1', '3 + 1', ...")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--log", default=None, help="file for the kernel's stdout/stderr")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    tmp = tempfile.mkdtemp(prefix="otp-lab-bench-")
    cf = os.path.join(tmp, "kernel.json")
    write_connection_file(cf, ip="127.0.0.1", key=uuid.uuid4().hex.encode(), transport="tcp", signature_scheme="hmac-sha256")
    kc = BlockingKernelClient(connection_file=cf)
    kc.load_connection_file()
    kc.start_channels()
    log = open(a.log or os.path.join(tmp, "kernel.log"), "wb")
    argv = [c.replace("{connection_file}", cf) for c in cmd]
    out = {}
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        out["startup_ms"] = kernel_info(kc, proc, t0, a.timeout)
        # iopub is a PUB/SUB pair: what the kernel publishes before our subscription is live is lost (ZeroMQ's
        # "slow joiner"), so a fast first cell's "idle" could vanish. Wait, as jupyter_client's wait_for_ready
        # does, until a kernel_info's status messages reach us; this is not part of either timed figure.
        iopub_ready(kc, proc, a.timeout)
        out["first_cell_ms"], out["reply"] = cell(kc, proc, a.code, a.timeout)
        out["cell_ms"] = [cell(kc, proc, a.code, a.timeout)[0] for _ in range(a.cells)]
        # Re-running a cell may take cached paths (the same text, nothing it uses redefined); a notebook mostly
        # runs cells it has not run before, so those are timed too, each with a different text.
        new = [cell(kc, proc, f"{k + 2} + 1", a.timeout) for k in range(a.new_cells)]
        out["new_cell_ms"] = [ms for ms, _ in new]
        out["new_cell_replies"] = [r for _, r in new]
    except Exception as e:  # reported as a "not measured" row by the orchestrator
        out = {"error": f"{type(e).__name__}: {e}", "log": tail(log.name)}
    finally:
        try:
            kc.shutdown()
        except Exception:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        kc.stop_channels()
        log.close()
    print(json.dumps(out), flush=True)


def kernel_info(kc, proc, t0, timeout):
    msg_id = kc.kernel_info()
    last_send = time.perf_counter()
    while True:
        now = time.perf_counter()
        if now - t0 > timeout:
            raise TimeoutError(f"no kernel_info_reply within {timeout} s")
        if proc.poll() is not None:
            raise RuntimeError(f"kernel exited with code {proc.returncode} before answering kernel_info")
        try:
            msg = kc.get_shell_msg(timeout=0.01)
        except Exception:  # queue.Empty
            if now - last_send > 1.0:  # as jupyter_client's wait_for_ready does
                msg_id = kc.kernel_info()
                last_send = now
            continue
        if msg["msg_type"] == "kernel_info_reply":
            return (time.perf_counter() - t0) * 1000.0


def iopub_ready(kc, proc, timeout):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"kernel exited with code {proc.returncode} after kernel_info")
        msg_id = kc.kernel_info()
        deadline = time.perf_counter() + 0.5
        while time.perf_counter() < deadline:
            try:
                m = kc.get_iopub_msg(timeout=0.05)
            except Exception:
                continue
            if m["parent_header"].get("msg_id") == msg_id:
                drain_shell(kc)
                return
    raise TimeoutError(f"no iopub message from the kernel within {timeout} s")


def drain_shell(kc):
    while True:
        try:
            kc.get_shell_msg(timeout=0.2)
        except Exception:
            return


def cell(kc, proc, code, timeout):
    # Blocking views of the client's own sockets: polling them directly skips asyncio; Session.recv decodes (and
    # verifies) exactly as the client's channels do.
    shell = zmq.Socket.shadow(kc.shell_channel.socket.underlying)
    iopub = zmq.Socket.shadow(kc.iopub_channel.socket.underlying)
    poller = zmq.Poller()
    poller.register(shell, zmq.POLLIN)
    poller.register(iopub, zmq.POLLIN)
    t0 = time.perf_counter()
    msg_id = kc.execute(code, store_history=False)
    reply = None
    idle = False
    result = None
    while reply is None or not idle:
        left = timeout - (time.perf_counter() - t0)
        if left <= 0:
            raise TimeoutError(f"cell {code!r} did not finish within {timeout} s")
        if proc.poll() is not None:
            raise RuntimeError(f"kernel exited with code {proc.returncode} during a cell")
        # Wakes as soon as either socket has a message; the 100 ms cap only bounds how late a dead kernel is seen.
        ready = dict(poller.poll(min(left, 0.1) * 1000))
        if shell in ready:
            for m in drain(kc, shell):
                if m["parent_header"].get("msg_id") == msg_id:
                    reply = m
        if iopub in ready:
            for m in drain(kc, iopub):
                if m["parent_header"].get("msg_id") != msg_id:
                    continue
                if m["msg_type"] in ("execute_result", "display_data"):
                    result = m["content"]["data"].get("text/plain")
                elif m["msg_type"] == "stream":
                    result = (result or "") + m["content"]["text"]
                elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                    idle = True
    ms = (time.perf_counter() - t0) * 1000.0
    status = reply["content"]["status"]
    if status != "ok":
        raise RuntimeError(f"cell {code!r} answered {status}: {reply['content'].get('evalue', '')}")
    return ms, result


def drain(kc, socket):
    """The messages waiting on `socket`, decoded by the client's Session."""
    while True:
        _, m = kc.session.recv(socket, mode=zmq.NOBLOCK)
        if m is None:
            return
        yield m


def tail(path, n=1500):
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace")
    except OSError:
        return ""


if __name__ == "__main__":
    main()
