"""Pieces the apps' admin modules share: read-only inlines and admins, and the
base that keeps every figure the platform computes out of a teacher's reach."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.http import HttpRequest


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the platform writes (probes, questions): teachers read them, never edit."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def model_field_names(model: Any) -> list[str]:
    """A model's own fields, in declaration order (its automatic id left out)."""
    fields = [*model._meta.fields, *model._meta.many_to_many]
    return [field.name for field in fields if not (field.primary_key and field.auto_created)]


class TeacherEditsOnlyAdmin(admin.ModelAdmin):
    """Every field is read-only unless it is named in `teacher_editable`.

    Scores, costs, states, attempts, digests and system timestamps are the
    platform's record: a teacher who edits one (a contributivity of 95) makes the
    leaderboard lie until the next recompute. An allow-list, not a list of
    read-only fields, so that a field added to the model later is read-only until
    someone decides a teacher may set it. With nothing teacher-editable the pages
    are view-only; the admin's actions (judge again, cancel, retry…) still run,
    through the services, for whoever holds the model's change permission.
    """

    teacher_editable: Sequence[str] = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        declared = list(super().get_readonly_fields(request, obj))
        # Fields the admin hides (raw jobs, logs) stay hidden: read-only would show them.
        hidden = set(self.get_exclude(request, obj) or ()) | set(self.teacher_editable)
        rest = [name for name in model_field_names(self.model) if name not in hidden]
        return [*declared, *(name for name in rest if name not in declared)]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(self.teacher_editable) and super().has_change_permission(request, obj)

    def has_act_permission(self, request: HttpRequest) -> bool:
        """For actions (`@admin.action(permissions=["act"])`): the model's change
        permission, which the view-only page no longer asks for."""
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")
