"""Teams of a challenge's students and the log of who joined and left."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from challenges.models import Challenge, Participant


def team_code() -> str:
    return secrets.token_hex(5)


class Team(models.Model):
    """Students of a challenge who share its limits and one leaderboard row.

    Kept when its last member leaves (empty, with its log): a member may come back
    with the code, and the teacher deletes it if it is of no more use."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=40)
    join_code = models.CharField(max_length=20, default=team_code, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table it had in challenges/, kept: moving the model to this app changed
        # no row and no schema (teams/migrations/0001_initial.py).
        db_table = "challenges_team"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "challenge", name="team_name_unique_per_challenge"
            ),
            models.UniqueConstraint(
                fields=["challenge", "join_code"], name="team_code_unique_per_challenge"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TeamAction(models.TextChoices):
    CREATED = "created", "created the team"
    JOINED = "joined", "joined"
    LEFT = "left", "left"
    MOVED = "moved", "moved by the teacher"
    REMOVED = "removed", "removed by the teacher"


class TeamEvent(models.Model):
    """One membership change of a team, who made it and when."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="events")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="team_events"
    )
    action = models.CharField(max_length=10, choices=TeamAction.choices)
    by = models.CharField(max_length=150, help_text="Who made the change (a username).")
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "challenges_teamevent"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.participant.user} {self.get_action_display()} {self.team}"
