"""The challenge page's Team section: create a team, join one with its code, leave
it. Each posts here and goes back to the challenge page with a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from challenges.models import Participant
from challenges.selectors import challenge_for
from foundation.accounts import signed_in_user
from foundation.throttles import JOIN_TRIES, join_code_wait, retry_message
from teams.services import TeamRefused, team_create, team_join, team_leave


def _participant(request: HttpRequest, slug: str) -> Participant:
    challenge = challenge_for(request.user, slug)
    participant = (
        Participant.objects.select_related("challenge", "user")
        .filter(challenge=challenge, user=signed_in_user(request))
        .first()
        if challenge is not None
        else None
    )
    if participant is None:
        raise Http404(f"You are not taking part in '{slug}'.")
    return participant


@login_required
@require_POST
def team_create_view(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        team = team_create(
            participant=_participant(request, slug), name=request.POST.get("name", "")
        )
    except TeamRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"Team '{team.name}' created: give classmates its code, {team.join_code}."
        )
    return redirect("challenge", slug=slug)


@login_required
@require_POST
def team_join_view(request: HttpRequest, slug: str) -> HttpResponse:
    wait = join_code_wait(request)
    if wait:
        messages.error(request, retry_message(JOIN_TRIES, wait))
        return redirect("challenge", slug=slug)
    try:
        team = team_join(participant=_participant(request, slug), code=request.POST.get("code", ""))
    except TeamRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"You joined team '{team.name}'.")
    return redirect("challenge", slug=slug)


@login_required
@require_POST
def team_leave_view(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        team = team_leave(participant=_participant(request, slug))
    except TeamRefused as error:
        messages.error(request, str(error))
    else:
        messages.info(request, f"You left team '{team.name}'.")
    return redirect("challenge", slug=slug)
