"""Uploads are parsed by one long-lived checker child per process, not a new
Python each: it answers file after file, and a child that dies (killed, or of a
hostile file) is replaced without failing the next upload."""

from __future__ import annotations

import os
import signal

from worker_wing.pipeline.source_checker import checker_pid, parsed_source_facts

GOOD = b"from sklearn.dummy import DummyClassifier\n\ndef get_estimator():\n    return None\n"


def test_one_child_parses_upload_after_upload() -> None:
    parsed_source_facts(GOOD)
    first = checker_pid()

    answers = [parsed_source_facts(GOOD) for _ in range(20)]

    assert answers == [{"defines_get_estimator": True}] * 20
    assert first is not None
    assert checker_pid() == first


def test_a_killed_child_is_replaced_and_the_upload_still_checked() -> None:
    parsed_source_facts(GOOD)
    dead = checker_pid()
    assert dead is not None
    os.kill(dead, signal.SIGKILL)
    os.waitpid(dead, 0)

    assert parsed_source_facts(GOOD) == {"defines_get_estimator": True}
    assert checker_pid() not in (None, dead)


def test_a_file_too_big_to_parse_is_refused_and_the_next_one_is_not() -> None:
    huge = b"a = [" + b"1," * 30_000_000 + b"]\n"

    assert "defines_get_estimator" not in parsed_source_facts(huge)
    assert parsed_source_facts(b"def get_estimator(:\n")["error"].startswith("line 1")
    assert parsed_source_facts(GOOD) == {"defines_get_estimator": True}
