"""The smallest Jupyter kernel: answers every execute_request at once with the messages a real kernel sends
(busy, execute_input, execute_result "2", execute_reply, idle). It measures the driver's own floor: what
driver.py reports for it is client and transport time, which no kernel can go below.

    /usr/bin/python3 bench/kernel/driver.py --cells 30 -- /usr/bin/python3 bench/kernel/echo_kernel.py {connection_file}
"""
import datetime
import hashlib
import hmac
import json
import sys
import uuid

import zmq


def main():
    cf = json.load(open(sys.argv[1]))
    key = cf["key"].encode()
    ctx = zmq.Context()

    def bind(kind, port):
        s = ctx.socket(kind)
        s.bind(f"tcp://{cf['ip']}:{cf[port]}")
        return s

    shell, control, iopub, hb = bind(zmq.ROUTER, "shell_port"), bind(zmq.ROUTER, "control_port"), bind(zmq.PUB, "iopub_port"), bind(zmq.REP, "hb_port")
    bind(zmq.ROUTER, "stdin_port")
    session = str(uuid.uuid4())

    def send(sock, prefix, msg_type, parent, content):
        header = {"msg_id": str(uuid.uuid4()), "session": session, "username": "echo", "msg_type": msg_type, "version": "5.3",
                  "date": datetime.datetime.now(datetime.timezone.utc).isoformat()}
        body = [json.dumps(header).encode(), json.dumps(parent).encode(), b"{}", json.dumps(content).encode()]
        signature = hmac.new(key, b"".join(body), hashlib.sha256).hexdigest().encode()
        sock.send_multipart(prefix + [b"<IDS|MSG>", signature] + body)

    def publish(msg_type, parent, content):
        send(iopub, [f"kernel.{session}.{msg_type}".encode()], msg_type, parent, content)

    count = 0
    poller = zmq.Poller()
    for s in (shell, control, hb):
        poller.register(s, zmq.POLLIN)
    while True:
        for sock, _ in poller.poll():
            frames = sock.recv_multipart()
            if sock is hb:
                hb.send_multipart(frames)
                continue
            i = frames.index(b"<IDS|MSG>")
            ids, header, content = frames[:i], json.loads(frames[i + 2]), json.loads(frames[i + 5])
            msg_type = header["msg_type"]
            publish("status", header, {"execution_state": "busy"})
            if msg_type == "kernel_info_request":
                send(sock, ids, "kernel_info_reply", header, {"status": "ok", "protocol_version": "5.3", "implementation": "echo",
                                                              "implementation_version": "0", "language_info": {"name": "echo"}, "banner": ""})
            elif msg_type == "execute_request":
                count += 1
                publish("execute_input", header, {"code": content["code"], "execution_count": count})
                publish("execute_result", header, {"execution_count": count, "data": {"text/plain": "2"}, "metadata": {}})
                send(sock, ids, "execute_reply", header, {"status": "ok", "execution_count": count, "payload": [], "user_expressions": {}})
            elif msg_type == "shutdown_request":
                send(sock, ids, "shutdown_reply", header, {"status": "ok", "restart": False})
                publish("status", header, {"execution_state": "idle"})
                return
            publish("status", header, {"execution_state": "idle"})


if __name__ == "__main__":
    main()
