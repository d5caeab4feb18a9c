"""A challenge's settings, one section per app that builds on challenges.

The core (challenges.models.Challenge) holds what every challenge has: its data,
its split, its dates and who takes part. How its rows are released, how its
submissions are judged, how its endpoints are probed and what its students are
asked about their data belong to dispatch, judging, probing and receipts. Each of
those apps keeps its settings in a model of its own, one row per challenge (the
challenge's id is its key), and registers a section here from its AppConfig.ready:
the model, the form that validates it, its admin inline and its API serializer.
The challenge's admin page, its API and its judging digest are composed from the
sections, so challenges/ imports none of those apps.

Every challenge has a row in every section: one is made with the model's defaults
when the challenge is first saved, whichever way it was created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models.signals import post_save
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from rest_framework import serializers

from challenges.models import Challenge
from challenges.settings_form import SettingsForm


class SectionForm(SettingsForm):
    """The base of a section's form."""

    def name_references(self, owner: Any) -> None:
        """Over the API, objects the form refers to are named, among the caller's own:
        a section whose form refers to any swaps its fields here."""


class SectionFormSet(BaseInlineFormSet):
    """Gives each section's form the challenge being edited, with the values its own
    form has just validated (the admin validates the challenge's form first), so a
    section may check its settings against the challenge's (a date after its open
    date); Django's inline formset sets only the challenge's id."""

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        if index is None:
            # The empty form (the page's template for another inline) is never saved;
            # and setting a one-to-one's challenge also caches the row as the
            # challenge's section, so its defaults would stand in for the saved row
            # wherever the page reads the challenge's section (the release preview).
            return
        # The formset then sets the challenge's id on the form's instance: the same
        # id, so the challenge set here stays.
        form.instance.challenge = self.instance


class SectionInline(admin.StackedInline):
    """A section on the challenge's admin page: always one, never deleted, editable by
    whoever may edit the challenge, and its `frozen_on_publish` fields read-only once
    the challenge is published."""

    formset = SectionFormSet
    extra = 1
    min_num = 1
    max_num = 1
    can_delete = False
    frozen_on_publish: tuple[str, ...] = ()
    computed: tuple[str, ...] = ()  # read-only rows the inline shows (methods)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = list(self.computed)
        if isinstance(obj, Challenge) and obj.is_published:
            readonly.extend(self.frozen_on_publish)
        return readonly

    # A section is part of its challenge: the challenge's permissions decide.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("challenges.view_challenge") or self.has_change_permission(
            request, obj
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("challenges.add_challenge") or (
            obj is not None and self.has_change_permission(request, obj)
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("challenges.change_challenge")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@dataclass(frozen=True)
class ChallengeSection:
    """What an app adds to every challenge."""

    model: type[models.Model]  # a OneToOneField `challenge`, its primary key
    form: type[SectionForm]
    inline: type[SectionInline]
    # Its public fields in the challenge's API description: a serializer of the
    # challenge whose fields read the section's row (source="<accessor>.<field>").
    serializer: type[serializers.Serializer[Any]]
    # More fields for a single challenge's description (GET /api/challenges/{slug}/).
    detail_serializer: type[serializers.Serializer[Any]] | None = None
    # Settings that decide how a submission is judged: part of each run's digest.
    judged_by: tuple[str, ...] = ()
    position: int = 0  # where it comes on the challenge's admin page, lowest first

    @property
    def accessor(self) -> str:
        """The challenge's attribute that holds this section's row."""
        field = self.model._meta.get_field("challenge")
        assert isinstance(field, models.OneToOneField)
        assert field.primary_key
        return field.remote_field.get_accessor_name() or ""

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(self.form.base_fields)

    def of(self, challenge: Challenge) -> Any:
        return getattr(challenge, self.accessor)


_SECTIONS: list[ChallengeSection] = []


def section_register(section: ChallengeSection) -> None:
    """Called from the app's AppConfig.ready."""
    if all(known.model is not section.model for known in _SECTIONS):
        _SECTIONS.append(section)
        _SECTIONS.sort(key=lambda known: known.position)


def challenge_sections() -> tuple[ChallengeSection, ...]:
    return tuple(_SECTIONS)


def section_of_field(name: str) -> ChallengeSection | None:
    return next((s for s in _SECTIONS if name in s.field_names), None)


def _every_section_has_a_row(
    sender: type[Challenge], instance: Challenge, created: bool, raw: bool, **kwargs: Any
) -> None:
    # Loading fixtures (raw) brings its own rows.
    if created and not raw:
        for section in _SECTIONS:
            section.model._default_manager.get_or_create(challenge=instance)


post_save.connect(_every_section_has_a_row, sender=Challenge, dispatch_uid="challenge-sections")
