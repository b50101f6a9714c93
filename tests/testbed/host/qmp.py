#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Talks to the testbed's QEMU over a QMP socket (host/qemu.sh).

  qmp.py SOCKET CMD...   runs human monitor commands in one session and
                         prints their output; "sleep N" waits N seconds
  qmp.py --kick SOCKET   one PS/2 key event (shift) a second until QEMU
                         goes away (see l1_kick in host/qemu.sh)
"""
import json
import os
import socket
import sys
import time


class Qmp:
    def __init__(self, path, wait=10.0):
        deadline = time.monotonic() + wait
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.f = self.sock.makefile("rw")
        self.f.readline()  # the greeting
        self.call("qmp_capabilities")

    def call(self, cmd, args=None):
        self.f.write(json.dumps({"execute": cmd, "arguments": args or {}}) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise OSError("QEMU closed the socket")
            msg = json.loads(line)
            if "return" in msg or "error" in msg:
                return msg


def human(path, cmds):
    q = Qmp(path)
    for cmd in cmds:
        if cmd.startswith("sleep "):
            time.sleep(float(cmd.split()[1]))
            continue
        print("(qemu) " + cmd)
        try:
            msg = q.call("human-monitor-command", {"command-line": cmd})
        except (OSError, ValueError) as e:
            print(f"monitor gone: {e}")
            return 1
        print(msg.get("return", msg.get("error")))
    return 0


def kick(path):
    try:
        q = Qmp(path)
        key = {"keys": [{"type": "qcode", "data": "shift"}]}
        while True:
            time.sleep(1)
            q.call("send-key", key)
    except (OSError, ValueError):
        return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--kick":
        return kick(argv[2])
    if len(argv) >= 3:
        return human(argv[1], argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
