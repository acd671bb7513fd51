"""Jupyter widgets and the control channel, driven as a front end would with Debian's jupyter_client.

Usage: python3 widgets_driver.py SCENARIO   (JUPYTER_PATH must point at a prefix holding the otp-lab kernelspec)

Each scenario starts a real kernel, sends what a widgets manager sends (comm_msg `custom` clicks, `update`s,
`request_state`, `comm_close`, `request_states` on `jupyter.widget.control`) or what a script sends on
`otp-lab.control`, and prints one JSON object with what came back; test/widgets-interactive.test.ts and
test/kernel-control.test.ts make the assertions.
"""
import fcntl
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Kernel, text_of  # noqa: E402

SETUP = """
const Counter = defmodule("Counter", {
  init: (n: number) => ["ok", n],
  handleCall: (req: string, _from: unknown, n: number) => (req === "get" ? ["reply", n, n] : ["reply", "ok", n + 1]),
  handleCast: (_msg: unknown, n: number) => ["noreply", n + 1],
});
const [, sup] = await Supervisor.startLink(
  [{ id: "a", start: () => GenServer.startLink(Counter, 0) }, { id: "b", start: () => GenServer.startLink(Counter, 10) }],
  { strategy: "one_for_one" },
);
"""

def emit(obj):
    """Prints the result in one blocking write: the kernel (Node) shares this stdout and makes it non-blocking,
    which would cut a long line at the pipe's 64 KiB."""
    fd = sys.stdout.fileno()
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


PIDS = "JSON.stringify(Object.fromEntries(snapshot(sup).root.children!.map((c) => [c.id, c.pid])))"


class Front:
    """The widget models a front end would hold, built from the kernel's comm messages."""

    def __init__(self, k):
        self.k = k
        self.models = {}  # comm_id -> state
        self.opens = []  # comm_open contents with metadata

    def absorb(self, msgs):
        out = []
        for m in msgs:
            t = m["msg_type"]
            c = m["content"]
            if t == "comm_open" and c.get("target_name") == "jupyter.widget":
                self.models[c["comm_id"]] = dict(c["data"]["state"])
                self.opens.append({"comm_id": c["comm_id"], "data": c["data"], "metadata": m["metadata"]})
            elif t == "comm_msg" and c["comm_id"] in self.models:
                d = c["data"]
                if d.get("method") in ("update", "echo_update"):
                    self.models[c["comm_id"]].update(d["state"])
                out.append({"comm_id": c["comm_id"], "data": d})
            elif t == "comm_close":
                self.models.pop(c["comm_id"], None)
                out.append({"comm_id": c["comm_id"], "closed": True})
            elif t == "comm_msg":
                out.append({"comm_id": c["comm_id"], "data": c["data"]})
        return out

    def execute(self, code):
        msg_id = self.k.kc.execute(code)
        reply = self.k.shell_reply(msg_id)
        msgs = self.k.collect(msg_id)
        self.absorb(msgs)
        displays = [m["content"]["data"] for m in msgs if m["msg_type"] in ("display_data", "execute_result")]
        errors = [m["content"]["evalue"] for m in msgs if m["msg_type"] == "error"]
        return {"status": reply["content"]["status"], "displays": displays, "errors": errors}

    def send(self, comm_id, data, msg_type="comm_msg"):
        content = {"comm_id": comm_id, "data": data}
        m = self.k.kc.session.msg(msg_type, content)
        self.k.kc.shell_channel.send(m)
        return self.absorb(self.k.collect(m["header"]["msg_id"]))

    def open_comm(self, target, data=None):
        comm_id = uuid.uuid4().hex
        m = self.k.kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": target, "data": data or {}})
        self.k.kc.shell_channel.send(m)
        return comm_id, self.absorb(self.k.collect(m["header"]["msg_id"]))

    def by_tooltip(self, tooltip):
        ids = [i for i, s in self.models.items() if s.get("tooltip") == tooltip]
        return ids[-1] if ids else None

    def click(self, tooltip):
        comm_id = self.by_tooltip(tooltip)
        if comm_id is None:
            raise RuntimeError(f"no button with tooltip {tooltip!r}; have {sorted(s.get('tooltip') for s in self.models.values() if s.get('tooltip'))}")
        return self.send(comm_id, {"method": "custom", "content": {"event": "click"}})

    def model_of(self, model_name, description=None):
        for i, s in self.models.items():
            if s.get("_model_name") == model_name and (description is None or s.get("description") == description):
                return i
        return None

    def pids(self):
        return json_result(self.k, PIDS)


def json_result(k, code):
    """The value of a cell whose last expression is JSON.stringify(...)."""
    r = k.execute(code)
    text = text_of(r)
    if text is None:
        raise RuntimeError(f"no result for {code!r}: {r}")
    if text[:1] in "'\"":
        text = text[1:-1].replace("\\'", "'")
    return json.loads(text)


def picture_of(front, root_id):
    """The HTML value of the first HTML model holding an <svg> (the tree picture)."""
    for s in front.models.values():
        if s.get("_model_name") == "HTMLModel" and "<svg" in str(s.get("value", "")):
            return s["value"]
    return None


def log_of(front):
    for s in front.models.values():
        if s.get("_model_name") == "HTMLModel" and "otp-lab-log" in str(s.get("value", "")):
            return s["value"]
    return None


def scenario_control():
    k = Kernel()
    f = Front(k)
    try:
        res = {}
        res["setup"] = f.execute(SETUP)
        res["before"] = f.pids()
        # In scope without imports, with completion and hover docs like the other widget functions.
        res["complete"] = k.shell_reply(k.kc.complete("strategyL", 9))["content"]["matches"]
        res["complete_control"] = k.shell_reply(k.kc.complete("contr", 5))["content"]["matches"]
        res["inspect"] = k.shell_reply(k.kc.inspect("control(sup)", 3))["content"]
        res["inspect_lab"] = k.shell_reply(k.kc.inspect("strategyLab", 5))["content"]
        shown = f.execute("control(sup)")
        res["shown"] = shown
        res["opens"] = f.opens
        res["tooltips"] = sorted(s.get("tooltip") for s in f.models.values() if s.get("tooltip"))
        res["picture_before"] = picture_of(f, None)
        # A click on "kill a", as JupyterLab's ButtonView sends it.
        res["kill_msgs"] = f.click("kill a")
        res["after_kill"] = f.pids()
        res["picture_after"] = picture_of(f, None)
        res["log_after"] = log_of(f)
        res["restarts"] = text_of(k.execute("snapshot(sup).root.children!.find((c) => c.id === 'a')!.restarts"))
        # Choose the crash reason "shutdown" in the dropdown (the front end syncs `index`), then crash b.
        dropdown = f.model_of("DropdownModel", "crash reason")
        labels = f.models[dropdown]["_options_labels"]
        res["reason_labels"] = labels
        res["reason_msgs"] = f.send(dropdown, {"method": "update", "state": {"index": labels.index("shutdown")}, "buffer_paths": []})
        res["crash_msgs"] = f.click("crash b")
        res["after_crash"] = f.pids()
        res["log_after_crash"] = log_of(f)
        # Virtual time: +1 s.
        res["t_before"] = text_of(k.execute("now()"))
        f.click("advance 1 s")
        res["t_after"] = text_of(k.execute("now()"))
        # terminate, then restart a.
        f.click("terminate a")
        res["after_terminate"] = f.pids()
        f.click("restart a")
        res["after_restart"] = f.pids()
        # request_state answers with the whole state.
        res["request_state"] = f.send(dropdown, {"method": "request_state"})
        # The manager's jupyter.widget.control target (page reload): every open model's state at once.
        ctl, opened = f.open_comm("jupyter.widget.control")
        res["control_open"] = opened
        res["request_states"] = f.send(ctl, {"method": "request_states"})
        res["model_count"] = len(f.models)
        # Re-running the cell gives the same model (state survives), with the chosen reason.
        root_id = shown["displays"][0]["application/vnd.jupyter.widget-view+json"]["model_id"]
        res["root_id"] = root_id
        res["rerun"] = f.execute("control(sup)")
        res["reason_after_rerun"] = f.models[dropdown]["index"]
        # The front end closes the root: the kernel closes every model of the panel.
        before = k.kc.comm_info(target_name="jupyter.widget")
        res["comms_before_close"] = len(k.shell_reply(before)["content"]["comms"])
        res["close_msgs"] = f.send(root_id, {}, msg_type="comm_close")
        after = k.kc.comm_info(target_name="jupyter.widget")
        res["comms_after_close"] = len(k.shell_reply(after)["content"]["comms"])
        # After the close, a new control for the same supervisor keeps the chosen reason.
        res["reopened"] = f.execute("control(sup)")
        dropdowns = [s for s in f.models.values() if s.get("_model_name") == "DropdownModel" and s.get("description") == "crash reason"]
        res["reason_after_reopen"] = dropdowns[-1]["index"] if dropdowns else None
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        k.close()


def scenario_strategy_lab():
    k = Kernel()
    f = Front(k)
    try:
        res = {}
        res["setup"] = f.execute(SETUP)
        res["shown"] = f.execute(
            "const lab = strategyLab([\n"
            "  { id: 'a', start: () => GenServer.startLink(Counter, 0) },\n"
            "  { id: 'b', start: () => GenServer.startLink(Counter, 0) },\n"
            "  { id: 'c', start: () => GenServer.startLink(Counter, 0) },\n"
            "]);\nlab"
        )
        lab_pids = "JSON.stringify(Object.fromEntries(snapshot(lab.supervisor).root.children!.map((c) => [c.id, c.pid])))"
        pids = lambda: json_result(k, lab_pids)  # noqa: E731
        res["one_for_one_before"] = pids()
        f.click("kill b")
        res["one_for_one_after"] = pids()
        dropdown = f.model_of("DropdownModel", "strategy")
        labels = f.models[dropdown]["_options_labels"]
        res["labels"] = labels
        res["sup_before"] = text_of(k.execute("lab.supervisor.label"))
        res["choose_msgs"] = f.send(dropdown, {"method": "update", "state": {"index": labels.index("rest_for_one")}, "buffer_paths": []})
        res["sup_after"] = text_of(k.execute("lab.supervisor.label"))
        res["strategy_now"] = text_of(k.execute("snapshot(lab.supervisor).root.strategy"))
        res["rest_for_one_before"] = pids()
        f.click("kill b")
        res["rest_for_one_after"] = pids()
        res["rerun"] = f.execute(
            "strategyLab([\n"
            "  { id: 'a', start: () => GenServer.startLink(Counter, 0) },\n"
            "  { id: 'b', start: () => GenServer.startLink(Counter, 0) },\n"
            "  { id: 'c', start: () => GenServer.startLink(Counter, 0) },\n"
            "]).toString()"
        )
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        k.close()



class Control:
    """A client of the otp-lab.control comm target, as a script would be."""

    def __init__(self, k):
        self.k = k
        self.comm_id = uuid.uuid4().hex
        self.next_id = 1
        m = k.kc.session.msg("comm_open", {"comm_id": self.comm_id, "target_name": "otp-lab.control", "data": {}})
        k.kc.shell_channel.send(m)
        self.open_msgs = [x["msg_type"] for x in k.collect(m["header"]["msg_id"]) if x["msg_type"].startswith("comm")]
        self.events = []

    def raw(self, data):
        m = self.k.kc.session.msg("comm_msg", {"comm_id": self.comm_id, "data": data})
        self.k.kc.shell_channel.send(m)
        datas = [x["content"]["data"] for x in self.k.collect(m["header"]["msg_id"]) if x["msg_type"] == "comm_msg" and x["content"]["comm_id"] == self.comm_id]
        replies = [d for d in datas if "ok" in d]
        self.events.extend(d for d in datas if "event" in d)
        return replies

    def req(self, op, **kw):
        rid = self.next_id
        self.next_id += 1
        replies = self.raw({"id": rid, "op": op, **kw})
        assert len(replies) == 1 and replies[0]["id"] == rid, replies
        return replies[0]

    def take_events(self):
        out, self.events = self.events, []
        return out

    def wait_events(self, seconds):
        """Pushes that arrive between requests (a process's state after a cell)."""
        import time
        from queue import Empty

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                m = self.k.kc.get_iopub_msg(timeout=0.2)
            except Empty:
                continue
            c = m["content"]
            if m["msg_type"] == "comm_msg" and c.get("comm_id") == self.comm_id and "event" in c["data"]:
                self.events.append(c["data"])
        return self.take_events()


def scenario_control_channel():
    k = Kernel()
    try:
        res = {}
        f = Front(k)
        res["setup"] = f.execute(SETUP)
        c = Control(k)
        res["open_msgs"] = c.open_msgs
        res["list"] = c.req("list_supervisors")
        sup = res["list"]["result"][0]["pid"]
        res["tree"] = c.req("tree", sup=sup)
        pids = {ch["id"]: ch["pid"] for ch in res["tree"]["result"]["root"]["children"]}
        res["pids_before"] = pids
        res["subscribe"] = c.req("subscribe", topic="supervisor", sup=sup)
        res["kill"] = c.req("kill", pid=pids["a"])
        res["kill_events"] = c.take_events()
        res["crash"] = c.req("crash", pid=pids["b"], reason="shutdown")
        res["crash_events"] = c.take_events()
        res["pids_after"] = {ch["id"]: ch["pid"] for ch in c.req("tree", sup=sup)["result"]["root"]["children"]}
        res["t_after_kills"] = text_of(k.execute("now()"))
        res["start"] = c.req("start_supervisor", strategy="one_for_all", name="Remote",
                             children=[{"id": "x", "module": "Counter", "arg": 5}, {"id": "y"}])
        remote = {ch["id"]: ch["pid"] for ch in res["start"]["result"]["tree"]["root"]["children"]}
        res["state_x"] = c.req("state", pid=remote["x"])
        res["info_x"] = c.req("process_info", pid=remote["x"])
        res["add"] = c.req("add_child", sup="Remote", spec={"id": "z", "arg": {"k": [1, 2]}})
        res["state_z"] = c.req("state", pid=res["add"]["result"][1])
        res["restart"] = c.req("restart_child", sup="Remote", child="z")
        res["remove"] = c.req("remove_child", sup="Remote", child="z")
        res["remote_ids"] = [ch["id"] for ch in c.req("tree", sup="Remote")["result"]["root"]["children"]]
        res["delay"] = c.req("inject_delay", pid=remote["x"], ms=50)
        # Bad requests: each answered ok: false, and the runtime is as it was.
        probe = "JSON.stringify([snapshot(sup), snapshot('Remote'), now(), events().all().length])"
        before = text_of(k.execute(probe))
        res["bad"] = {
            "unknown_op": c.req("explode"),
            "no_id": c.raw({"op": "tree", "sup": sup}),
            "not_object": c.raw([1, 2]),
            "dead_pid": c.req("kill", pid=pids["a"]),
            "not_supervisor": c.req("tree", sup=remote["x"]),
            "no_such_name": c.req("tree", sup="Nope"),
            "bad_strategy": c.req("start_supervisor", strategy="one_for_none", children=[]),
            "unknown_module": c.req("add_child", sup="Remote", spec={"id": "w", "module": "Nope"}),
            "duplicate_ids": c.req("start_supervisor", children=[{"id": "a"}, {"id": "a"}]),
            "existing_child": c.req("add_child", sup="Remote", spec={"id": "x"}),
            "unknown_child": c.req("restart_child", sup="Remote", child="nope"),
            "bad_delay": c.req("inject_delay", pid=remote["x"], ms=-1),
            "bad_topic": c.req("subscribe", topic="weather"),
            "reload_unknown": c.req("reload", module="Nope"),
            "unsubscribe_unknown": c.req("unsubscribe", subscription="s99"),
        }
        res["bad_events"] = c.take_events()
        after = text_of(k.execute(probe))
        res["undisturbed"] = before == after
        # A process's state, pushed when a cell changes it.
        res["sub_process"] = c.req("subscribe", topic="process", pid=res["pids_after"]["a"])
        res["first_state"] = c.take_events()
        f.execute("GenServer.cast((await Supervisor.whichChildren(sup)).find((c) => c.id === 'a')!.child as Pid, 'inc')")
        res["state_events"] = c.wait_events(3)
        # Code loads.
        res["sub_code"] = c.req("subscribe", topic="code")
        res["reload"] = c.req("reload", module="Counter")
        res["code_events"] = c.take_events()
        # After unsubscribe, no more supervisor events.
        res["unsubscribe"] = c.req("unsubscribe", subscription=res["subscribe"]["result"]["subscription"])
        c.req("kill", pid=res["pids_after"]["b"])
        res["after_unsubscribe"] = [e for e in c.take_events() if e["event"] == "supervisor"]
        res["kernel_stderr"] = k.stderr()
        emit(res)
    finally:
        k.close()


if __name__ == "__main__":
    globals()["scenario_" + sys.argv[1]]()
