"""Every row that refers to a file of the artifact store, read in one place.

The collector (retention/sweep.py) deletes a file only when nothing listed here
refers to it, so this list must name every such column: a column forgotten here
is live data deleted. tests/test_retention_references_cover_every_digest.py
fails when a model gains a `*sha256*` column or a JSON field that is neither
listed here nor in NOT_REFERENCES with the reason it refers to no stored file.

JSON columns are searched whole for sha256-shaped strings rather than read by
their known keys: a job, a provenance or a plan that gains a digest tomorrow is
then covered without a change here. Keeping a file that only looked like a
reference costs some bytes; deleting one that was a reference costs a run.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Model, Q

DIGEST = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ReferenceSource:
    """Columns of one model that may hold digests, and how to reach the challenge
    the row belongs to (for each challenge's usage)."""

    model: str  # app_label.ModelName
    digests: tuple[str, ...]  # columns holding one digest each
    documents: tuple[str, ...]  # JSON columns searched for digests
    challenge: str  # the lookup that gives the row's challenge id


REFERENCES = (
    ReferenceSource(
        "judging.Submission",
        digests=("code_sha256",),
        # artifacts: the run's outputs; job: its code and data inputs (what a
        # reproduction runs again); provenance and plans: digests of what it ran.
        documents=("artifacts", "job", "provenance", "plans", "pipeline"),
        challenge="challenge_id",
    ),
    ReferenceSource(
        "judging.Reproduction",
        digests=(),
        documents=("provenance",),
        challenge="submission__challenge_id",
    ),
    ReferenceSource(
        "challenges.ChallengeSplit",
        # The training rows and test features every judge job and release reads
        # (the labels are in the private store, which is never swept; listed anyway).
        digests=("train_sha256", "test_features_sha256", "labels_sha256"),
        documents=(),
        challenge="challenge_id",
    ),
    ReferenceSource(
        "challenges.Challenge",
        digests=("dataset_sha256",),
        documents=(),
        challenge="id",
    ),
    ReferenceSource(
        "dispatch.Transaction",
        # The job names the source it slices (the split's training rows); sha256 is
        # the delivered file's checksum.
        digests=("sha256",),
        documents=("job",),
        challenge="release__challenge_id",
    ),
)

# Columns that look like they might hold a digest and do not, with why.
NOT_REFERENCES = {
    "retention.CollectedRun.artifacts": "what a collected run referred to: an audit, "
    "not a reference (keeping these would keep every collected file)",
    "judging.ChallengeBlend.folds": "submission ids and scores",
    "judging.ConfigurationResult.configuration": "a pipeline's chosen alternatives",
    "judging.JudgingRules.sweep_cores": "core counts a resource sweep may use",
    "judging.JudgingRules.sweep_batch_sizes": "batch sizes a resource sweep may time",
    "judging.Submission.sweep_not_run": "a sweep's configurations not run, with why",
    "judging.Reproduction.scores": "compared scores",
    "probing.Probe.rows": "row ids sent to an endpoint",
    "probing.Probe.exchange": "a probe's HTTP exchange",
    "receipts.Question.expected": "an answer",
    "dispatch.Destination.options": "rclone options",
    "dispatch.Destination.secret_options": "rclone secrets",
    "dispatch.Release.destination_ids": "destination ids",
}


def digests_in(value: Any) -> Iterator[str]:
    """The sha256-shaped strings anywhere in a JSON value (keys included)."""
    if isinstance(value, str):
        if DIGEST.match(value):
            yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from digests_in(key)
            yield from digests_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from digests_in(item)


def _rows(source: ReferenceSource, where: Q | None) -> Iterable[tuple[Any, ...]]:
    model: type[Model] = apps.get_model(source.model)
    queryset = model._default_manager.order_by()
    if where is not None:
        queryset = queryset.filter(where)
    columns = ("pk", source.challenge, *source.digests, *source.documents)
    return queryset.values_list(*columns).iterator(chunk_size=2000)


def references_by_challenge(
    *,
    challenge_ids: Iterable[int] | None = None,
    without_artifacts_of: frozenset[int] = frozenset(),
) -> dict[int | None, set[str]]:
    """Each challenge's referenced digests (None: rows of no challenge).

    `without_artifacts_of`: submissions read as if their artifacts were removed
    already (a dry run's question: what would no row refer to afterwards?)."""
    found: dict[int | None, set[str]] = defaultdict(set)
    wanted = None if challenge_ids is None else list(challenge_ids)
    for source in REFERENCES:
        where = None if wanted is None else Q(**{f"{source.challenge}__in": wanted})
        split = 2 + len(source.digests)
        skipped = (
            source.documents.index("artifacts") + split
            if source.model == "judging.Submission" and without_artifacts_of
            else None
        )
        for row in _rows(source, where):
            bucket = found[row[1]]
            bucket.update(d for d in row[2:split] if d and DIGEST.match(d))
            for index in range(split, len(row)):
                if index == skipped and row[0] in without_artifacts_of:
                    continue
                bucket.update(digests_in(row[index]))
    return dict(found)


def every_reference(by_challenge: dict[int | None, set[str]]) -> set[str]:
    every: set[str] = set()
    for digests in by_challenge.values():
        every |= digests
    return every
