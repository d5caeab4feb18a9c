"""A challenge's retention rules say what to fix when they cannot work: a low-score
rule needs both its threshold and its days, and a threshold rule must keep runs
fewer days than the others are kept; nothing is saved then."""

from __future__ import annotations

import pytest

from retention.challenge_section import RetentionRulesForm
from retention.models import RetentionRules
from tests.factories import ChallengeFactory

pytestmark = pytest.mark.django_db


def errors(**data: object) -> dict[str, list[str]]:
    rules = ChallengeFactory().retention_rules
    form = RetentionRulesForm(
        data={k: "" if v is None else v for k, v in data.items()}, instance=rules
    )
    if form.is_valid():
        form.save()
        return {}
    assert RetentionRules.objects.get(pk=rules.pk).keep_days is None  # nothing saved
    return {name: list(messages) for name, messages in form.errors.items()}


def test_a_low_score_rule_needs_its_threshold_and_its_days() -> None:
    found = errors(keep_days=30, low_score_below=0.5, low_score_days=None)

    assert "needs both a threshold and the days" in found["low_score_days"][0]


def test_a_threshold_rule_must_be_shorter_than_the_others() -> None:
    found = errors(keep_days=10, sla_missed_days=20)

    assert "fewer days than the 10 days other runs are kept" in found["sla_missed_days"][0]


def test_sound_rules_are_saved() -> None:
    assert errors(keep_days=30, low_score_below=0.5, low_score_days=7, sla_missed_days=3) == {}
    assert RetentionRules.objects.filter(keep_days=30, low_score_days=7).exists()
