"""Joining a challenge from a page's join form (the challenge page's, the home
page's code box): the service's refusal becomes the form's error on the code."""

from __future__ import annotations

from django.contrib.auth.models import User

from challenges.join_forms import JoinForm
from challenges.models import Challenge
from challenges.services import JoinRefused, participant_join


def join_with_form(form: JoinForm, challenge: Challenge, user: User) -> bool:
    """Join `challenge` with the valid form's code; False, with the reason on the
    form's code field, when the service refuses."""
    try:
        participant_join(challenge=challenge, user=user, code=form.cleaned_data["code"])
    except JoinRefused as error:
        form.add_error("code", str(error))
        return False
    return True
