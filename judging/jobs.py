"""The judge job of a submission: everything a judge worker needs, nothing more.

It names its inputs by sha256 in the artifact store (code, training rows, test
features) and never the hidden labels, which stay in the private store and are
read only by the control side when it scores the returned predictions.
"""

from __future__ import annotations

from django.conf import settings

from challenges.selectors import judging_configuration_digest
from judging.models import SHARED_JUDGE_QUEUE, Submission
from worker_wing.jobs import JudgeJobMessage
from worker_wing.judge.job_format import ESTIMATOR_PLAN, job_payload


def judge_job(*, submission: Submission, attempt: int) -> JudgeJobMessage:
    challenge = submission.challenge
    split = challenge.split
    plans = submission.plans or [ESTIMATOR_PLAN]
    # The limits apply to each configuration: a sweep of four gets four times the time.
    runs = len(plans)
    return job_payload(
        submission_id=submission.pk,
        attempt=attempt,
        code_sha256=submission.code_sha256,
        filename=submission.filename,
        train_sha256=split.train_sha256,
        test_features_sha256=split.test_features_sha256,
        target_column=challenge.target_column,
        id_column=challenge.id_column,
        task_type=challenge.task_type,
        metric=challenge.metric,
        folds=challenge.judging_rules.cv_folds,
        seed=challenge.split_seed,
        limits={
            "cpu_seconds": challenge.judging_rules.cpu_seconds_limit * runs,
            "memory_mb": challenge.judging_rules.memory_mb_limit,
            "wall_seconds": challenge.judging_rules.wall_seconds_limit * runs,
            "processes": settings.PPIPE_JUDGE_PROCESSES,
            "file_mb": settings.PPIPE_JUDGE_FILE_MB,
        },
        threads=settings.PPIPE_JUDGE_THREADS,
        kind=submission.kind,
        plans=plans,
        batch_size=challenge.judging_rules.batch_size,
        config_sha256=judging_configuration_digest(challenge),
        queue=challenge.judging_rules.judge_queue or SHARED_JUDGE_QUEUE,
        participant=f"participant-{submission.participant_id}",
    )
