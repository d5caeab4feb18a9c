"""The upload check of a code submission: size, text, syntax, `get_estimator`.

The web process never imports, compiles or even parses student code itself: a
hostile file (deeply nested brackets, a huge literal) can crash or stall the
parser. A short-lived child process with tight limits does it and answers in JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Runs in `python -I -S`: no site-packages, no environment, stdin is the file.
_CHECK_SCRIPT = r"""
import ast, json, resource, sys
for limit, value in ((resource.RLIMIT_CPU, 10), (resource.RLIMIT_AS, 512 * 1024 * 1024)):
    resource.setrlimit(limit, (value, value))
source = sys.stdin.buffer.read()
try:
    tree = ast.parse(source, filename="estimator.py")
except SyntaxError as error:
    print(json.dumps({"error": f"line {error.lineno}: {error.msg}"}))
    sys.exit(0)
except (ValueError, RecursionError, MemoryError) as error:
    print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
    sys.exit(0)
names = set()
for node in tree.body:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        names.add(node.name)
    elif isinstance(node, ast.Assign):
        names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        names.update((a.asname or a.name).split(".")[0] for a in node.names)
print(json.dumps({"defines_get_estimator": "get_estimator" in names}))
"""
# Wall time for the check; its CPU and memory limits are set inside the script.
_CHECK_SECONDS = 20


class SubmissionRejected(ValueError):
    """The upload cannot be judged; the message tells the student what to fix."""

    def __init__(self, message: str, *, field: str = "file") -> None:
        super().__init__(message)
        self.field = field


def estimator_source_check(content: bytes, *, max_bytes: int) -> None:
    """Raise SubmissionRejected unless `content` is an estimator.py worth judging."""
    if not content.strip():
        raise SubmissionRejected("The file is empty: upload your estimator.py.")
    if len(content) > max_bytes:
        raise SubmissionRejected(
            f"The file is over the limit: at most {max_bytes // 1024} KB is accepted. "
            "Upload the code only, not data or models."
        )
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionRejected(
            "The file is not UTF-8 text: upload estimator.py, a Python source file "
            "(archives and notebooks are not accepted)."
        ) from None
    try:
        completed = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _CHECK_SCRIPT],
            input=content,
            capture_output=True,
            timeout=_CHECK_SECONDS,
            check=False,
        )
        answer = json.loads(completed.stdout or b"{}")
    except (subprocess.TimeoutExpired, ValueError):
        answer = {}
    if "error" in answer:
        raise SubmissionRejected(f"estimator.py does not parse: {answer['error']}.")
    if "defines_get_estimator" not in answer:
        raise SubmissionRejected(
            "estimator.py could not be checked (it is too large or too deeply nested to parse)."
        )
    if not answer["defines_get_estimator"]:
        raise SubmissionRejected(
            "estimator.py must define get_estimator() at the top level, returning an object "
            "with fit(X, y) and predict(X)."
        )
