"""Forms a student fills in: joining a challenge with its code, and signing up."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.http import HttpRequest

from challenges.selectors import challenge_with_code
from foundation.throttles import JOIN_TRIES, join_code_refused, join_code_wait, retry_message

NO_OPEN_CHALLENGE = (
    "No open challenge has this code; check it with your teacher (capitals do not matter)."
)


def _check_join_tries(request: HttpRequest | None, *, count: bool) -> None:
    """Refuse the code, right or not, once the caller tried too many (the API's
    tries included); count this one if told to."""
    if request is None:
        return
    wait = join_code_wait(request, count=count)
    if wait:
        raise forms.ValidationError(retry_message(JOIN_TRIES, wait), code="throttled")


class JoinForm(forms.Form):
    code = forms.CharField(
        label="Join code", max_length=64, help_text="From your teacher; capitals do not matter."
    )

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._request = request

    def clean_code(self) -> str:
        _check_join_tries(self._request, count=True)
        return str(self.cleaned_data["code"])


class SignupForm(UserCreationForm):
    """An account and a place in the challenge whose code this is (student_signup
    saves both or neither). The code alone names the challenge: codes are unique
    without case."""

    code = forms.CharField(
        label="Join code",
        max_length=64,
        help_text="From your teacher: it names the challenge. Capitals do not matter.",
    )
    email = forms.EmailField()

    field_order = ["code", "username", "email", "password1", "password2"]

    class Meta:
        model = User
        fields = ("username", "email")

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._request = request
        # The code comes first on the page, so the cursor starts there (not in the username).
        self.fields["username"].widget.attrs.pop("autofocus", None)
        self.fields["code"].widget.attrs["autofocus"] = True

    def clean_code(self) -> str:
        # Signing up is the other way to try a code: per address, and only a wrong
        # code counts, for a class behind one NAT signing up in the same hour.
        _check_join_tries(self._request, count=False)
        code = str(self.cleaned_data["code"])
        challenge = challenge_with_code(code)
        if challenge is None:
            if self._request is not None:
                join_code_refused(self._request)
            raise forms.ValidationError(NO_OPEN_CHALLENGE)
        self.cleaned_data["challenge"] = challenge
        return code
