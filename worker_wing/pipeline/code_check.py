"""The upload check of a code submission: size, text, syntax, `get_estimator`.

The web process never imports, compiles or even parses student code itself: a
hostile file (deeply nested brackets, a huge literal) can crash or stall the
parser. A child process with tight limits does it and answers in JSON, kept from
upload to upload (worker_wing/pipeline/source_checker.py).
"""

from __future__ import annotations

from worker_wing.pipeline.source_checker import parsed_source_facts


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
    answer = parsed_source_facts(content)
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
