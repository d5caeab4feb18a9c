"""How a challenge's live endpoints are probed, as a section of the challenge
(challenges/sections.py): its form, its admin inline and its API fields."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from challenges.sections import ChallengeSection, SectionForm, SectionInline
from probing.models import ProbeRules


class ProbeRulesForm(SectionForm):
    defaulted = ("probe_interval_seconds", "probe_rows", "latency_sla_ms")

    class Meta:
        model = ProbeRules
        fields = [
            "probe_interval_seconds",
            "probe_rows",
            "latency_sla_ms",
            "probe_allowed_networks",
        ]


class ProbeRulesInline(SectionInline):
    model = ProbeRules
    form = ProbeRulesForm
    verbose_name = "live endpoints"
    verbose_name_plural = "live endpoints: how students' prediction endpoints are probed"


class ProbeRulesSerializer(serializers.Serializer[Any]):
    probe_interval_seconds = serializers.IntegerField(source="probe_rules.probe_interval_seconds")
    probe_rows = serializers.IntegerField(source="probe_rules.probe_rows")
    latency_sla_ms = serializers.IntegerField(source="probe_rules.latency_sla_ms")


PROBE_SECTION = ChallengeSection(
    model=ProbeRules,
    form=ProbeRulesForm,
    inline=ProbeRulesInline,
    serializer=ProbeRulesSerializer,
    position=20,
)
