"""Proof of receipt as a section of the challenge (challenges/sections.py): its
form, its admin inline and its API fields."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from challenges.sections import ChallengeSection, SectionForm, SectionInline
from receipts.models import ReceiptRules


class ReceiptRulesForm(SectionForm):
    defaulted = ("receipt_questions", "receipt_deadline_hours")

    class Meta:
        model = ReceiptRules
        fields = ["receipt_questions", "receipt_deadline_hours"]


class ReceiptRulesInline(SectionInline):
    model = ReceiptRules
    form = ReceiptRulesForm
    verbose_name = "proof of receipt"
    verbose_name_plural = (
        "proof of receipt: questions about each release, which students answer over the API "
        "to show they received and read the data"
    )


class ReceiptRulesSerializer(serializers.Serializer[Any]):
    receipt_questions = serializers.IntegerField(source="receipt_rules.receipt_questions")
    receipt_deadline_hours = serializers.IntegerField(source="receipt_rules.receipt_deadline_hours")


RECEIPT_SECTION = ChallengeSection(
    model=ReceiptRules,
    form=ReceiptRulesForm,
    inline=ReceiptRulesInline,
    serializer=ReceiptRulesSerializer,
    position=30,
)
