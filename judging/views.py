"""Students' pages: a challenge (join, submit, my submissions), a submission, the
leaderboard. Thin: selectors read, services write, templates show."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from challenges.models import Challenge, Participant
from challenges.selectors import challenge_for, challenge_joinable
from foundation.accounts import signed_in_user
from foundation.live_fragments import fragment_login_required, fragment_version, live_fragment
from judging.leaderboard import (
    valid_order,
)
from judging.leaderboard_page import board_context, with_table_and_charts
from judging.models import REPRODUCTION_WAITING, WAITING_STATES, Submission
from judging.picks import submission_select, submission_unselect
from judging.selectors import (
    private_scores_visible,
    submission_code,
    submission_readable_by,
    submission_reproductions,
    submissions_of,
)
from judging.services import submission_cancel, submission_fork
from judging.sharing import (
    FORK_CREDIT_SHARE,
    author_of,
    challenge_forks,
    code_shared,
    code_sharing_at,
    credits_by_parent,
    fork_credit,
    shared_submissions,
    submission_open_to,
    submission_shared_with,
)
from judging.step_charts import step_charts
from judging.sweep_charts import configuration_cost, configuration_title, sweep_charts
from judging.tasks import revoke_judge_task
from worker_wing.pipeline.code_check import SubmissionRejected


def _challenge(request: HttpRequest, slug: str, *, or_joinable: bool = False) -> Challenge:
    challenge = challenge_for(request.user, slug, or_joinable=or_joinable)
    if challenge is None:
        raise Http404(f"No challenge '{slug}' that you can see.")
    return challenge


def my_submissions_context(request: HttpRequest, challenge: Challenge) -> dict[str, object]:
    """The reader's submissions to the challenge; polled while one is waiting or running."""
    own = submissions_of(request.user).filter(challenge=challenge)
    mine = list(own[:100])
    # Counted apart: a pick may be older than the hundred submissions shown.
    picks = own.filter(selected=True).count()
    pending = any(row.state in WAITING_STATES for row in mine)
    return {
        "challenge": challenge,
        "submissions": mine,
        "pending": pending,
        "picks": picks,
        "live": pending,
        "version": fragment_version(
            picks,
            [(row.pk, row.state, row.selected, row.promoted, row.public_score) for row in mine],
        ),
    }


@fragment_login_required
def my_submissions_fragment(request: HttpRequest, slug: str) -> HttpResponse:
    """The "my submissions" table alone: the challenge page polls it while work is pending."""
    context = my_submissions_context(request, _challenge(request, slug))
    return live_fragment(
        request,
        "judging/my_submissions.html",
        lambda: context,
        version=str(context["version"]),
        live=bool(context["live"]),
    )


def _readable_submission(request: HttpRequest, submission_id: int) -> Submission:
    submission = submission_readable_by(request.user, submission_id)
    if submission is None:
        raise Http404("No such submission of yours.")
    return submission


def _submission_state(submission: Submission) -> dict[str, object]:
    """What the polled part of a submission's page shows that can still move, and
    whether it can: while the run or one of its reproductions is under way."""
    reproductions = submission_reproductions(submission)
    live = submission.state in WAITING_STATES or any(
        row.state in REPRODUCTION_WAITING for row in reproductions
    )
    version = fragment_version(
        submission.state,
        submission.attempts,
        submission.reason,
        submission.finished_at,
        len(submission.events.all()),
        [(row.pk, row.state, row.finished_at) for row in reproductions],
    )
    return {
        "submission": submission,
        "reproductions": reproductions,
        "live": live,
        "version": version,
    }


def _submission_details(submission: Submission) -> dict[str, object]:
    configurations = list(submission.configurations.all())
    chosen = next((row for row in configurations if row.chosen), None)
    rules = submission.challenge.judging_rules
    charts, least_cost = sweep_charts(configurations, rules.pipeline_latency_sla_ms)
    return {
        "show_private": private_scores_visible(submission),
        "configurations": configurations,
        "sweep_rows": [
            (row, configuration_title(row), configuration_cost(row)) for row in configurations
        ],
        "sweep_charts": charts,
        "least_cost": least_cost,
        "least_cost_title": configuration_title(least_cost) if least_cost else "",
        "chosen": chosen,
        "step_charts": step_charts(
            list(chosen.steps.all()) if chosen else [],
            submission.challenge.judging_rules.step_latency_sla_ms,
        ),
    }


def _lineage(submission: Submission) -> dict[str, object]:
    """Who the submission was built on, and what it credits them."""
    parent = submission.parent
    return {
        "parent": parent,
        "parent_author": author_of(parent) if parent is not None else "",
        "credit_to_parent": fork_credit(submission),
        "credit_share": round(FORK_CREDIT_SHARE * 100),
    }


@login_required
def submission_page(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = submission_readable_by(request.user, submission_id)
    if submission is None:
        return _shared_submission_page(request, submission_id)
    context = {
        **_submission_state(submission),
        **_submission_details(submission),
        **_lineage(submission),
        "code": submission_code(submission),
        "mine": submission.participant.user_id == request.user.pk,
    }
    return render(request, "judging/submission.html", context)


def _shared_submission_page(request: HttpRequest, submission_id: int) -> HttpResponse:
    """Another participant's scored submission, from its challenge's code sharing
    date: its code, scores and costs (not its logs or timeline), and a button to
    build on it; before the date, as for anything not one's own, a 404."""
    submission = submission_shared_with(request.user, submission_id)
    if submission is None:
        raise Http404("No such submission of yours.")
    context = {
        **_lineage(submission),
        "submission": submission,
        "author": author_of(submission),
        "show_private": private_scores_visible(submission),
        "code": submission_code(submission),
        "can_build": submission.challenge.status == "open",
    }
    return render(request, "judging/shared_submission.html", context)


@login_required
@require_POST
def submission_fork_view(request: HttpRequest, submission_id: int) -> HttpResponse:
    """Build on a shared submission: judge its code again as the reader's (its
    challenge's upload rules apply), then show their challenge page."""
    found = submission_open_to(request.user, submission_id)
    if found is None:
        raise Http404("No such submission that you can build on.")
    parent = found[0]
    participant = Participant.objects.filter(
        challenge=parent.challenge, user=signed_in_user(request)
    ).first()
    if participant is None:
        raise Http404("You are not taking part in this challenge.")
    try:
        fork = submission_fork(participant=participant, parent=parent)
    except SubmissionRejected as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"Submission #{fork.pk} built on #{parent.pk} received: judging soon."
        )
    return redirect("challenge", slug=parent.challenge.slug)


# The shared page's rows, best first (every submission stays readable by its id).
SHARED_ROWS = 1000


@login_required
def shared_code_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The challenge's scored submissions with their code, from its code sharing date
    (before it: when it comes), for its participants and its teacher."""
    challenge = _challenge(request, slug)
    at = code_sharing_at(challenge)
    if at is None:
        raise Http404(f"'{challenge.name}' does not share its submissions' code.")
    shared = code_shared(challenge)
    rows = list(shared_submissions(challenge)[:SHARED_ROWS]) if shared else []
    # Counted only when the page is full: a term's thousands of runs show their best.
    total = shared_submissions(challenge).count() if len(rows) == SHARED_ROWS else len(rows)
    credits = credits_by_parent(challenge_forks(challenge)) if shared else {}
    participant = Participant.objects.filter(
        challenge=challenge, user=signed_in_user(request)
    ).first()
    context = {
        "challenge": challenge,
        "sharing_at": at,
        "shared": shared,
        "rows": [
            {
                "submission": row,
                "author": author_of(row),
                "parent_author": author_of(row.parent) if row.parent is not None else "",
                "credit": credits.get(row.pk),
            }
            for row in rows
        ],
        "total": total,
        "final": timezone.now() >= challenge.closes_at,
        "can_build": participant is not None and challenge.status == "open",
        "credit_share": round(FORK_CREDIT_SHARE * 100),
    }
    return render(request, "judging/shared.html", context)


@fragment_login_required
def submission_fragment(request: HttpRequest, submission_id: int) -> HttpResponse:
    """A submission's state, scores, timeline and reproductions, polled by its page
    while any of them can change."""
    submission = _readable_submission(request, submission_id)
    state = _submission_state(submission)
    return live_fragment(
        request,
        "judging/submission_live.html",
        lambda: {**state, **_submission_details(submission)},
        version=str(state["version"]),
        live=bool(state["live"]),
    )


@login_required
@require_POST
def submission_cancel_view(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = submission_readable_by(request.user, submission_id)
    if submission is None:
        raise Http404("No such submission of yours.")
    by = "its author" if submission.participant.user_id == request.user.pk else "the teacher"
    if submission_cancel(submission=submission, revoke=revoke_judge_task, by=by):
        messages.info(request, f"Submission #{submission.pk} cancelled.")
    else:
        messages.warning(request, f"Submission #{submission.pk} had already ended.")
    return redirect("challenge", slug=submission.challenge.slug)


@login_required
@require_POST
def submission_select_view(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = submissions_of(request.user).filter(pk=submission_id).first()
    if submission is None:
        raise Http404("No such submission of yours.")
    try:
        submission_select(submission=submission)
    except SubmissionRejected as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Submission #{submission.pk} is selected for the final ranking.")
    return redirect("challenge", slug=submission.challenge.slug)


@login_required
@require_POST
def submission_unselect_view(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = submissions_of(request.user).filter(pk=submission_id).first()
    if submission is None:
        raise Http404("No such submission of yours.")
    try:
        submission_unselect(submission=submission)
    except SubmissionRejected as error:
        messages.error(request, str(error))
    else:
        messages.info(request, f"Submission #{submission.pk} is no longer selected.")
    return redirect("challenge", slug=submission.challenge.slug)


def _order(request: HttpRequest) -> str:
    return valid_order(request.GET.get("order", "rank"))


@login_required
def leaderboard_page(request: HttpRequest, slug: str) -> HttpResponse:
    if challenge_for(request.user, slug) is None and challenge_joinable(slug) is not None:
        # A shared link reached a student not in the challenge yet: its page has the join form.
        messages.info(request, "Join this challenge with its code to see its leaderboard.")
        return redirect("challenge", slug=slug)
    context = board_context(_challenge(request, slug), request.user, _order(request))
    return render(request, "judging/leaderboard.html", with_table_and_charts(context))


@fragment_login_required
def leaderboard_fragment(request: HttpRequest, slug: str) -> HttpResponse:
    """The leaderboard's table and charts alone, polled by its page while the challenge is open."""
    context = board_context(_challenge(request, slug), request.user, _order(request))
    return live_fragment(
        request,
        "judging/leaderboard_live.html",
        lambda: with_table_and_charts(context),
        version=str(context["version"]),
        live=bool(context["live"]),
    )
