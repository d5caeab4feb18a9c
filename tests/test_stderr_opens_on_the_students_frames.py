"""The stderr a student reads opens on their own frames: the platform's runner
frames (/job/runner.py, /job/lib/...) fold into one line, the student's frames,
a library's frames they called and the exception line stay. Checked on
tracebacks the real sandbox printed, and end to end: code that raises, run by
the real runner in bubblewrap, then recorded and shown on the submission's page
and in the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from judging.models import Submission
from judging.services import submission_record_result
from tests.judge_kits import estimator_doing, judge
from tests.notifications import running_submission
from tests.test_api_challenges import token_client
from worker_wing.judge.traceback_folding import fold_runner_frames

# Printed by the runner in the sandbox (captured from tests.judge_kits.judge on
# this machine) for a fit that calls a helper dividing by zero.
RAISED_IN_FIT = """\
Traceback (most recent call last):
  File "/job/lib/worker_wing/judge/runner_fold.py", line 161, in _student
    status = _run_fold(spec, plan, fold, inputs, labels)
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/job/lib/worker_wing/judge/runner_fold.py", line 110, in _run_fold
    levels.each(lambda step: step.fit(values, fold, rows))
  File "/job/lib/worker_wing/judge/runner_steps.py", line 169, in each
    call(level[0])
  File "/job/lib/worker_wing/judge/runner_fold.py", line 110, in <lambda>
    levels.each(lambda step: step.fit(values, fold, rows))
                             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/job/lib/worker_wing/judge/runner_steps.py", line 121, in fit
    model.fit(*arguments, values["y"])
  File "/job/input/submission/estimator.py", line 8, in fit
    helper()
  File "/job/input/submission/estimator.py", line 7, in <lambda>
    helper = lambda: 1 / 0
                     ~~^~~
ZeroDivisionError: division by zero
"""
# The same for a fit that calls scikit-learn with one class, and an import that fails.
RAISED_IN_SKLEARN = """\
Traceback (most recent call last):
  File "/job/lib/worker_wing/judge/runner_fold.py", line 161, in _student
    status = _run_fold(spec, plan, fold, inputs, labels)
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/job/lib/worker_wing/judge/runner_fold.py", line 110, in _run_fold
    levels.each(lambda step: step.fit(values, fold, rows))
  File "/job/lib/worker_wing/judge/runner_steps.py", line 169, in each
    call(level[0])
  File "/job/lib/worker_wing/judge/runner_fold.py", line 110, in <lambda>
    levels.each(lambda step: step.fit(values, fold, rows))
                             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/job/lib/worker_wing/judge/runner_steps.py", line 121, in fit
    model.fit(*arguments, values["y"])
  File "/job/input/submission/estimator.py", line 8, in fit
    LogisticRegression().fit(X, ['a'] * len(y))
  File "/venv/lib/python3.11/site-packages/sklearn/base.py", line 1403, in wrapper
    return fit_method(estimator, *args, **kwargs)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/sklearn/linear_model/_logistic.py", line 1501, in fit
    raise ValueError(
ValueError: This solver needs samples of at least 2 classes in the data
"""
IMPORT_FAILED = """\
Traceback (most recent call last):
  File "/job/lib/worker_wing/judge/runner_fold.py", line 161, in _student
    status = _run_fold(spec, plan, fold, inputs, labels)
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/job/lib/worker_wing/judge/runner_fold.py", line 86, in _run_fold
    import estimator
  File "/job/input/submission/estimator.py", line 1, in <module>
    import nonexistent_package_x
ModuleNotFoundError: No module named 'nonexistent_package_x'
"""


def test_the_runners_frames_fold_into_one_line_before_the_students() -> None:
    assert fold_runner_frames(RAISED_IN_FIT).splitlines() == [
        "Traceback (most recent call last):",
        "  … 5 frames of the ppipe runner hidden …",
        '  File "/job/input/submission/estimator.py", line 8, in fit',
        "    helper()",
        '  File "/job/input/submission/estimator.py", line 7, in <lambda>',
        "    helper = lambda: 1 / 0",
        "                     ~~^~~",
        "ZeroDivisionError: division by zero",
    ]


def test_a_librarys_frames_and_one_runner_frame_are_told_apart() -> None:
    folded = fold_runner_frames(RAISED_IN_SKLEARN).splitlines()
    assert folded[1:3] == [
        "  … 5 frames of the ppipe runner hidden …",
        '  File "/job/input/submission/estimator.py", line 8, in fit',
    ]
    assert sum("site-packages/sklearn/" in line for line in folded) == 2
    assert folded[-1].startswith("ValueError: This solver needs samples")
    assert fold_runner_frames(IMPORT_FAILED).splitlines()[1:3] == [
        "  … 2 frames of the ppipe runner hidden …",
        '  File "/job/input/submission/estimator.py", line 1, in <module>',
    ]


def test_text_that_is_not_a_runner_frame_stays_as_it_is() -> None:
    printed = 'epoch 1: loss 0.3\n  File "mine.py", line 2, in f\n    x()\nwarning: slow\n'
    assert fold_runner_frames(printed) == printed
    # A tail cut inside a runner frame keeps what it cannot tell apart.
    cut = RAISED_IN_FIT.split("\n", 3)[3]
    assert fold_runner_frames(cut).startswith("             ^^^^")
    assert "… 4 frames of the ppipe runner hidden …" in fold_runner_frames(cut)


@pytest.mark.django_db
def test_code_that_raises_shows_the_students_frame_first_on_its_page_and_api(
    tmp_path: Path,
) -> None:
    result = judge(tmp_path, estimator_doing("helper = lambda: 1 / 0\nhelper()"))
    assert not result["ok"]
    frames = [line for line in result["stderr_tail"].splitlines() if line.startswith("  ")]
    assert frames[0] == "  … 5 frames of the ppipe runner hidden …"
    assert frames[1].startswith('  File "/job/input/submission/estimator.py", line 8, in fit')
    assert "/job/lib/" not in result["stderr_tail"]

    submission = running_submission()
    submission_record_result(
        result={**result, "submission_id": submission.pk, "attempt": submission.attempts}
    )
    submission.refresh_from_db()
    assert submission.stderr_tail == result["stderr_tail"]
    client = Client()
    client.force_login(submission.participant.user)
    page = client.get(f"/submissions/{submission.pk}/").text
    shown = page.split('id="stderr"', 1)[1]
    assert shown.index("runner hidden") < shown.index("estimator.py&quot;, line 8, in fit")
    assert "failed: your code raised an error; it will not be retried" in page
    api = token_client(submission.participant.user).get(f"/api/submissions/{submission.pk}/")
    assert api.json()["stderr_tail"] == result["stderr_tail"]
    assert api.json()["run_status"] == "failed: your code raised an error; it will not be retried"
    assert Submission.objects.get(id=submission.pk).failure_kind == "student_error"
