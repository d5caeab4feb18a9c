from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class ReceiptRules(models.Model):
    """Proof of receipt: how many questions about each release a student received (a
    cell, the row count, a column's sum) they answer over the API, and by when."""

    challenge = models.OneToOneField(
        "challenges.Challenge",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="receipt_rules",
    )
    receipt_questions = models.PositiveIntegerField(
        "questions per release",
        default=0,
        validators=[MaxValueValidator(20)],
        help_text="Questions posed to each student about each release they receive (0: none).",
    )
    receipt_deadline_hours = models.PositiveIntegerField(
        "hours to answer",
        default=24,
        validators=[MinValueValidator(1)],
        help_text="Time a student has to answer, from when the question is posed.",
    )

    class Meta:
        verbose_name = "receipt rules"
        verbose_name_plural = "receipt rules"

    def __str__(self) -> str:
        return f"receipt rules of {self.challenge}"


class QuestionKind(models.TextChoices):
    CELL = "cell", "the value of a cell"
    ROW_COUNT = "row_count", "the number of rows"
    COLUMN_SUM = "column_sum", "the sum of a column"


class Verdict(models.TextChoices):
    OPEN = "open", "open"
    CORRECT = "correct"
    PARTIAL = "partial"
    INCORRECT = "incorrect"
    MISSED = "missed", "missed (no answer by the deadline)"


class Question(models.Model):
    """A question to one student about one release they received. Its expected
    answer is computed from the release's rows when posed and never shown;
    the first answer is final and judged at once."""

    participant = models.ForeignKey(
        "challenges.Participant", on_delete=models.CASCADE, related_name="questions"
    )
    release = models.ForeignKey(
        "dispatch.Release", on_delete=models.CASCADE, related_name="questions"
    )
    kind = models.CharField(max_length=12, choices=QuestionKind.choices)
    column = models.CharField(max_length=200, blank=True)
    # The row asked about: its position in the release file (from 1) and, when
    # the challenge has an id column, its id.
    row_number = models.PositiveIntegerField(null=True, blank=True)
    row_id = models.CharField(max_length=200, blank=True)
    prompt = models.TextField()
    expected = models.JSONField()
    posted_at = models.DateTimeField()
    deadline = models.DateTimeField()
    answer = models.CharField(max_length=200, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    verdict = models.CharField(max_length=10, choices=Verdict.choices, default=Verdict.OPEN)

    class Meta:
        ordering = ["release__sequence", "id"]
        indexes = [models.Index(fields=["participant", "verdict"])]

    def __str__(self) -> str:
        return f"{self.participant} · release {self.release.sequence} · {self.get_kind_display()}"
