"""The nursery, INSIDE its sandbox: a warm, participant-neutral process that forks
one box per participant on the worker's order and never runs a job itself. Part of
the sandbox's runner (sandbox_runner.py): it imports nothing of ppipe.

The worker talks to it over a Unix socket (SOCK_SEQPACKET, its fd 0): an order
names the box and carries the box's stdin, stdout and stderr as file descriptors
(SCM_RIGHTS); the nursery forks, answers with the child's pid in its PID
namespace, and closes its copies of them. The child dies with the nursery
(PR_SET_PDEATHSIG), takes those descriptors as its 0, 1 and 2, closes every other,
and does nothing until the worker, having moved it into the box's cgroup, writes
GO on its stdin: no CPU or memory of the box is counted anywhere but in the box's
cgroup from its first instruction of its own. It then confines itself
(runner_box.py) and becomes the box's zygote (sandbox_runner.py).

What the box inherits is what the nursery holds: the libraries, imported and
warmed on made-up data (runner_warm.py), and the orders' names. No job's data,
code or output ever passes through the nursery.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from worker_wing.judge.runner_box import box_namespaces, box_view, die_with_parent
from worker_wing.judge.runner_confinement import PR_SET_CHILD_SUBREAPER, prctl

# The nursery's first message, {"ready": its pid}: its imports are done, it forks boxes.
NURSERY_READY = "ready"
# What the worker writes on a box's stdin once the box is in its cgroup.
GO = b"g"
ORDER_BYTES = 4096
# A box's exit status when it could not start (its stderr says why).
BOX_FAILED = 70


@dataclass(frozen=True)
class BoxOrder:
    """One box to fork: its name (its sub-folder of the nursery's boxes folder),
    whether it confines itself (not under PPIPE_SANDBOX=none), and its tmpfs size."""

    name: str
    isolate: bool
    tmpfs_mb: int

    @classmethod
    def parse(cls, message: bytes) -> BoxOrder:
        fields = json.loads(message)
        name = str(fields["name"])
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"bad box name {name!r}")
        return cls(name, bool(fields["isolate"]), int(fields["tmpfs_mb"]))


# The box's zygote: given its order and where its inputs and outputs are; never returns.
BecomeBox = Callable[[BoxOrder, str, str], None]


def _reap() -> None:
    """Reap the boxes that ended (and their orphans: the nursery is their subreaper)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _start_box(
    order: BoxOrder, fds: list[int], boxes: str, kept: list[str], become_box: BecomeBox
) -> NoReturn:
    """The forked child: waits for GO, confines itself, becomes the box's zygote."""
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        if os.read(0, len(GO)) != GO:  # the worker gave up on this box
            os._exit(BOX_FAILED)
        if order.isolate:
            box_namespaces()
            box_view(order.name, order.tmpfs_mb, kept)
            become_box(order, "/job/input", "/tmp/ppipe-out")  # noqa: S108
        else:
            become_box(order, f"{boxes}/{order.name}", f"{boxes}/{order.name}-out")
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
            sys.stderr.flush()
    os._exit(BOX_FAILED)


def nursery_loop(boxes: str, kept: list[str], become_box: BecomeBox) -> None:
    """Fork a box for each order on the control socket (fd 0) until the worker closes it."""
    control = socket.socket(fileno=0)
    nursery = os.getpid()
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    # SIGCHLD wakes the loop, so that an ended box is reaped at once.
    wake_reader, wake_writer = os.pipe()
    os.set_blocking(wake_writer, False)
    signal.set_wakeup_fd(wake_writer)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    control.sendall(json.dumps({NURSERY_READY: nursery}).encode())
    while True:
        _reap()
        readable = select.select([control, wake_reader], [], [])[0]
        if wake_reader in readable:
            os.read(wake_reader, 4096)
        if control not in readable:
            continue
        message, fds, _, _ = socket.recv_fds(control, ORDER_BYTES, 3)
        if not message:  # the worker is gone: so are its boxes (PR_SET_PDEATHSIG)
            return
        try:
            order = BoxOrder.parse(message)
            if len(fds) != 3:
                raise ValueError(f"a box takes 3 descriptors, not {len(fds)}")
        except (ValueError, KeyError, TypeError) as error:
            for fd in fds:
                os.close(fd)
            control.sendall(json.dumps({"error": str(error)}).encode())
            continue
        child = os.fork()
        if child == 0:
            die_with_parent()
            if os.getppid() != nursery:  # it ended before the line above
                os._exit(BOX_FAILED)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            control.detach()  # fd 0 becomes the box's stdin
            _start_box(order, fds, boxes, kept, become_box)
        for fd in fds:
            os.close(fd)
        control.sendall(json.dumps({"pid": child}).encode())
