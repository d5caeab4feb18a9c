"""Tracebacks as a student reads them: the platform's own runner frames folded
into one line, so the stderr tail opens on the student's frames.

A traceback of a student's exception passes through the runner in the sandbox
(`/job/runner.py`, its modules under `/job/lib/`) before it reaches their code;
those frames are ours, the same for every submission, and push the student's
line out of view. Only frames of those files are folded (a library's frames,
scikit-learn's say, stay: the student called it); the exception line and any
other output stay as they are. Pure: text in, text out, on whatever the tail
holds (it may start mid-traceback).
"""

from __future__ import annotations

import re

from worker_wing.judge.sandbox_command import RUNNER_LIB

# `  File "<path>", line N, in <name>`: the start of a frame in a traceback.
_FRAME = re.compile(r'^(?P<indent>\s*)File "(?P<path>[^"]*)", line \d+')
_RUNNER_PATHS = re.compile(rf"^(?:/job/runner[^/]*\.py|{re.escape(RUNNER_LIB)}/.*)$")


def _is_runner_frame(path: str) -> bool:
    return _RUNNER_PATHS.match(path) is not None


def _folded(count: int, indent: str) -> str:
    frames = "frame" if count == 1 else "frames"
    return f"{indent}… {count} {frames} of the ppipe runner hidden …"


def fold_runner_frames(text: str) -> str:
    """`text` with each run of consecutive runner frames (each frame its `File`
    line and the source and caret lines under it) replaced by one line."""
    out: list[str] = []
    hidden, indent = 0, "  "
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        frame = _FRAME.match(line)
        if frame is None or not _is_runner_frame(frame["path"]):
            if hidden:
                out.append(_folded(hidden, indent))
                hidden = 0
            out.append(line)
            index += 1
            continue
        hidden, indent = hidden + 1, frame["indent"]
        index += 1
        # The frame's own lines (its source, the carets) are indented deeper.
        while index < len(lines) and _is_under(lines[index], frame["indent"]):
            index += 1
    if hidden:
        out.append(_folded(hidden, indent))
    return "\n".join(out)


def _is_under(line: str, indent: str) -> bool:
    deeper = indent + "  "
    return line.startswith(deeper) and _FRAME.match(line) is None
