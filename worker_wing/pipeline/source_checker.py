"""A long-lived child that parses uploaded estimator.py files, one after another.

The process that takes uploads never parses student code itself: a hostile file
(deeply nested brackets, a huge literal) can crash or stall the parser. Each
upload used to start a fresh `python -I -S` for that (about 20-40 ms of CPU on
a loaded machine, per upload). This child does the same parse with the same
limits, but stays: the web process (each of its processes, after a fork) keeps
one and sends it each file.

What it keeps from the short-lived child: `-I -S` (no site-packages, no
environment), stdin as the only input, the code only parsed (`ast.parse`, never
compiled or run), 512 MB of address space, and each file's CPU time bounded (the
soft RLIMIT_CPU is set to the time used so far plus 10 s before each file, so a
file that stalls the parser kills the child). A child that dies, answers
nothing in time or answers garbage is killed and replaced, and the file is
reported as not checkable; a reused child that failed is replaced and the file
tried once more on a fresh one (unless it ran out of time), so one hostile
upload never fails the next.
It retires after `_CHECKS_PER_CHILD` files, so nothing builds up in it.
"""

from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from typing import Any

# Runs in `python -I -S -c`: frames of 4-byte big-endian length + source on stdin,
# one JSON line per frame on stdout.
_CHECKER_SCRIPT = r"""
import ast, json, resource, struct, sys
resource.setrlimit(resource.RLIMIT_AS, (512 * 1024 * 1024, 512 * 1024 * 1024))
read, write = sys.stdin.buffer.read, sys.stdout.write

def facts(source):
    try:
        tree = ast.parse(source, filename="estimator.py")
    except SyntaxError as error:
        return {"error": f"line {error.lineno}: {error.msg}"}
    except (ValueError, RecursionError, MemoryError) as error:
        return {"error": f"{type(error).__name__}: {error}"}
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return {"defines_get_estimator": "get_estimator" in names}

while True:
    header = read(4)
    if len(header) < 4:
        break
    source = read(struct.unpack(">I", header)[0])
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    soft = spent + 10 if hard == resource.RLIM_INFINITY else min(spent + 10, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    write(json.dumps(facts(source)) + "\n")
    sys.stdout.flush()
"""
# Wall time for one file; its CPU and memory limits are set inside the child.
_CHECK_SECONDS = 20
_CHECKS_PER_CHILD = 500


class _Checker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _CHECKER_SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.checks = 0
        self.owner = os.getpid()
        self.timed_out = False

    def usable(self) -> bool:
        return (
            self.owner == os.getpid()  # not inherited through a fork
            and self.process.poll() is None
            and self.checks < _CHECKS_PER_CHILD
        )

    def ask(self, source: bytes) -> dict[str, Any] | None:
        """The child's answer for one file, or None (it died, stalled or babbled)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.checks += 1
        try:
            self.process.stdin.write(struct.pack(">I", len(source)) + source)
            self.process.stdin.flush()
        except OSError:
            return None
        line = _read_line(self.process.stdout.fileno(), time.monotonic() + _CHECK_SECONDS)
        self.timed_out = line is None
        try:
            answer = json.loads(line) if line else None
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def _read_line(descriptor: int, deadline: float) -> bytes | None:
    """One line from the child; b"" at end of file, None past the deadline."""
    received = b""
    while not received.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([descriptor], [], [], left)[0]:
            return None
        chunk = os.read(descriptor, 65536)
        if not chunk:
            return b""
        received += chunk
    return received


_lock = threading.Lock()
_checker: _Checker | None = None


def parsed_source_facts(source: bytes) -> dict[str, Any]:
    """What the checker child found in `source`: {"defines_get_estimator": bool} or
    {"error": "..."}; {} when it could not be checked (too large or too complex)."""
    global _checker
    with _lock:  # one child per process, one file at a time (each takes milliseconds)
        reused = _checker is not None and _checker.usable()
        if not reused:
            if _checker is not None:
                _checker.stop()
            _checker = _Checker()
        assert _checker is not None
        answer = _checker.ask(source)
        if answer is None and reused and not _checker.timed_out:
            # A reused child that died at once may have died of an earlier file (or
            # been killed): this file gets a fresh child before being refused.
            _checker.stop()
            _checker = _Checker()
            answer = _checker.ask(source)
        if answer is None:
            _checker.stop()
            _checker = None
        return answer or {}


def checker_pid() -> int | None:
    """The live checker child's process id (for operators and tests), if any."""
    with _lock:
        usable = _checker is not None and _checker.usable()
        return _checker.process.pid if usable and _checker is not None else None


def stop_checker() -> None:
    """End this process's checker child, if any: a process done taking code (the
    launcher after its set-up) keeps no idle child alive."""
    global _checker
    with _lock:
        if _checker is not None:
            _checker.stop()
            _checker = None
