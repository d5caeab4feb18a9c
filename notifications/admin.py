"""Notifications in the admin: the log of mails (read-only; a teacher sees their
challenges' and their own), and each challenge's notification settings (a
teacher edits their own challenges')."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from challenges.admin_filters import OwnChallengeFilter
from challenges.selectors import challenges_owned_by, owned_by
from foundation.admin_helpers import ReadOnlyAdmin
from notifications.models import ChallengeNotificationSettings, Notification
from notifications.selectors import notifications_visible_to


def _views_challenges(request: HttpRequest) -> bool:
    return request.user.has_perm("challenges.view_challenge")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "user", "challenge", "state", "attempts", "subject")
    list_filter = ("state", "kind", OwnChallengeFilter, "created_at")
    search_fields = ("user__username", "subject", "key")
    list_select_related = ("user", "challenge")
    readonly_fields = (
        "key",
        "kind",
        "user",
        "challenge",
        "subject",
        "body",
        "state",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "error",
        "created_at",
        "sent_at",
    )
    exclude = ("to_email", "lease_expires_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return notifications_visible_to(request.user)

    # Follows the challenges: a teacher who may view challenges reads their mails.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _views_challenges(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _views_challenges(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChallengeNotificationSettings)
class ChallengeNotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ("challenge", "endpoint_down_minutes", "endpoint_back_notice")
    list_select_related = ("challenge",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChallengeNotificationSettings]:
        rows = ChallengeNotificationSettings.objects.select_related("challenge")
        return owned_by(rows, request.user, owner="challenge__owner_id")

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "challenge":
            kwargs["queryset"] = challenges_owned_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _views_challenges(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _views_challenges(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("challenges.change_challenge")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("challenges.change_challenge")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("challenges.change_challenge")
