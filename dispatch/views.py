"""A student's data section on the challenge page: the fragment the page polls while
a release is on its way, and the download of a delivered release."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from challenges.models import Participant
from challenges.selectors import challenge_for
from dispatch.student_data import (
    ReleaseFile,
    ReleaseNotRebuilt,
    data_section,
    delivered_release_file,
)
from foundation.accounts import signed_in_user
from foundation.throttles import DOWNLOADS, page_throttle


def _participant(request: HttpRequest, slug: str) -> Participant:
    challenge = challenge_for(request.user, slug)
    participant = (
        Participant.objects.filter(challenge=challenge, user=signed_in_user(request))
        .select_related("challenge__release_plan", "user")
        .first()
        if challenge is not None
        else None
    )
    if participant is None:
        raise Http404(f"You are not taking part in a challenge '{slug}'.")
    return participant


@login_required
def data_section_fragment(request: HttpRequest, slug: str) -> HttpResponse:
    participant = _participant(request, slug)
    context = {"challenge": participant.challenge, "data_section": data_section(participant)}
    return render(request, "dispatch/data_section.html", context)


def release_file_response(file: ReleaseFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.name}"'
    # The sha256 shown on the page: a script can check the download against it.
    response["ETag"] = f'"{file.sha256}"'
    return response


@login_required
@page_throttle(DOWNLOADS)
def release_download_view(request: HttpRequest, slug: str, sequence: int) -> HttpResponse:
    participant = _participant(request, slug)
    try:
        file = delivered_release_file(participant, sequence)
    except ReleaseNotRebuilt as error:
        return HttpResponse(str(error), status=410, content_type="text/plain")
    if file is None:
        raise Http404(f"No release {sequence} of yours to download.")
    return release_file_response(file)
