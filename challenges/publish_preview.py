"""What publishing a challenge will freeze and do, shown to its teacher before they
confirm: publishing cannot be undone, so the page says what can no longer change.

The core freezes its data and split (Challenge.FROZEN_ON_PUBLISH); each section
freezes the fields its inline names (SectionInline.frozen_on_publish). The apps'
consequences (the releases) are added by whoever composes the page: the site's
admin, which knows the apps (ppipe_site/admin.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.text import capfirst

from challenges.forms import FIELDS
from challenges.models import Challenge
from challenges.sections import challenge_sections


@dataclass(frozen=True)
class FrozenSetting:
    label: str
    value: str


@dataclass(frozen=True)
class FrozenGroup:
    title: str
    settings: tuple[FrozenSetting, ...]


@dataclass
class PublishPreview:
    challenge: Challenge
    freezes: list[FrozenGroup]
    still_editable: list[str]
    consequences: list[str] = field(default_factory=list)


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.Field)
    return model_field


def _shown(row: models.Model, name: str) -> FrozenSetting:
    model_field = _field(type(row), name)
    value: Any = getattr(row, name)
    if model_field.choices:
        value = dict(model_field.flatchoices).get(value, value)
    if isinstance(model_field, models.FileField):
        value = value.name.rsplit("/", 1)[-1] if value else ""
    if value is None or value == "":
        value = "(none)"
    return FrozenSetting(label=capfirst(str(model_field.verbose_name)), value=str(value))


def train_rows_after_split(challenge: Challenge) -> int:
    """The training rows the split will leave: scikit-learn's train_test_split
    holds back ceil(test_fraction * rows), stratified or not."""
    rows = challenge.dataset_rows
    return rows - math.ceil(challenge.test_fraction * rows)


def publish_preview(challenge: Challenge) -> PublishPreview:
    core = tuple(_shown(challenge, name) for name in Challenge.FROZEN_ON_PUBLISH)
    freezes = [FrozenGroup(title="Data, split and drift", settings=core)]
    editable = [
        str(_field(Challenge, name).verbose_name)
        for name in FIELDS
        if name not in Challenge.FROZEN_ON_PUBLISH
    ]
    for section in challenge_sections():
        row = section.of(challenge)
        frozen = section.inline.frozen_on_publish
        if frozen:
            settings = tuple(_shown(row, name) for name in frozen)
            freezes.append(FrozenGroup(title=str(section.inline.verbose_name), settings=settings))
        editable.extend(
            str(_field(section.model, name).verbose_name)
            for name in section.field_names
            if name not in frozen
        )
    train = train_rows_after_split(challenge)
    consequences = [
        f"The {challenge.dataset_rows} rows are split once and for all: {train} training rows "
        f"and {challenge.dataset_rows - train} hidden test rows "
        f"({challenge.private_fraction:.0%} of them scored only after the close). "
        "The hidden labels are stored where no worker reads them.",
        "A published challenge cannot be unpublished or deleted; it can be closed "
        "(its close date) like any other.",
    ]
    return PublishPreview(
        challenge=challenge, freezes=freezes, still_editable=editable, consequences=consequences
    )
