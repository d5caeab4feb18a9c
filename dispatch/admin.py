from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from dispatch.forms import DestinationForm
from dispatch.models import Destination, Transaction, TransactionEvent
from dispatch.selectors import destinations_owned_by, transactions_visible_to
from dispatch.services import transaction_cancel, transaction_retry
from dispatch.tasks import revoke_task
from foundation.admin_helpers import ReadOnlyInline, TeacherEditsOnlyAdmin


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    form = DestinationForm
    list_display = ("name", "type", "path", "owner", "secrets_stored")
    list_filter = ("type",)
    search_fields = ("name", "path")
    fields = ("name", "type", "path", "options_text", "secrets_text")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Destination]:
        return destinations_owned_by(request.user)

    def save_model(self, request: HttpRequest, obj: Destination, form: Any, change: bool) -> None:
        if not change:
            obj.owner = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    @admin.display(description="secret options")
    def secrets_stored(self, obj: Destination) -> str:
        # Names only: a secret's value is never rendered anywhere.
        return ", ".join(sorted(obj.secret_options)) or "-"


class TransactionEventInline(ReadOnlyInline):
    model = TransactionEvent
    fields = ("at", "state", "attempt", "message")
    readonly_fields = fields
    verbose_name_plural = "Timeline"


@admin.register(Transaction)
class TransactionAdmin(TeacherEditsOnlyAdmin):
    # A transaction is the platform's record of an upload: view-only; retry and
    # cancel are actions.
    list_display = (
        "id",
        "challenge",
        "sequence",
        "destination",
        "state",
        "attempts",
        "next_attempt_at",
        "bytes",
        "duration_seconds",
        "short_error",
    )
    # Related-only: the filters offer the challenges and destinations of the rows
    # get_queryset lets this teacher see, never another teacher's names.
    list_filter = (
        "state",
        "failure_kind",
        ("release__challenge", admin.RelatedOnlyFieldListFilter),
        ("destination", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("remote_path", "error")
    actions = ["retry_selected", "cancel_selected"]
    inlines = [TransactionEventInline]
    readonly_fields = (
        "release",
        "destination",
        "participant",
        "state",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "lease_expires_at",
        "remote_path",
        "bytes",
        "md5",
        "sha256",
        "verified",
        "duration_seconds",
        "worker",
        "error",
        "failure_kind",
        "task_id",
        "created_at",
        "queued_at",
        "started_at",
        "finished_at",
        "job_json",
    )
    exclude = ("job",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transaction]:
        return transactions_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="challenge", ordering="release__challenge__slug")
    def challenge(self, obj: Transaction) -> str:
        return obj.release.challenge.slug

    @admin.display(description="release", ordering="release__sequence")
    def sequence(self, obj: Transaction) -> int:
        return obj.release.sequence

    @admin.display(description="error")
    def short_error(self, obj: Transaction) -> str:
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    @admin.display(description="job (secrets hidden)")
    def job_json(self, obj: Transaction) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.job, indent=2, sort_keys=True))

    @admin.action(
        description="Retry selected failed or cancelled transactions", permissions=["act"]
    )
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Transaction]) -> None:
        retried = sum(transaction_retry(transaction=tx) for tx in queryset)
        self.message_user(
            request, f"{retried} transaction(s) will be sent again.", messages.SUCCESS
        )

    @admin.action(
        description="Cancel selected transactions (stops a running upload)", permissions=["act"]
    )
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Transaction]) -> None:
        cancelled = sum(transaction_cancel(transaction=tx, revoke=revoke_task) for tx in queryset)
        self.message_user(request, f"{cancelled} transaction(s) cancelled.", messages.SUCCESS)
