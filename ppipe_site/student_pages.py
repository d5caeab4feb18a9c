"""The student's challenge page: the site composes it from the apps' sections
(joining, submissions and the picks, the endpoint, proof-of-receipt questions, the
team), each app keeping its own forms, services and fragments."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from challenges.join_forms import JoinForm
from challenges.joining import join_with_form
from challenges.models import Participant
from challenges.selectors import challenge_for
from dispatch.student_data import data_section
from foundation.accounts import signed_in_user
from judging.forms import SubmissionForm
from judging.models import Submission
from judging.services import submission_upload
from judging.sharing import submission_open_to
from judging.views import my_submissions_context
from probing.forms import EndpointForm
from probing.models import Endpoint
from receipts.selectors import ShownQuestion, shown_questions
from receipts.services import questions_pose
from teams.selectors import team_of
from worker_wing.pipeline.code_check import SubmissionRejected


@login_required
def challenge_page(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = challenge_for(request.user, slug, or_joinable=True)
    if challenge is None:
        raise Http404(f"No challenge '{slug}' that you can see.")
    participant = Participant.objects.filter(
        challenge=challenge, user=signed_in_user(request)
    ).first()
    join_form = JoinForm()
    rules = challenge.judging_rules
    form_options = {
        # "Build on this", edited first: the shared page links here with the parent filled in.
        "sharing": rules.code_sharing_at is not None,
        "offered_cores": rules.sweep_cores,
        "offered_batch_sizes": rules.sweep_batch_sizes,
    }
    submit_form = SubmissionForm(
        initial={"parent": request.GET.get("parent", "")[:12]}, **form_options
    )
    if request.method == "POST" and participant is None:
        join_form = JoinForm(request.POST, request=request)
        if join_form.is_valid() and join_with_form(join_form, challenge, signed_in_user(request)):
            return redirect("challenge", slug=slug)
    elif request.method == "POST" and participant is not None:
        submit_form = SubmissionForm(request.POST, request.FILES, **form_options)
        parent = _parent(request, submit_form)
        if submit_form.is_valid():
            try:
                submission = submission_upload(
                    participant=participant,
                    upload=submit_form.cleaned_data["file"],
                    configuration=submit_form.cleaned_data["configuration"],
                    sweep=submit_form.cleaned_data["sweep"],
                    parent=parent,
                    sweep_cores=submit_form.cleaned_data.get("sweep_cores") or "",
                    sweep_batch_sizes=submit_form.cleaned_data.get("sweep_batch_sizes") or "",
                )
            except SubmissionRejected as error:
                submit_form.add_error(
                    error.field if error.field in submit_form.fields else "file", str(error)
                )
            else:
                messages.success(request, f"Submission #{submission.pk} received: judging soon.")
                return redirect("challenge", slug=slug)
    context = {
        **my_submissions_context(request, challenge),
        **(_live_context(participant) if participant is not None else {}),
        "participant": participant,
        "join_form": join_form,
        "submit_form": submit_form,
    }
    return render(request, "challenge.html", context)


def _parent(request: HttpRequest, form: SubmissionForm) -> Submission | None:
    """The submission an upload says it was built on: one the student may read (their
    own, or shared with them), else an error on the field."""
    if not form.is_valid() or not form.cleaned_data.get("parent"):
        return None
    parent_id = form.cleaned_data["parent"]
    found = submission_open_to(request.user, parent_id)
    if found is None:
        form.add_error("parent", f"No submission {parent_id} that you can build on.")
        return None
    return found[0]


def _live_context(participant: Participant) -> dict[str, object]:
    """The challenge page's other sections: the student's endpoint and their
    proof-of-receipt questions (posed now if due, rather than at beat's next tick)."""
    endpoint = Endpoint.objects.filter(participant=participant).first()
    initial = {"protocol": "json"}
    if endpoint is not None:
        initial = {
            "url": endpoint.url,
            "protocol": endpoint.protocol,
            "model_name": endpoint.model_name,
        }
    questions: list[ShownQuestion] = []
    if participant.challenge.receipt_rules.receipt_questions:
        questions_pose(challenge=participant.challenge)
        questions = shown_questions(participant)
    endpoint_form = EndpointForm(initial=initial)
    if endpoint is None or not endpoint.auth_header:
        del endpoint_form.fields["remove_auth_header"]  # nothing to remove
    return {
        "endpoint": endpoint,
        "endpoint_form": endpoint_form,
        "questions": questions,
        "team": team_of(participant),
        "data_section": data_section(participant),
    }
