"""The challenge form: the one place a challenge's configuration is validated.

The admin uses it, and so will the REST API, so a teacher gets the same errors
in both. Nothing is saved unless every check passes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import models

from challenges.datasets import (
    DatasetError,
    dataset_format,
    dataset_problems,
    read_dataset,
    sha256_of,
)
from challenges.models import Challenge, DriftKind, TaskType
from challenges.splitting import SplitError, split_rows
from dispatch.planning import PlanError, parse_proportions
from worker_wing.judge.metrics import METRICS, metric_names

FIELDS = [
    "name",
    "slug",
    "description",
    "dataset",
    "target_column",
    "id_column",
    "task_type",
    "metric",
    "test_fraction",
    "private_fraction",
    "split_seed",
    "opens_at",
    "closes_at",
    "cpu_seconds_limit",
    "memory_mb_limit",
    "wall_seconds_limit",
    "submissions_per_day",
    "cv_folds",
    "final_selections",
    "team_size",
    "judge_queue",
    "judge_store",
    "batch_size",
    "step_latency_sla_ms",
    "pipeline_latency_sla_ms",
    "max_sweep_configurations",
    "reproduce_tolerance",
    "join_code",
    "probe_interval_seconds",
    "probe_rows",
    "latency_sla_ms",
    "probe_allowed_networks",
    "receipt_questions",
    "receipt_deadline_hours",
    "drift",
    "drift_column",
    "drift_strength",
    "first_release_at",
    "release_proportions",
    "release_rows",
    "release_interval_seconds",
    "release_cumulative",
    "release_format",
    "destinations",
    "destinations_per_release",
    "release_per_participant",
]


# Added after the public API's field list was fixed: scripts that do not send
# them get the model's default rather than an error.
DEFAULTED_FIELDS = (
    "cv_folds",
    "final_selections",
    "team_size",
    "batch_size",
    "max_sweep_configurations",
    "reproduce_tolerance",
    "probe_interval_seconds",
    "probe_rows",
    "latency_sla_ms",
    "receipt_questions",
    "receipt_deadline_hours",
    "drift",
    "drift_strength",
)


def _metric_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        (label, [(name, name) for name in metric_names(value)]) for value, label in TaskType.choices
    ]


class ChallengeForm(forms.ModelForm):
    metric = forms.ChoiceField(choices=_metric_choices, help_text="A scikit-learn scorer name.")

    class Meta:
        model = Challenge
        fields = FIELDS
        # A plain file input: the stored dataset is never served by URL, so the
        # default widget's "Currently: <link>" would point nowhere.
        widgets = {"dataset": forms.FileInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._frame: pd.DataFrame | None = None
        self._sha256 = ""
        self._format = ""
        for name in DEFAULTED_FIELDS:
            if name in self.fields:
                self.fields[name].required = False

    def _default_if_missing(self, name: str) -> Any:
        value = self.cleaned_data.get(name)
        field = Challenge._meta.get_field(name)
        assert isinstance(field, models.Field)
        return value if value is not None else field.get_default()

    def _value(self, name: str) -> Any:
        """A field's new value, or the stored one when the field is not on the form."""
        if name in self.fields:
            return self.cleaned_data.get(name)
        return getattr(self.instance, name)

    def clean_dataset(self) -> Any:
        upload = self.cleaned_data.get("dataset")
        if not isinstance(upload, UploadedFile):
            return upload
        limit = settings.PPIPE_MAX_DATASET_MB
        if upload.size is not None and upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                f"The file is {upload.size / 2**20:.1f} MB; the limit is {limit} MB. "
                "Upload a smaller sample, or ask an operator to raise PPIPE_MAX_DATASET_MB."
            )
        stream = upload.file
        if stream is None:
            raise forms.ValidationError("The upload did not arrive: send the file again.")
        try:
            self._format = dataset_format(upload.name or "")
            self._frame = read_dataset(stream, self._format)
        except DatasetError as error:
            raise forms.ValidationError(str(error)) from None
        self._sha256 = sha256_of(stream)
        return upload

    def _stored_frame(self) -> pd.DataFrame | None:
        if not self.instance.pk or not self.instance.dataset:
            return None
        with self.instance.dataset.open("rb") as handle:
            return read_dataset(handle, self.instance.dataset_format)

    def clean(self) -> dict[str, Any]:
        super().clean()
        # A defaulted field a script left out takes the model's default (its own
        # validation passed the empty value).
        for name in DEFAULTED_FIELDS:
            if name in self.fields and name in self.cleaned_data:
                self.cleaned_data[name] = self._default_if_missing(name)
        opens_at, closes_at = self._value("opens_at"), self._value("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", "The close date must be after the open date.")
        task_type, metric = self._value("task_type"), self._value("metric")
        if task_type and metric in METRICS and METRICS[metric].task_type != task_type:
            self.add_error(
                "metric",
                f"'{metric}' is a {METRICS[metric].task_type} metric; for {task_type} use one of: "
                f"{', '.join(metric_names(task_type))}.",
            )
        if not self.instance.is_published:
            self._check_dataset(task_type)
        self._check_release_plan()
        if self._value("judge_store") and not self._value("judge_queue"):
            self.add_error(
                "judge_store",
                "A judge store serves a judge queue of the challenge's own: name the queue "
                "its workers serve, or leave the store empty.",
            )
        return self.cleaned_data

    def _check_release_plan(self) -> None:
        proportions, rows = self._value("release_proportions"), self._value("release_rows")
        if rows and proportions and proportions.strip() not in ("", "1"):
            self.add_error(
                "release_rows", "Give either release proportions or rows per release, not both."
            )
            return
        if not rows:
            try:
                parse_proportions(proportions or "1")
            except PlanError as error:
                self.add_error("release_proportions", str(error))
        destinations = self._value("destinations")
        count = (
            len(destinations)
            if destinations is not None and "destinations" in self.fields
            else None
        )
        if count and not self._value("first_release_at"):
            self.add_error(
                "first_release_at", "Give the time of the first release, or choose no destination."
            )
        subset = self._value("destinations_per_release")
        if subset and count is not None and subset > count:
            self.add_error(
                "destinations_per_release",
                f"Only {count} destination(s) are chosen; pick at most that many.",
            )

    def _check_dataset(self, task_type: str | None) -> None:
        if "dataset" in self.errors or not task_type:
            return
        frame = self._frame if self._frame is not None else self._stored_frame()
        target = self._value("target_column")
        if frame is None or not target:
            return
        problems = dataset_problems(
            frame,
            target_column=target,
            id_column=self._value("id_column") or "",
            task_type=task_type,
            min_rows=settings.PPIPE_MIN_DATASET_ROWS,
        )
        for problem in problems:
            self.add_error(problem.field if problem.field in self.fields else None, problem.message)
        if problems or self.errors:
            return
        try:
            split_rows(
                frame[target],
                stratify=task_type == TaskType.CLASSIFICATION,
                test_fraction=self._value("test_fraction"),
                private_fraction=self._value("private_fraction"),
                seed=self._value("split_seed"),
            )
        except SplitError as error:
            self.add_error("test_fraction", str(error))
        self._check_drift(frame, target, task_type)

    def _check_drift(self, frame: pd.DataFrame, target: str, task_type: str) -> None:
        kind, column = self._value("drift") or DriftKind.NONE, self._value("drift_column") or ""
        if kind == DriftKind.ORDERED and column not in frame.columns:
            known = ", ".join(str(c) for c in frame.columns[:20])
            self.add_error(
                "drift_column",
                f"Drift ordered by a column needs a column of the dataset ({known}); "
                f"{column!r} is not one."
                if column
                else f"Name the column to order the releases by (one of: {known}).",
            )
        elif kind == DriftKind.ORDERED and column == self._value("id_column"):
            self.add_error("drift_column", "Order by a feature or the target, not the id column.")
        if kind == DriftKind.CLASS_PRIOR and task_type != TaskType.CLASSIFICATION:
            self.add_error("drift", "A class-prior change needs a classification challenge.")
        skip = {target, self._value("id_column") or ""}
        numeric = [c for c in frame.select_dtypes("number").columns if c not in skip]
        if kind == DriftKind.NOISE and not numeric:
            self.add_error("drift", "Added noise needs at least one numeric feature column.")

    def save(self, commit: bool = True) -> Challenge:
        if self._frame is not None:
            self.instance.dataset_format = self._format
            self.instance.dataset_sha256 = self._sha256
            self.instance.dataset_rows = len(self._frame)
        return super().save(commit=commit)
