"""What each release of a draft challenge would hold: computed from the saved
challenge (its dataset, split, release order and drift) and its saved release plan,
as publishing would cut them, so a teacher sees before publishing a release that
lacks a class (a file sorted by class, released in the file's order)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from django.utils import timezone

from challenges.datasets import DatasetError
from challenges.models import Challenge, TaskType
from challenges.selectors import training_targets_before_publishing
from challenges.splitting import SplitError
from dispatch.planning import PlanError
from dispatch.selectors import planned_releases


@dataclass(frozen=True)
class PreviewedRelease:
    sequence: int
    # None when the plan has no first release time: the first goes out on publishing.
    due_at: datetime | None
    after_publishing: timedelta
    rows: int
    class_counts: dict[str, int]  # empty for regression
    missing: tuple[str, ...]  # classes the release would not hold


@dataclass(frozen=True)
class ReleasePreview:
    classes: tuple[str, ...] = ()
    releases: tuple[PreviewedRelease, ...] = ()
    # Why there is nothing to show: says what to fix, or what to do first.
    problem: str = ""

    @property
    def starved(self) -> tuple[PreviewedRelease, ...]:
        return tuple(release for release in self.releases if release.missing)


def release_preview(challenge: Challenge | None) -> ReleasePreview:
    """The releases a draft challenge's saved settings would make (None: not saved yet)."""
    if challenge is not None and challenge.is_published:
        return ReleasePreview(problem="Published: the Releases page shows the planned releases.")
    if challenge is None or not challenge.dataset:
        return ReleasePreview(problem="Save the challenge with its dataset to see its releases.")
    try:
        targets = training_targets_before_publishing(challenge).astype(str)
    except (DatasetError, SplitError) as error:
        return ReleasePreview(problem=f"No preview: {error}")
    except OSError:
        return ReleasePreview(
            problem="No preview: the stored dataset cannot be read; upload it again."
        )
    first = challenge.release_plan.first_release_at
    try:
        planned = planned_releases(
            challenge, total_rows=len(targets), first_release_at=first or timezone.now()
        )
    except PlanError as error:
        return ReleasePreview(problem=f"No preview: {error}")
    classification = challenge.task_type == TaskType.CLASSIFICATION
    classes = tuple(sorted(targets.unique())) if classification else ()
    interval = timedelta(seconds=challenge.release_plan.release_interval_seconds)
    releases = []
    for release in planned:
        held = targets.iloc[release.row_start : release.row_stop]
        counts = _class_counts(held, classes)
        releases.append(
            PreviewedRelease(
                sequence=release.sequence,
                due_at=release.due_at if first else None,
                after_publishing=(release.sequence - 1) * interval,
                rows=len(held),
                class_counts=counts,
                missing=tuple(name for name, count in counts.items() if count == 0),
            )
        )
    return ReleasePreview(classes=classes, releases=tuple(releases))


def _class_counts(held: pd.Series, classes: tuple[str, ...]) -> dict[str, int]:
    found = held.value_counts()
    return {name: int(found.get(name, 0)) for name in classes}
