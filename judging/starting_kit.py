"""A student's starting kit: one zip with the task's README, an example
estimator.py, the training rows they may have with each row's fold, and
ppipe_test.py, which runs a submission on those rows as the judge does.

ppipe_test.py is built here, not written twice: it embeds the judge's own
modules (the fold runner, the step contract, the predictions' checks, the
metrics, the pipeline checks and plans) as text, and judging/local_judge.py's
source as its entry point. Folds are the judge's folds: computed on ALL the
training rows, as a judge worker computes them (worker_wing/judge/job_inputs.py),
and given per row; so once every release has reached the student, their rows
are the judge's rows and a deterministic submission's local cv_mean is the
platform's.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.template.loader import render_to_string

import worker_wing
from challenges.models import Challenge, Participant
from dispatch.models import Release
from dispatch.selectors import releases_delivered_to
from dispatch.student_data import data_section
from foundation.content_store import artifact_store
from judging import local_judge
from worker_wing.judge.job_inputs import cv_folds, fold_of_each_row

# What ppipe_test.py needs of the judge, as paths below the worker wing's folder.
JUDGE_MODULES = (
    "__init__.py",
    "judge/__init__.py",
    "judge/metrics.py",
    "judge/predictions.py",
    "judge/runner_confinement.py",
    "judge/runner_files.py",
    "judge/runner_fold.py",
    "judge/runner_labels.py",
    "judge/runner_steps.py",
    "pipeline/__init__.py",
    "pipeline/archive.py",
    "pipeline/check.py",
    "pipeline/code_check.py",
    "pipeline/graph.py",
    "pipeline/plan.py",
    "pipeline/source_checker.py",
    "pipeline/spec.py",
)
KIT_TEMPLATES = "judging/kit"


@dataclass(frozen=True)
class KitRows:
    """The rows of the releases delivered to a student, by position in the training set."""

    releases: list[Release]
    positions: np.ndarray
    folds: np.ndarray  # the judge's fold of each of those rows


@lru_cache(maxsize=1)
def judge_sources() -> dict[str, str]:
    """The judge's modules as ppipe_test.py carries them, keyed by their import path."""
    wing = Path(worker_wing.__file__).parent
    return {f"worker_wing/{name}": (wing / name).read_text() for name in JUDGE_MODULES}


@lru_cache(maxsize=8)
def _training_folds(train_sha256: str, target: str, task_type: str, folds: int, seed: int) -> Any:
    # Keyed by the training rows' digest: a cached answer can never be stale.
    y = artifact_store().read_frame(train_sha256)[target]
    return fold_of_each_row(cv_folds(y, task_type, folds, seed), len(y))


def kit_rows(participant: Participant) -> KitRows:
    """Which training rows reached this student (each once), and the judge's fold of each."""
    challenge = participant.challenge
    releases = releases_delivered_to(participant)
    covered = np.zeros(challenge.split.train_rows, dtype=bool)
    for release in releases:
        covered[release.row_start : release.row_stop] = True
    positions = np.flatnonzero(covered)
    fold_of = _training_folds(
        challenge.split.train_sha256,
        challenge.target_column,
        challenge.task_type,
        challenge.judging_rules.cv_folds,
        challenge.split_seed,
    )
    return KitRows(releases=releases, positions=positions, folds=fold_of[positions])


def _challenge_facts(challenge: Challenge, rows: KitRows) -> dict[str, Any]:
    """What ppipe_test.py needs to know of the challenge (nothing secret)."""
    return {
        "slug": challenge.slug,
        "target_column": challenge.target_column,
        "id_column": challenge.id_column,
        "task_type": challenge.task_type,
        "metric": challenge.metric,
        "cv_folds": challenge.judging_rules.cv_folds,
        "batch_size": challenge.judging_rules.batch_size,
        "releases": [
            {"sequence": r.sequence, "row_start": r.row_start, "row_stop": r.row_stop}
            for r in rows.releases
        ],
    }


def ppipe_test_source(challenge: Challenge, rows: KitRows) -> str:
    """One file: local_judge.py's source, the judge's modules and the challenge's facts."""
    entry = Path(local_judge.__file__).read_text()
    facts = json.dumps(_challenge_facts(challenge, rows), indent=1)
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"# ppipe_test.py for the challenge '{challenge.slug}', made {made} from the judge's\n"
        "# own modules (embedded below as JUDGE_SOURCES). Run: python ppipe_test.py estimator.py\n"
        f"{entry}\n\n"
        f"CHALLENGE: dict[str, Any] = json.loads({facts!r})\n"
        f"JUDGE_SOURCES: dict[str, str] = {judge_sources()!r}\n\n"
        'if __name__ == "__main__":\n'
        "    sys.exit(main(sys.argv[1:], CHALLENGE, JUDGE_SOURCES))\n"
    )


def _arrival(participant: Participant) -> list[str]:
    """Where releases land for this student, as the challenge page's data section
    shows it: each destination's kind and address, and the command that fetches it."""
    return [
        f"{place.kind}: `{place.address}`"
        + (f", fetched with `{place.fetch_command}`" if place.fetch_command else "")
        for place in data_section(participant).destinations
    ]


def _readme(challenge: Challenge, participant: Participant, rows: KitRows, held: bool) -> str:
    plan = challenge.release_plan
    releases = list(plan.releases)
    return render_to_string(
        f"{KIT_TEMPLATES}/README.md",
        {
            "challenge": challenge,
            "rules": challenge.judging_rules,
            "rows": rows,
            "row_count": len(rows.positions),
            "held": held,
            "delivered": [str(r.sequence) for r in rows.releases],
            "planned": len(releases),
            "all_delivered": len(rows.releases) == len(releases),
            "release_format": plan.release_format,
            "arrival": _arrival(participant),
        },
    )


def starting_kit(participant: Participant) -> bytes:
    """The zip a student downloads: README.md, estimator.py, ppipe_test.py, and in
    data/ the judge's fold of each row delivered to them (folds.csv), with those
    rows themselves (train.parquet) when the challenge allows downloads."""
    challenge = participant.challenge
    rows = kit_rows(participant)
    held = challenge.release_plan.release_downloads and len(rows.positions) > 0
    folder = f"{challenge.slug}-kit"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as kit:
        kit.writestr(f"{folder}/README.md", _readme(challenge, participant, rows, held))
        estimator = render_to_string(f"{KIT_TEMPLATES}/estimator.py.txt", {"challenge": challenge})
        kit.writestr(f"{folder}/estimator.py", estimator)
        kit.writestr(f"{folder}/ppipe_test.py", ppipe_test_source(challenge, rows))
        folds = pd.DataFrame({"row": rows.positions, "fold": rows.folds})
        kit.writestr(f"{folder}/data/folds.csv", folds.to_csv(index=False))
        if held:
            # The stored training rows themselves, types and all: what the judge reads.
            train = artifact_store().read_frame(challenge.split.train_sha256)
            data = io.BytesIO()
            train.iloc[rows.positions].to_parquet(data, index=False)
            kit.writestr(f"{folder}/data/train.parquet", data.getvalue())
    return buffer.getvalue()


def kit_participant(user: Any, slug: str) -> Participant | None:
    """The user's participation in the published challenge `slug`, or None: a kit is a
    member's only (anyone else is told nothing, not even that the challenge exists)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Participant.objects.filter(challenge__slug=slug, user=user, challenge__split__isnull=False)
        .select_related("challenge__split", "challenge__release_plan", "user")
        .first()
    )


def kit_filename(participant: Participant) -> str:
    return f"{participant.challenge.slug}-kit.zip"
