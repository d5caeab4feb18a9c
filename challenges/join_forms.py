"""Forms a student fills in: joining a challenge with its code, and signing up."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.http import HttpRequest

from challenges.models import Challenge
from challenges.selectors import challenge_joinable
from foundation.throttles import JOIN_TRIES, join_code_wait, retry_message


def _check_join_tries(request: HttpRequest | None, *, count: bool) -> None:
    """Refuse the code, right or not, once the caller tried too many (the API's
    tries included); count this one if told to."""
    if request is None:
        return
    wait = join_code_wait(request, count=count)
    if wait:
        raise forms.ValidationError(retry_message(JOIN_TRIES, wait), code="throttled")


class JoinForm(forms.Form):
    code = forms.CharField(label="Join code", max_length=64)

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._request = request

    def clean_code(self) -> str:
        _check_join_tries(self._request, count=True)
        return str(self.cleaned_data["code"])


class SignupForm(UserCreationForm):
    """An account and a place in one challenge (student_signup saves both or neither)."""

    email = forms.EmailField()
    challenge = forms.SlugField(help_text="The challenge's short name, as in its address.")
    code = forms.CharField(label="Join code", max_length=64)

    class Meta:
        model = User
        fields = ("username", "email")

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._request = request

    def clean_code(self) -> str:
        # Signing up is the other way to try a challenge's code: per address, and
        # only a wrong code counts (the view counts it), for a class behind one NAT.
        _check_join_tries(self._request, count=False)
        return str(self.cleaned_data["code"])

    def clean_challenge(self) -> Challenge:
        slug = self.cleaned_data["challenge"]
        challenge = challenge_joinable(slug)
        if challenge is None:
            raise forms.ValidationError(
                f"No challenge '{slug}' takes sign-ups with a code: "
                "check the name with your teacher."
            )
        return challenge
