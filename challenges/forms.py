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
from django.db import transaction

from challenges.datasets import (
    DatasetError,
    dataset_format,
    dataset_problems,
    read_dataset,
    sha256_of,
)
from challenges.kept_uploads import (
    KEPT_INPUT_SUFFIX,
    KeptDataset,
    KeptFileInput,
    KeptUploadError,
    kept_upload_keep,
    kept_upload_restore,
)
from challenges.models import JOIN_CODE_TAKEN, Challenge, DriftKind, TaskType
from challenges.sections import challenge_sections
from challenges.selectors import join_code_taken
from challenges.settings_form import SettingsForm
from challenges.splitting import SplitError, split_rows
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
    "team_size",
    "join_code",
    "release_order",
    "drift",
    "drift_column",
    "drift_strength",
]


# Added after the public API's field list was fixed: scripts that do not send
# them get the model's default rather than an error.
DEFAULTED_FIELDS = ("team_size", "release_order", "drift", "drift_strength")


def _metric_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        (label, [(name, name) for name in metric_names(value)]) for value, label in TaskType.choices
    ]


class ChallengeForm(SettingsForm):
    defaulted = DEFAULTED_FIELDS
    metric = forms.ChoiceField(choices=_metric_choices, help_text="A scikit-learn scorer name.")

    class Meta:
        model = Challenge
        fields = FIELDS
        # A plain file input: the stored dataset is never served by URL, so the
        # default widget's "Currently: <link>" would point nowhere. It carries the
        # file kept from a submit that had errors (challenges/kept_uploads.py).
        widgets = {"dataset": KeptFileInput}

    # The account filling the form: a kept dataset comes back only to the account
    # that uploaded it. The admin sets it per request (ChallengeAdmin.get_form).
    uploader_id: int | None = None

    def __init__(self, *args: Any, uploader_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if uploader_id is not None:
            self.uploader_id = uploader_id
        self._frame: pd.DataFrame | None = None
        self._sha256 = ""
        self._format = ""
        self._upload: UploadedFile | None = None
        self._kept: KeptDataset | None = None
        self._kept_error = ""
        if "dataset" in self.fields:
            self._restore_kept_dataset()
            widget = self.fields["dataset"].widget
            if isinstance(widget, KeptFileInput):
                widget.keep = self._keep_dataset

    def _restore_kept_dataset(self) -> None:
        """A submit without a new file but with the token of a kept one: the kept file
        is the upload, as if chosen again."""
        token = self.data.get("dataset" + KEPT_INPUT_SUFFIX) if self.is_bound else None
        if not token or self.files.get("dataset"):
            return
        try:
            kept = kept_upload_restore(str(token), uploader_id=self.uploader_id)
        except KeptUploadError as error:
            # Reported by clean_dataset, instead of the vaguer "This field is required."
            self._kept_error = str(error)
            self.fields["dataset"].required = False
            return
        self.files = self.files.copy()
        self.files["dataset"] = kept

    def _keep_dataset(self) -> KeptDataset | None:
        """Called when the page is shown again: keeps a dataset that passed its checks."""
        if self._upload is None or self._frame is None or "dataset" in self.errors:
            return None
        if self.uploader_id is None:
            return None  # no account to tie it to: the file is chosen again
        if self._kept is None:
            token = kept_upload_keep(self._upload, uploader_id=self.uploader_id)
            name = self._upload.name or "dataset.csv"
            self._kept = KeptDataset(token=token, name=name, rows=len(self._frame))
        return self._kept

    def clean_join_code(self) -> str:
        # On the field, where the teacher types it; the database constraint is the
        # same rule for two forms saved at once.
        code = str(self.cleaned_data.get("join_code") or "")
        if code and join_code_taken(code, other_than=self.instance.pk):
            raise forms.ValidationError(JOIN_CODE_TAKEN)
        return code

    def clean_dataset(self) -> Any:
        upload = self.cleaned_data.get("dataset")
        if not isinstance(upload, UploadedFile):
            if self._kept_error:
                raise forms.ValidationError(self._kept_error)
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
        self._upload = upload
        return upload

    def _stored_frame(self) -> pd.DataFrame | None:
        if not self.instance.pk or not self.instance.dataset:
            return None
        with self.instance.dataset.open("rb") as handle:
            return read_dataset(handle, self.instance.dataset_format)

    def clean(self) -> dict[str, Any]:
        super().clean()
        opens_at, closes_at = self.value("opens_at"), self.value("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", "The close date must be after the open date.")
        task_type, metric = self.value("task_type"), self.value("metric")
        if task_type and metric in METRICS and METRICS[metric].task_type != task_type:
            self.add_error(
                "metric",
                f"'{metric}' is a {METRICS[metric].task_type} metric; for {task_type} use one of: "
                f"{', '.join(metric_names(task_type))}.",
            )
        if not self.instance.is_published:
            self._check_dataset(task_type)
        return self.cleaned_data

    def _check_dataset(self, task_type: str | None) -> None:
        if "dataset" in self.errors or not task_type:
            return
        frame = self._frame if self._frame is not None else self._stored_frame()
        target = self.value("target_column")
        if frame is None or not target:
            return
        problems = dataset_problems(
            frame,
            target_column=target,
            id_column=self.value("id_column") or "",
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
                test_fraction=self.value("test_fraction"),
                private_fraction=self.value("private_fraction"),
                seed=self.value("split_seed"),
            )
        except SplitError as error:
            self.add_error("test_fraction", str(error))
        self._check_drift(frame, target, task_type)

    def _check_drift(self, frame: pd.DataFrame, target: str, task_type: str) -> None:
        kind, column = self.value("drift") or DriftKind.NONE, self.value("drift_column") or ""
        if kind == DriftKind.ORDERED and column not in frame.columns:
            known = ", ".join(str(c) for c in frame.columns[:20])
            self.add_error(
                "drift_column",
                f"Drift ordered by a column needs a column of the dataset ({known}); "
                f"{column!r} is not one."
                if column
                else f"Name the column to order the releases by (one of: {known}).",
            )
        elif kind == DriftKind.ORDERED and column == self.value("id_column"):
            self.add_error("drift_column", "Order by a feature or the target, not the id column.")
        if kind == DriftKind.CLASS_PRIOR and task_type != TaskType.CLASSIFICATION:
            self.add_error("drift", "A class-prior change needs a classification challenge.")
        skip = {target, self.value("id_column") or ""}
        numeric = [c for c in frame.select_dtypes("number").columns if c not in skip]
        if kind == DriftKind.NOISE and not numeric:
            self.add_error("drift", "Added noise needs at least one numeric feature column.")

    def save(self, commit: bool = True) -> Challenge:
        if self._frame is not None:
            self.instance.dataset_format = self._format
            self.instance.dataset_sha256 = self._sha256
            self.instance.dataset_rows = len(self._frame)
        return super().save(commit=commit)


class ChallengeForms:
    """A whole challenge from one flat set of fields, as the API and the demo send it:
    the core form and every section's form (challenges/sections.py), all valid or
    nothing saved."""

    def __init__(self, data: Any, files: Any = None, *, named_for: Any = None) -> None:
        """`named_for`: the API's caller, who names the objects the forms refer to
        (destinations) rather than giving their ids."""
        self.core = ChallengeForm(
            data, files, uploader_id=named_for.pk if named_for is not None else None
        )
        self.sections = [(section, section.form(data)) for section in challenge_sections()]
        for _, form in self.sections:
            # A section may check its settings against the challenge's (a date after
            # the open date): the core form validates first and sets them on it.
            form.instance.challenge = self.core.instance
        if named_for is not None:
            for _, form in self.sections:
                form.name_references(named_for)

    def is_valid(self) -> bool:
        # Every form validates, so every error is reported at once.
        results = [self.core.is_valid(), *(form.is_valid() for _, form in self.sections)]
        return all(results)

    @property
    def errors(self) -> dict[str, list[str]]:
        merged: dict[str, list[str]] = {}
        for form in (self.core, *(form for _, form in self.sections)):
            for field, messages in form.errors.items():
                merged.setdefault(field, []).extend(str(message) for message in messages)
        return merged

    def save(self, *, owner: Any) -> Challenge:
        with transaction.atomic():
            challenge = self.core.save(commit=False)
            challenge.owner = owner
            challenge.save()  # each section's row is made with its defaults
            self.core.save_m2m()
            for _, form in self.sections:
                # The form's instance holds its cleaned values; keyed by the challenge,
                # saving it updates the row made with the defaults.
                form.instance.challenge = challenge
                form.save()
        return challenge
