"""Writes to teams: create, join with a code, leave, and the teacher's move and removal.

Locks are always taken in one order, so two writers never wait on each other: the
participant's row, then team rows by id. Joining locks the team's row, so joins
racing for its last place count its members one at a time and a team never grows
past the challenge's team_size; uploads and picks lock the same rows
(participant_lock, used by judging.services), so two members cannot race past the
team's daily limit or its picks.

A team whose last member leaves is kept, empty, with its log: a member may come
back with its code, and its teacher deletes it in the admin if it is of no more use.
Its name stays taken meanwhile. Every change is refused once the challenge has
closed: the final ranking is by team.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from challenges.models import Participant
from judging.models import Submission
from teams.models import Team, TeamAction, TeamEvent


class TeamRefused(ValueError):
    """The team change is refused; the message says why and what to do."""


def participant_lock(participant_id: int) -> int | None:
    """Lock a participant's row, then its team's (the order every team change
    takes); its team's id, None if it has none. Inside a transaction."""
    team_id = (
        Participant.objects.select_for_update()
        .filter(pk=participant_id)
        .values_list("team_id", flat=True)
        .first()
    )
    if team_id is not None:
        Team.objects.select_for_update().filter(pk=team_id).first()
    return team_id


def _locked(participant: Participant) -> Participant:
    return (
        Participant.objects.select_for_update(of=("self",))
        .select_related("challenge", "user", "team")
        .get(pk=participant.pk)
    )


def _check_open(participant: Participant, now: datetime) -> None:
    challenge = participant.challenge
    if now >= challenge.closes_at:
        raise TeamRefused(
            f"'{challenge.name}' closed at {challenge.closes_at:%Y-%m-%d %H:%M %Z}: "
            "its teams are final."
        )


def _check_room(team: Team, joining: Participant) -> None:
    """Room in the (locked) team for one more member, and for the picks they bring."""
    challenge = joining.challenge
    members = Participant.objects.filter(team=team).count()
    if members >= challenge.team_size:
        raise TeamRefused(
            f"Team '{team.name}' is full: {members} members, the most '{challenge.name}' "
            "allows. Ask a member to leave, or create a team of your own."
        )
    picks = Submission.objects.filter(selected=True, participant__team=team).count()
    own = Submission.objects.filter(selected=True, participant=joining).count()
    limit = challenge.judging_rules.final_selections
    if own and picks + own > limit:
        raise TeamRefused(
            f"Team '{team.name}' has {picks} of its {limit} picks for the "
            f"final ranking and {joining.user} has {own}: unselect some first, the team "
            "shares its picks."
        )


def _log(team: Team, participant: Participant, action: str, by: str, note: str = "") -> None:
    TeamEvent.objects.create(team=team, participant=participant, action=action, by=by, note=note)


def team_create(*, participant: Participant, name: str) -> Team:
    """A new team of the participant's challenge, with the participant in it."""
    name = " ".join(name.split())
    with transaction.atomic():
        current = _locked(participant)
        challenge = current.challenge
        _check_open(current, timezone.now())
        if challenge.team_size < 2:
            raise TeamRefused(
                f"'{challenge.name}' has no teams: everyone works alone (team size 1)."
            )
        if not name:
            raise TeamRefused("Give the team a name.")
        if current.team is not None:
            raise TeamRefused(
                f"You are in team '{current.team.name}': leave it first to create another."
            )
        taken = TeamRefused(
            f"A team named '{name}' already exists in '{challenge.name}': choose another "
            "name, or ask its members for its code to join it."
        )
        if Team.objects.filter(challenge=challenge, name__iexact=name).exists():
            raise taken
        try:
            with transaction.atomic():
                team = Team.objects.create(challenge=challenge, name=name[:40])
        except IntegrityError:  # created meanwhile by a classmate
            raise taken from None
        Participant.objects.filter(pk=current.pk).update(team=team)
        _log(team, current, TeamAction.CREATED, current.user.get_username())
    return team


def team_join(*, participant: Participant, code: str) -> Team:
    """Join the team of the participant's challenge that has this code."""
    with transaction.atomic():
        current = _locked(participant)
        challenge = current.challenge
        _check_open(current, timezone.now())
        # Team codes are made in lower case (team_code); one typed in capitals is the same.
        found = Team.objects.filter(challenge=challenge, join_code=code.strip().lower()).first()
        if found is None:
            raise TeamRefused(
                f"No team of '{challenge.name}' has this code: check it with the team's members."
            )
        if current.team_id == found.pk:
            return found
        if current.team is not None:
            raise TeamRefused(
                f"You are in team '{current.team.name}': leave it first to join '{found.name}'."
            )
        # The team's row is the turnstile: one join at a time counts its members.
        team = Team.objects.select_for_update().get(pk=found.pk)
        _check_room(team, current)
        Participant.objects.filter(pk=current.pk).update(team=team)
        _log(team, current, TeamAction.JOINED, current.user.get_username())
    return team


def team_leave(*, participant: Participant) -> Team:
    """Leave one's team (kept even if empty: see the module's docstring); the team left."""
    with transaction.atomic():
        current = _locked(participant)
        _check_open(current, timezone.now())
        if current.team_id is None:
            raise TeamRefused("You are not in a team.")
        team = Team.objects.select_for_update().get(pk=current.team_id)
        Participant.objects.filter(pk=current.pk).update(team=None)
        _log(team, current, TeamAction.LEFT, current.user.get_username())
    return team


def team_member_move(*, participant: Participant, to: Team | None, by: str) -> bool:
    """The teacher's change: move a participant to another team of its challenge, or
    (`to` None) out of its team, logged with `by`. False if it was there already.
    The target team's size and picks are checked as for a student's join."""
    with transaction.atomic():
        current = _locked(participant)
        _check_open(current, timezone.now())
        if to is not None and to.challenge_id != current.challenge_id:
            raise TeamRefused(f"Team '{to.name}' is not a team of '{current.challenge.name}'.")
        if current.team_id == (to.pk if to else None):
            return False
        ids = sorted(pk for pk in (current.team_id, to.pk if to else None) if pk is not None)
        locked = {
            team.pk: team
            for team in Team.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        source = locked.get(current.team_id) if current.team_id else None
        target = locked[to.pk] if to is not None else None
        if target is not None:
            _check_room(target, current)
        Participant.objects.filter(pk=current.pk).update(team=target)
        if source is not None and target is None:
            _log(source, current, TeamAction.REMOVED, by)
        if source is not None and target is not None:
            _log(source, current, TeamAction.MOVED, by, f"to '{target.name}'")
        if target is not None:
            where = f"from '{source.name}'" if source else "from no team"
            _log(target, current, TeamAction.MOVED, by, where)
    return True


def team_member_remove(*, participant: Participant, by: str) -> bool:
    """The teacher's change: take a participant out of its team (logged)."""
    return team_member_move(participant=participant, to=None, by=by)
