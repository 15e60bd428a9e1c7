#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks a built headroom-cli against the operating system it runs on.

    smoke-cli.py PATH/TO/headroom-cli VERSION

Used by the macOS and Windows jobs of ci.yml, where the Linux test suites do not
apply: the CLI must report the machine's memory, list itself and a child this
script starts with the right parent, and stop that child.
"""
import json
import os
import subprocess
import sys
import time

cli, version = sys.argv[1], sys.argv[2]


def run(*args, check=True):
    done = subprocess.run([cli, *args], capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        sys.exit(f"{cli} {' '.join(args)} exited with {done.returncode}: {done.stderr}")
    return done


def snapshot():
    return json.loads(run("sample", "--json", "--interval", "0").stdout)


def find(snap, pid):
    return next((p for p in snap["processes"] if p["pid"] == pid), None)


out = run("--version").stdout.strip()
assert out == f"headroom-cli {version}", out

snap = snapshot()
memory = snap["memory"]
assert snap["schema"] == "headroom.snapshot"
assert memory["total"] > 256 * 1024 * 1024, memory
assert 0 < memory["available"] <= memory["total"], memory
assert memory["used"] == memory["total"] - memory["available"], memory
print(f"memory: total {memory['total']}, available {memory['available']}, swap {memory['swap']}")
print("notes:", snap["notes"])

# A child of this script: listed with this script as its parent, then stopped.
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
try:
    seen = None
    for _ in range(50):
        seen = find(snapshot(), child.pid)
        if seen:
            break
        time.sleep(0.1)
    assert seen, f"child {child.pid} is not listed"
    assert seen["ppid"] == os.getpid(), seen
    assert seen["rss"] > 0, seen
    assert seen["start_time"] > 0, seen
    print("child:", {k: seen[k] for k in ("pid", "ppid", "name", "user", "rss", "exe")})

    wrong = run("stop", str(child.pid), "--start-time", "1", "--json", check=False)
    assert wrong.returncode == 5, wrong  # refused: another process than the one named
    assert child.poll() is None

    stop = run("stop", str(child.pid), "--start-time", str(seen["start_time"]), "--grace", "1", "--json")
    report = json.loads(stop.stdout)
    assert report["results"][0]["outcome"] == "done", report
    child.wait(timeout=30)
    print("stop:", report["summary"])
finally:
    if child.poll() is None:
        child.kill()

top = run("top", "-n", "5", "--interval", "0", "--width", "100").stdout
assert "PID" in top, top
print(top)
print("headroom-cli works on", sys.platform)
