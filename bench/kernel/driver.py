"""Times one Jupyter kernel the way a notebook front end sees it (bench rows "kernel start-up" and "trivial
cell round trip"). The same script drives the otp-lab kernel and tslab so both are measured identically.

Usage: /usr/bin/python3 bench/kernel/driver.py --cells N [--code SRC] -- KERNEL_CMD... {connection_file} ...
Prints one JSON line: {"startup_ms", "first_cell_ms", "cell_ms": [...], "reply": ...} or {"error": "..."}.

start-up = from launching the kernel process to receiving the reply to the first kernel_info_request (sent
right after launch; ZeroMQ queues it until the kernel binds, as with any Jupyter client).
cell = from sending execute_request to having both the execute_reply and the iopub status "idle" for it.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import write_connection_file


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cells", type=int, default=10)
    ap.add_argument("--code", default="1 + 1")
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
    t0 = time.perf_counter()
    msg_id = kc.execute(code, store_history=False)
    reply = None
    idle = False
    result = None
    while reply is None or not idle:
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"cell {code!r} did not finish within {timeout} s")
        if proc.poll() is not None:
            raise RuntimeError(f"kernel exited with code {proc.returncode} during a cell")
        if reply is None:
            try:
                m = kc.get_shell_msg(timeout=0.001)
                if m["parent_header"].get("msg_id") == msg_id:
                    reply = m
            except Exception:
                pass
        try:
            m = kc.get_iopub_msg(timeout=0.001)
        except Exception:
            continue
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


def tail(path, n=1500):
    try:
        with open(path, "rb") as f:
            return f.read()[-n:].decode("utf-8", "replace")
    except OSError:
        return ""


if __name__ == "__main__":
    main()
