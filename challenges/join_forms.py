"""Forms a student fills in: joining a challenge with its code, and signing up."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User

from challenges.models import Challenge
from challenges.selectors import challenge_joinable


class JoinForm(forms.Form):
    code = forms.CharField(label="Join code", max_length=64)


class SignupForm(UserCreationForm):
    """An account and a place in one challenge (student_signup saves both or neither)."""

    email = forms.EmailField()
    challenge = forms.SlugField(help_text="The challenge's short name, as in its address.")
    code = forms.CharField(label="Join code", max_length=64)

    class Meta:
        model = User
        fields = ("username", "email")

    def clean_challenge(self) -> Challenge:
        slug = self.cleaned_data["challenge"]
        challenge = challenge_joinable(slug)
        if challenge is None:
            raise forms.ValidationError(
                f"No challenge '{slug}' takes sign-ups with a code: "
                "check the name with your teacher."
            )
        return challenge
