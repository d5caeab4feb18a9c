"""A failure's kind read from its reason (worker_wing/failure_kinds.py): the
judge's own wording of each limit, the platform's own troubles, and a student's
exception, which stays a student error even when it quotes a limit's words."""

from __future__ import annotations

import pytest

from worker_wing.failure_kinds import kind_of_reason
from worker_wing.jobs import FailureKind as Kind
from worker_wing.jobs import failure_cause


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("CPU time limit of 60 s exceeded (during fit on fold 2)", Kind.CPU),
        ("Memory limit of 512 MB exceeded (MemoryError during fit on fold 0)", Kind.MEMORY),
        ("wall-clock limit of 120 s exceeded (during predict)", Kind.WALL),
        ("a file or the output grew past the limit of 64 MB (during fit)", Kind.FILE_SIZE),
        ("process limit of 64 processes reached during fit on fold 1", Kind.PROCESSES),
        ("fit on fold 0 raised KeyError: 'age' (see stderr)", Kind.STUDENT_ERROR),
        ("fit raised ValueError: memory limit of 5 MB exceeded", Kind.STUDENT_ERROR),
        ("this judge worker cannot sandbox student code: no bwrap", Kind.SANDBOX),
        ("the sandbox could not start: EPERM (gave up after 3 runs)", Kind.SANDBOX),
        (
            "internal error on judge@lab: RuntimeError: x (gave up after 3 runs)",
            Kind.INFRASTRUCTURE,
        ),
        ("the judge worker (judge@lab) stopped answering (gave up after 3 runs)", Kind.LOST),
        ("Cancelled by its author.", Kind.CANCELLED),
        ("", Kind.INFRASTRUCTURE),
    ],
)
def test_a_judge_reason_gives_its_kind(reason: str, kind: Kind) -> None:
    assert kind_of_reason(reason, queue="judge") == kind


def test_a_release_fails_for_the_platform_never_for_a_student() -> None:
    assert kind_of_reason("fit raised KeyError", queue="dispatch") == Kind.INFRASTRUCTURE
    assert kind_of_reason("HTTP 403 from the destination", queue="dispatch") == Kind.INFRASTRUCTURE
    lost = "no answer: attempt 2 ran on jobs@vm past its lease (gave up after 5 attempts)"
    assert kind_of_reason(lost, queue="dispatch") == Kind.LOST


def test_the_students_kinds_are_their_code_and_its_limits_the_rest_are_operations() -> None:
    students = {kind for kind in Kind if failure_cause(kind) == "student"}

    assert students == {
        Kind.STUDENT_ERROR,
        Kind.CPU,
        Kind.MEMORY,
        Kind.WALL,
        Kind.FILE_SIZE,
        Kind.PROCESSES,
    }
    assert failure_cause("fit raised KeyError") == "operations"
