"""Proof-of-receipt questions in the admin: read-only, for the challenge's
teacher, filtered by verdict, kind and challenge; the expected answer shows
here (and only here)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from challenges.admin_filters import OwnChallengeFilter
from challenges.selectors import owned_by
from foundation.admin_helpers import ReadOnlyAdmin
from receipts.models import Question


class QuestionChallengeFilter(OwnChallengeFilter):
    challenge_lookup = "participant__challenge_id"


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "student",
        "release_sequence",
        "kind",
        "prompt",
        "expected",
        "answer",
        "verdict",
        "deadline",
        "answered_at",
    )
    list_filter = ("verdict", "kind", QuestionChallengeFilter, "posted_at")
    search_fields = ("participant__user__username", "prompt")
    list_select_related = ("participant__user", "release")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        questions = Question.objects.all()
        return owned_by(questions, request.user, owner="participant__challenge__owner_id")

    @admin.display(description="student", ordering="participant__user__username")
    def student(self, obj: Question) -> str:
        return obj.participant.user.get_username()

    @admin.display(description="release", ordering="release__sequence")
    def release_sequence(self, obj: Question) -> int:
        return obj.release.sequence
