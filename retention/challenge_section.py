"""How long a challenge's runs keep their artifacts, as a section of the challenge
(challenges/sections.py): its form, its admin inline and its API fields. The
inline links to the dry-run report (ppipe_site/admin.py serves it to whoever
may open the challenge's page: its teacher)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from rest_framework import serializers

from challenges.sections import ChallengeSection, SectionForm, SectionInline
from retention.models import RetentionRules, StoreUsage
from retention.policy import policy_of

FIELDS = ("keep_days", "low_score_below", "low_score_days", "sla_missed_days")


class RetentionRulesForm(SectionForm):
    class Meta:
        model = RetentionRules
        fields = list(FIELDS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        below, days = self.value("low_score_below"), self.value("low_score_days")
        if (below is None) != (days is None):
            self.add_error(
                "low_score_days" if days is None else "low_score_below",
                "A low-score rule needs both a threshold and the days such runs are kept; "
                "set both, or leave both empty.",
            )
        keep = self.value("keep_days")
        keep = settings.PPIPE_RETENTION_DAYS if keep is None else keep
        for name in ("low_score_days", "sla_missed_days"):
            shorter = self.value(name)
            if shorter is not None and keep and shorter >= keep:
                self.add_error(
                    name,
                    f"This rule lets runs go sooner than the others: it must be fewer days "
                    f"than the {keep} days other runs are kept.",
                )
        return cleaned


class RetentionRulesInline(SectionInline):
    model = RetentionRules
    form = RetentionRulesForm
    verbose_name = "artifact retention"
    verbose_name_plural = "artifact retention: how long runs keep their predictions, logs and model"
    computed = ("policy_summary",)
    fields = (*FIELDS, "policy_summary")

    @staticmethod
    def policy_summary(rules: RetentionRules) -> str:
        if rules.pk is None:
            return f"The platform's default: {settings.PPIPE_RETENTION_DAYS} days (0: for good)."
        usage = StoreUsage.objects.filter(challenge_id=rules.pk).first()
        stored = (
            f"{usage.blobs} files, {filesizeformat(usage.bytes)} in the store "
            f"(measured {usage.measured_at:%Y-%m-%d %H:%M} UTC)"
            if usage
            else "not measured yet"
        )
        return format_html(
            "{}. Never removed: runs waiting or running, selected, promoted, each student's "
            "best, reproduced, or in the contributivity blend. Now: {}. "
            '<a href="{}" id="retention-report">What the policy would remove now (dry run)</a>',
            policy_of(rules.pk).describe().capitalize(),
            stored,
            reverse("admin:challenges_challenge_retention", args=[rules.pk]),
        )


class RetentionRulesSerializer(serializers.Serializer[Any]):
    keep_days = serializers.IntegerField(
        source="retention_rules.kept_days",
        help_text="Days a run's artifacts are kept after it ended, unless the run is kept "
        "(selected, promoted, a student's best, reproduced): the challenge's, or the "
        "platform's default; 0: for good.",
    )
    low_score_below = serializers.FloatField(
        source="retention_rules.low_score_below", allow_null=True
    )
    low_score_days = serializers.IntegerField(
        source="retention_rules.low_score_days", allow_null=True
    )
    sla_missed_days = serializers.IntegerField(
        source="retention_rules.sla_missed_days", allow_null=True
    )


RETENTION_SECTION = ChallengeSection(
    model=RetentionRules,
    form=RetentionRulesForm,
    inline=RetentionRulesInline,
    serializer=RetentionRulesSerializer,
    position=90,
)
