"""Pages around challenges: the list a student lands on, and sign-up with a join code."""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from challenges.join_forms import SignupForm
from challenges.selectors import challenges_visible_to
from challenges.services import JoinRefused, student_signup
from foundation.throttles import join_code_refused


def home(request: HttpRequest) -> HttpResponse:
    challenges = challenges_visible_to(request.user).order_by("-opens_at")
    return render(request, "home.html", {"challenges": challenges})


def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(
        request.POST or None,
        initial={"challenge": request.GET.get("challenge", "")},
        request=request if request.method == "POST" else None,
    )
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
