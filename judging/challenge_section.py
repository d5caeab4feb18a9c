"""How a challenge's submissions are judged, as a section of the challenge
(challenges/sections.py): its form, its admin inline and its API fields."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest
from django.utils.html import format_html
from rest_framework import serializers

from challenges.models import Challenge
from challenges.sections import ChallengeSection, SectionForm, SectionInline
from dispatch.forms import destinations_by_name
from dispatch.selectors import destinations_owned_by
from foundation.live_workers import live_workers_by_queue
from judging.judge_pools import judge_pool_of
from judging.models import JudgingRules

LIMITS = (
    "cpu_seconds_limit",
    "memory_mb_limit",
    "wall_seconds_limit",
    "submissions_per_day",
    "cv_folds",
    "final_selections",
)
POOL = ("judge_queue", "judge_store")
PIPELINES = (
    "batch_size",
    "step_latency_sla_ms",
    "pipeline_latency_sla_ms",
    "max_sweep_configurations",
    "sweep_cores",
    "sweep_batch_sizes",
    "reproduce_tolerance",
)
SHARING = ("code_sharing_at",)
# What decides how a submission is judged and measured: part of each run's digest,
# and fixed once the challenge is published.
JUDGED_BY = (
    "cpu_seconds_limit",
    "memory_mb_limit",
    "wall_seconds_limit",
    "cv_folds",
    "batch_size",
    "step_latency_sla_ms",
    "pipeline_latency_sla_ms",
)


class NumberListField(forms.JSONField):
    """A list of whole numbers typed as `1, 2, 4` (or as JSON); the model's validator
    says what is wrong with the numbers."""

    def to_python(self, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return []  # none offered
        if isinstance(value, str) and not value.strip().startswith("["):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            try:
                return [int(part) for part in parts]
            except ValueError:
                raise forms.ValidationError(
                    "Type whole numbers separated by commas, such as 1, 2, 4.", code="invalid"
                ) from None
        return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        if isinstance(value, str) and value.startswith("["):
            try:
                return ", ".join(str(item) for item in json.loads(value))
            except (ValueError, TypeError):
                return value
        return value


class JudgingRulesForm(SectionForm):
    defaulted = (
        "cv_folds",
        "final_selections",
        "batch_size",
        "max_sweep_configurations",
        "reproduce_tolerance",
        "code_sharing_at",
    )

    class Meta:
        model = JudgingRules
        fields = [*LIMITS, *POOL, *PIPELINES, *SHARING]
        field_classes = {"sweep_cores": NumberListField, "sweep_batch_sizes": NumberListField}
        widgets = {"sweep_cores": forms.TextInput, "sweep_batch_sizes": forms.TextInput}

    def name_references(self, owner: Any) -> None:
        self.fields["judge_store"] = destinations_by_name(owner, many=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.value("judge_store") and not self.value("judge_queue"):
            self.add_error(
                "judge_store",
                "A judge store serves a judge queue of the challenge's own: name the queue "
                "its workers serve, or leave the store empty.",
            )
        self._check_sharing_date()
        return cleaned

    def _check_sharing_date(self) -> None:
        # The challenge as it will be saved, its dates set by the challenge form's own
        # validation (challenges/sections.py `SectionFormSet`, challenges/forms.py
        # `ChallengeForms`); None where no challenge is known.
        sharing_at = self.value("code_sharing_at")
        challenge = getattr(self.instance, "challenge", None)
        opens_at = getattr(challenge, "opens_at", None)
        if sharing_at and opens_at and sharing_at <= opens_at:
            self.add_error(
                "code_sharing_at",
                "The code sharing date must be after the open date "
                f"({opens_at:%Y-%m-%d %H:%M %Z}): students first compete on their own. "
                "Leave it empty to never share code.",
            )


class JudgingRulesInline(SectionInline):
    model = JudgingRules
    form = JudgingRulesForm
    verbose_name = "judging"
    verbose_name_plural = "judging"
    frozen_on_publish = JUDGED_BY
    computed = ("judge_pool_status",)
    fieldsets = (
        ("Limits per submission", {"fields": LIMITS}),
        (
            "Judging pool",
            {
                "description": "Where this challenge's submissions are trained: the shared "
                "pool, or workers of a queue of its own on the data owner's servers.",
                "fields": (*POOL, "judge_pool_status"),
            },
        ),
        (
            "Pipelines and reproducibility",
            {
                "description": "How pipeline submissions are timed, and when a reproduced "
                "run counts as matching.",
                "fields": PIPELINES,
            },
        ),
        (
            "Collaborative phase",
            {
                "description": "From the code sharing date every scored submission's code, "
                "scores and costs are open to the challenge's participants, who may build "
                "on them; the leaderboard shows who built on whom.",
                "fields": SHARING,
            },
        ),
    )

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "judge_store":
            kwargs["queryset"] = destinations_owned_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # The challenge's page, opened: warn when its own judge queue has no worker.
        if request.method == "GET" and isinstance(obj, Challenge):
            rules = obj.judging_rules
            if rules.judge_queue:
                pool = judge_pool_of(rules, live_workers_by_queue())
                if pool.unserved:
                    messages.warning(request, f"Judge queue {pool.described}.")
        return super().get_formset(request, obj, **kwargs)

    @staticmethod
    def judge_pool_status(rules: JudgingRules) -> str:
        if not rules.judge_queue or rules.pk is None:
            # The shared pool is the operators' to watch (the operations page): no
            # broadcast to the workers for every challenge page.
            return "the shared judge pool"
        pool = judge_pool_of(rules, live_workers_by_queue())
        return format_html(
            '<span class="{}" id="judge-pool">{}: {}</span>',
            "judge-pool-unserved" if pool.unserved else "judge-pool",
            pool.queue,
            pool.described,
        )


class JudgingRulesSerializer(serializers.Serializer[Any]):
    cv_folds = serializers.IntegerField(source="judging_rules.cv_folds")
    cpu_seconds_limit = serializers.IntegerField(source="judging_rules.cpu_seconds_limit")
    memory_mb_limit = serializers.IntegerField(source="judging_rules.memory_mb_limit")
    wall_seconds_limit = serializers.IntegerField(source="judging_rules.wall_seconds_limit")
    submissions_per_day = serializers.IntegerField(source="judging_rules.submissions_per_day")
    final_selections = serializers.IntegerField(source="judging_rules.final_selections")
    batch_size = serializers.IntegerField(
        source="judging_rules.batch_size", help_text="Rows per timed prediction batch (0: all)."
    )
    step_latency_sla_ms = serializers.IntegerField(
        source="judging_rules.step_latency_sla_ms", allow_null=True
    )
    pipeline_latency_sla_ms = serializers.IntegerField(
        source="judging_rules.pipeline_latency_sla_ms", allow_null=True
    )
    max_sweep_configurations = serializers.IntegerField(
        source="judging_rules.max_sweep_configurations"
    )
    sweep_cores = serializers.ListField(
        child=serializers.IntegerField(),
        source="judging_rules.sweep_cores",
        help_text="Core counts a sweep may run each configuration on (empty: none).",
    )
    sweep_batch_sizes = serializers.ListField(
        child=serializers.IntegerField(),
        source="judging_rules.sweep_batch_sizes",
        help_text="Batch sizes a sweep may time each configuration at (empty: none).",
    )
    reproduce_tolerance = serializers.FloatField(source="judging_rules.reproduce_tolerance")
    code_sharing_at = serializers.DateTimeField(
        source="judging_rules.code_sharing_at",
        allow_null=True,
        help_text="From this time every scored submission's code, scores and costs are open "
        "to the participants, who may build on them (POST /api/submissions/{id}/fork/); "
        "null: never.",
    )


JUDGING_SECTION = ChallengeSection(
    model=JudgingRules,
    form=JudgingRulesForm,
    inline=JudgingRulesInline,
    serializer=JudgingRulesSerializer,
    judged_by=JUDGED_BY,
    position=10,
)
