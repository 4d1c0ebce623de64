"""Drives `prn kernel` through jupyter_client, as JupyterLab and jupyter console do.

Usage: python3 kernel_test.py PRN_EXECUTABLE

Installs the kernelspec into a temporary prefix, starts the kernel from it, exercises every
request prn answers, interrupts a long loop, sends messages signed with the wrong key or not at
all, and 1,000 random or malformed messages, then checks that the kernel still answers and shuts
down when asked. Prints one line per failed check and ends with 'N passed, N failed'; exit
status 1 when a check failed. KernelTests.swift runs it under `swift test`.
"""
import asyncio
import inspect
import json
import os
import random
import re
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ beside the tests
import tempfile
import time

import zmq
from checks import check, finish
from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session

PRN = sys.argv[1]
work = tempfile.mkdtemp(prefix="prn-kernel-test-")
os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(work, "runtime")   # connection files: not in $HOME


def install_kernelspec():
    subprocess.run([PRN, "kernel", "install", "--prefix", work], check=True, capture_output=True)
    spec_file = os.path.join(work, "share/jupyter/kernels/prn/kernel.json")
    spec = json.load(open(spec_file))
    check(spec["argv"][1:] == ["kernel", "-f", "{connection_file}"], "kernel.json argv", spec["argv"])
    check(os.path.isabs(spec["argv"][0]) and os.access(spec["argv"][0], os.X_OK), "argv[0] is the absolute prn path")
    check(spec["language"] == "prn" and spec["interrupt_mode"] == "signal", "kernel.json language and interrupt_mode")
    os.environ["JUPYTER_PATH"] = os.path.join(work, "share/jupyter")


def run(kc, code, timeout=30):
    """Executes code; returns (reply content, [(msg_type, content)] published on iopub)."""
    outputs = []
    reply = kc.execute_interactive(code, timeout=timeout,
                                   output_hook=lambda m: outputs.append((m["msg_type"], m["content"])))
    return reply["content"], outputs


def shell_request(kc, method, *args, **kwargs):
    msg_id = getattr(kc, method)(*args, **kwargs)
    while True:
        reply = kc.get_shell_msg(timeout=10)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def stdout_of(outputs):
    return "".join(c["text"] for t, c in outputs if t == "stream" and c["name"] == "stdout")


def test_kernel_info(kc):
    reply = shell_request(kc, "kernel_info")
    content = reply["content"]
    check(reply["msg_type"] == "kernel_info_reply", "kernel_info reply type")
    check(content["protocol_version"] == "5.3", "protocol_version", content)
    check(content["language_info"]["name"] == "prn", "language_info.name", content)
    check(content["implementation"] == "prn" and content["status"] == "ok", "implementation", content)


def test_execute(kc):
    reply, outputs = run(kc, "a = 1 + 2\nprint a\nprint \"two\"")
    states = [c["execution_state"] for t, c in outputs if t == "status"]
    check(states == ["busy", "idle"], "busy then idle around a cell", states)
    check(reply["status"] == "ok", "execute reply ok", reply)
    check(stdout_of(outputs) == "3\ntwo\n", "print goes to a stdout stream", outputs)
    inputs = [c for t, c in outputs if t == "execute_input"]
    check(inputs and inputs[0]["code"].startswith("a = 1"), "execute_input echoes the code", inputs)
    first = reply["execution_count"]

    reply, outputs = run(kc, "a * 2")
    results = [c for t, c in outputs if t == "execute_result"]
    check(reply["execution_count"] == first + 1, "execution counts increase", (first, reply))
    check(len(results) == 1 and results[0]["data"]["text/plain"] == "6", "a value is an execute_result", outputs)
    check(results and results[0]["execution_count"] == reply["execution_count"], "execute_result carries the count")

    reply, outputs = run(kc, "t = table title=\"scores\"\nrow t name=\"a\" x=1 y=2.5\nrow t name=\"b\" x=2 y=0.5\nshow t\nt")
    shown = [c["data"] for t, c in outputs if t == "display_data"]
    valued = [c["data"] for t, c in outputs if t == "execute_result"]
    check(len(shown) == 1 and len(valued) == 1, "show makes display_data, a table value an execute_result", outputs)
    for data in shown + valued:
        check({"text/plain", "text/markdown", "text/html"} <= set(data), "a table has plain, markdown and html", data.keys())
        check("| name | x | y |" in data.get("text/markdown", ""), "markdown table header", data.get("text/markdown"))
        check("<td style=\"text-align: right\">2.5</td>" in data.get("text/html", ""), "html table cell", data.get("text/html"))
        check("scores" in data.get("text/plain", ""), "plain table has its title", data.get("text/plain"))

    svg = os.path.join(work, "hist.svg")
    reply, outputs = run(kc, f"m = model lenet300 seed=1\nplot hist m layer=fc1 to \"{svg}\"", timeout=60)
    plots = [c["data"] for t, c in outputs if t == "display_data"]
    check(reply["status"] == "ok", "plot cell ran", reply)
    check(len(plots) == 1 and plots[0].get("image/svg+xml", "").lstrip().startswith("<svg"),
          "a plot is display_data with image/svg+xml", [list(p) for p in plots])
    check(plots and plots[0]["image/svg+xml"] == open(svg).read(), "the SVG inline is the file written")

    reply, outputs = run(kc, "print \"before\"\nb = nope + 1")
    errors = [c for t, c in outputs if t == "error"]
    check(reply["status"] == "error" and reply["ename"] == "Error", "an error reply", reply)
    check(reply["evalue"] == "unknown name 'nope'", "evalue is the message", reply.get("evalue"))
    # Cells continue the session's line numbers, as in the REPL: line 2 of this cell is a later line.
    check(len(errors) == 1 and re.fullmatch(r"<kernel>:\d+:5: error: unknown name 'nope'", errors[0]["traceback"][0]),
          "traceback holds the located diagnostic", errors)
    check(errors and errors[0]["traceback"][1:] == ["b = nope + 1", "    ^"], "traceback has the line and a caret", errors)
    check(stdout_of(outputs) == "before\n", "output before the error is kept", outputs)

    reply, outputs = run(kc, "print a", timeout=10)
    check(stdout_of(outputs) == "3\n", "the workspace survives an error", outputs)

    reply = shell_request(kc, "execute", "print 99", silent=True)
    check(reply["content"]["status"] == "ok", "silent execute runs")


def test_complete_inspect_is_complete(kc):
    run(kc, "learning_rate = 0.1")
    content = shell_request(kc, "complete", "pri", 3)["content"]
    check(content["matches"] == ["print"] and content["cursor_start"] == 0 and content["cursor_end"] == 3,
          "complete a keyword", content)
    code = "x = 1\ny = learn"
    content = shell_request(kc, "complete", code, len(code))["content"]
    check("learning_rate" in content["matches"] and content["cursor_start"] == len("x = 1\ny = "), "complete a workspace name", content)
    code = "m2 = model lenet300 se"
    content = shell_request(kc, "complete", code, len(code))["content"]
    check("seed=" in content["matches"], "complete a command's keyword", content)
    content = shell_request(kc, "complete", "tensor", 10_000)["content"]
    check(content["status"] == "ok" and content["cursor_end"] == 6, "a cursor past the end is clamped", content)

    content = shell_request(kc, "inspect", "tensor zeros [2]", 3)["content"]
    check(content["found"] and content["data"]["text/plain"].startswith("tensor LIST"), "inspect shows help", content)
    content = shell_request(kc, "inspect", "learning_rate", 13)["content"]
    check(content["found"] and "learning_rate: float" in content["data"]["text/plain"], "inspect a variable", content)
    content = shell_request(kc, "inspect", "zzz_unknown", 2)["content"]
    check(content["status"] == "ok" and not content["found"], "inspect an unknown name", content)

    for code, status, indent in [("for i in range(3) {", "incomplete", "  "), ("for i in [1,\n", "incomplete", "  "),
                                 ("if a > 1 {\n  for i in range(2) {", "incomplete", "    "),
                                 ("print 1", "complete", None), ("for i in range(3) { print i }", "complete", None),
                                 ("print \"open", "invalid", None), ("x = = 2", "invalid", None)]:
        content = shell_request(kc, "is_complete", code)["content"]
        check(content["status"] == status, f"is_complete {code!r}", content)
        if indent is not None:
            check(content.get("indent") == indent, f"is_complete indent for {code!r}", content)


def test_history_and_comms(kc):
    run(kc, "hh1 = 0")  # contains "h1" but does not start with it: the glob "h1*" must not match
    run(kc, "h1 = 1")
    run(kc, "h2 = 2")
    content = shell_request(kc, "history", hist_access_type="tail", n=2, output=False, raw=True)["content"]
    check([entry[2] for entry in content["history"]] == ["h1 = 1", "h2 = 2"], "history tail", content)
    content = shell_request(kc, "history", hist_access_type="search", pattern="h1*", output=False, raw=True)["content"]
    check([entry[2] for entry in content["history"]] == ["h1 = 1"], "history search", content)
    content = shell_request(kc, "comm_info")["content"]
    check(content["status"] == "ok" and content["comms"] == {}, "comm_info", content)


def interrupted(km, kc, code, after, interrupt=None):
    """Starts code, interrupts the kernel `after` seconds later (with SIGINT, as the kernelspec's
    interrupt_mode says, unless `interrupt` is given); returns the execute reply's content and
    how long the cell went on after the interrupt."""
    msg_id = kc.execute(code)
    time.sleep(after)
    started = time.time()
    (interrupt or km.interrupt_kernel)()
    while True:
        reply = kc.get_shell_msg(timeout=20)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"], time.time() - started


def test_interrupt(km, kc):
    run(kc, "kept = 41")
    reply, lag = interrupted(km, kc, "n = 0\nfor i in range(100000000) { n = n + 1 }\nprint \"finished\"", after=1.0)
    check(reply["status"] == "error" and reply["ename"] == "Interrupted", "an interrupted cell ends with an error reply", reply)
    check(lag < 15, "the interrupt stopped the loop", lag)
    _, outputs = run(kc, "print kept + 1\nprint n > 0")
    check(stdout_of(outputs) == "42\ntrue\n", "the workspace is intact after an interrupt", outputs)

    run(kc, "d = data synthetic classes=3 shape=[8] train=2000 test=30 seed=1\nm = model mlp widths=[16] data=d seed=3")
    reply, lag = interrupted(km, kc, "r = train m data=d epochs=100000", after=1.5)
    check(reply["status"] == "error" and reply["ename"] == "Interrupted", "an interrupted train ends its cell with an error reply", reply)
    check(lag < 15, "the interrupt stopped training", lag)
    _, outputs = run(kc, "print r.interrupted\nprint kept")
    check(stdout_of(outputs) == "true\n41\n", "an interrupted train keeps its result and the workspace", outputs)

    # interrupt_request on the control channel, as clients of interrupt_mode "message" send it.
    request = kc.session.msg("interrupt_request", {})
    reply, lag = interrupted(km, kc, "for i in range(100000000) { n = n + 1 }", after=0.5,
                             interrupt=lambda: kc.control_channel.send(request))
    check(reply["status"] == "error" and reply["ename"] == "Interrupted", "interrupt_request stops a cell", reply)
    answer = kc.control_channel.get_msg(timeout=10)
    if inspect.isawaitable(answer):  # jupyter_client 7 (Debian 12) gives a blocking client an async control channel
        answer = asyncio.new_event_loop().run_until_complete(answer)
    check(answer["msg_type"] == "interrupt_reply" and answer["parent_header"]["msg_id"] == request["header"]["msg_id"],
          "interrupt_request is answered on control", answer)

    km.interrupt_kernel()   # an interrupt while idle must not kill the kernel or the next cell
    time.sleep(0.3)
    reply, outputs = run(kc, "print kept")
    check(reply["status"] == "ok" and stdout_of(outputs) == "41\n", "an idle interrupt is harmless", (reply, outputs))


def raw_socket(km, channel):
    port = getattr(km, f"{channel}_port")
    socket = zmq.Context.instance().socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(f"tcp://{km.ip}:{port}")
    return socket


def test_signatures(km, kc):
    shell = raw_socket(km, "shell")
    forger = Session(key=b"not-the-key", username="mallory")
    forger.send(shell, "execute_request", {"code": "forged = 1", "silent": False, "store_history": True,
                                           "user_expressions": {}, "allow_stdin": False})
    unsigned = Session(key=b"", username="mallory")
    unsigned.send(shell, "execute_request", {"code": "unsigned = 1", "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": False})
    honest = km.session
    frames = honest.serialize(honest.msg("execute_request", {"code": "replayed = 1"}))
    shell.send_multipart(frames)
    time.sleep(0.3)
    run(kc, "del replayed")
    shell.send_multipart(frames)   # the same signed frames again
    time.sleep(0.5)
    _, outputs = run(kc, "vars")
    listing = stdout_of(outputs)
    check("forged" not in listing, "a message signed with the wrong key is not run", listing)
    check("unsigned" not in listing, "an unsigned message is not run", listing)
    check("replayed" not in listing, "a replayed message is not run", listing)
    shell.close()


def malformed_messages(session, rng):
    """Yields frame lists: random bytes, broken framing, bad JSON, wrong types, signed nonsense."""
    key = session.key
    types = ["execute_request", "complete_request", "inspect_request", "is_complete_request", "history_request",
             "kernel_info_request", "comm_info_request", "no_such_request", ""]
    values = [None, 1, -1, 2 ** 70, -2 ** 70, 1.5, "", "x" * 5000, [], {}, [1, [2, [3]]], {"a": {"b": None}},
              "print 1", "for i in [", "\u00e9\u4e2d\U0001F600", "\x00\x01", True]
    for i in range(1000):
        kind = i % 6
        if kind == 0:
            yield [bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 40))) for _ in range(rng.randrange(1, 9))]
        elif kind == 1:
            yield [b"<IDS|MSG>"] + [b"{}"] * rng.randrange(0, 5)
        elif kind == 2:
            junk = [b"{", b"[1,2]", b"null", b"\xff\xfe", b'{"msg_type": 3}', b"{}" * 3, b"[" * 300 + b"]" * 300]
            parts = [rng.choice(junk) for _ in range(4)]
            yield [b"<IDS|MSG>", session.sign(parts) if rng.random() < 0.7 else b"0" * 64] + parts
        else:
            # Correctly signed, well-formed frames with random content: past the signature check.
            content = {name: rng.choice(values) for name in
                       ["code", "cursor_pos", "detail_level", "hist_access_type", "n", "pattern", "silent",
                        "store_history", "restart"] if rng.random() < 0.6}
            if kind == 5 and isinstance(content.get("code"), str):
                content["code"] = content["code"][:50]
            if rng.random() < 0.3:
                content = rng.choice(values)
            header = session.msg_header(rng.choice(types))
            if rng.random() < 0.2:
                header = rng.choice(values)
            parts = [json.dumps(x, default=str).encode() for x in [header, {}, {}, content]]
            yield [b"<IDS|MSG>", session.sign(parts)] + parts


def answers_kernel_info(session, socket, timeout=30):
    """Sends kernel_info_request and waits for its reply, skipping replies to earlier requests."""
    request = session.send(socket, "kernel_info_request", {})
    deadline = time.time() + timeout
    while socket.poll(max(0, int(1000 * (deadline - time.time())))):
        _, reply = session.recv(socket)
        if reply["parent_header"].get("msg_id") == request["header"]["msg_id"]:
            return reply["msg_type"] == "kernel_info_reply"
    return False


def test_malformed(km, kc):
    rng = random.Random(14)
    # Its own session (same key): message ids must not collide with the client's.
    session = Session(key=km.session.key, username="fuzzer")
    started = time.time()
    for channel in ["shell", "control"]:
        socket = raw_socket(km, channel)
        for frames in malformed_messages(session, rng):
            socket.send_multipart(frames)
        # A channel handles one peer's messages in order: this answer comes after all of them.
        check(answers_kernel_info(session, socket), f"the {channel} channel answers after 1,000 malformed messages")
        socket.close()
    check(km.is_alive(), "the kernel survived the malformed messages")
    reply, outputs = run(kc, "print kept * 2", timeout=60)
    check(stdout_of(outputs) == "82\n", "the kernel runs cells after malformed messages", (reply, outputs))
    check(time.time() - started < 45, "malformed messages were handled in bounded time", time.time() - started)


def test_shutdown(km, kc):
    reply_id = kc.shutdown()
    reply = kc.get_control_msg(timeout=10) if hasattr(kc, "get_control_msg") else None
    deadline = time.time() + 10
    while km.is_alive() and time.time() < deadline:
        time.sleep(0.1)
    check(not km.is_alive(), "the kernel exits on shutdown_request")
    if reply is not None:
        check(reply["msg_type"] == "shutdown_reply" and reply["parent_header"]["msg_id"] == reply_id, "shutdown_reply", reply)


def main():
    install_kernelspec()
    log_path = os.path.join(work, "kernel.log")
    with open(log_path, "w") as log:
        km, kc = start_new_kernel(kernel_name="prn", startup_timeout=60, stderr=log)
        try:
            test_kernel_info(kc)
            test_execute(kc)
            test_complete_inspect_is_complete(kc)
            test_history_and_comms(kc)
            test_interrupt(km, kc)
            test_signatures(km, kc)
            test_malformed(km, kc)
            test_shutdown(km, kc)
        finally:
            if km.is_alive():
                km.shutdown_kernel(now=True)
    text = open(log_path).read()
    check("dropped a message on shell with a wrong signature" in text, "a wrongly signed message is logged", text[-2000:])
    check("dropped a message on shell with a missing signature" in text, "an unsigned message is logged")
    check("dropped a replayed message on shell" in text, "a replayed message is logged")
    finish(work)


main()
