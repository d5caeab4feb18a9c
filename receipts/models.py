from __future__ import annotations

from django.db import models


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
