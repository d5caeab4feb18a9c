"""Pages around challenges: the list a student lands on, sign-up with a join code,
and joining another challenge with its code once signed up."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from challenges.join_forms import NO_OPEN_CHALLENGE, JoinForm, SignupForm
from challenges.joining import join_with_form
from challenges.selectors import challenge_with_code, challenges_joinable_by, challenges_visible_to
from challenges.services import JoinRefused, student_signup
from foundation.accounts import signed_in_user
from foundation.throttles import join_code_refused


def home(request: HttpRequest) -> HttpResponse:
    context = {
        "challenges": challenges_visible_to(request.user).order_by("-opens_at"),
        "joinable": challenges_joinable_by(request.user).order_by("closes_at", "name"),
        "join_form": JoinForm(),
    }
    return render(request, "home.html", context)


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        # One account joins any number of challenges: no second account.
        return render(request, "join.html", {"form": JoinForm(), "already_signed_up": True})
    form = SignupForm(request.POST or None, request=request if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user, participant = student_signup(form=form)
        except JoinRefused as error:
            join_code_refused(request)
            form.add_error("code", str(error))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("challenge", slug=participant.challenge.slug)
    return render(request, "registration/signup.html", {"form": form})


@login_required
def join_with_code(request: HttpRequest) -> HttpResponse:
    """A signed-in student joins whichever open challenge has the code they type."""
    form = JoinForm(request.POST or None, request=request if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        challenge = challenge_with_code(form.cleaned_data["code"])
        if challenge is None:
            form.add_error("code", NO_OPEN_CHALLENGE)
        elif join_with_form(form, challenge, signed_in_user(request)):
            messages.success(request, f"You take part in '{challenge.name}'.")
            return redirect("challenge", slug=challenge.slug)
    return render(request, "join.html", {"form": form})
