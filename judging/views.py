"""Students' pages: a challenge (join, submit, my submissions), a submission, the
leaderboard. Thin: selectors read, services write, templates show."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from challenges.models import Challenge
from challenges.selectors import challenge_for, challenge_joinable
from judging.leaderboard import (
    ENDPOINT_COLUMNS,
    SORTABLE,
    Leaderboard,
    leaderboard_cache,
    leaderboard_cached,
    leaderboard_points,
    valid_order,
)
from judging.leaderboard_chart import score_cost_chart, score_history_chart
from judging.models import WAITING_STATES
from judging.picks import submission_select, submission_unselect
from judging.selectors import (
    private_scores_visible,
    submission_code,
    submission_readable_by,
    submissions_of,
)
from judging.services import submission_cancel
from judging.step_chart import step_chart
from judging.tasks import revoke_judge_task
from worker_wing.pipeline.code_check import SubmissionRejected


def _challenge(request: HttpRequest, slug: str, *, or_joinable: bool = False) -> Challenge:
    challenge = challenge_for(request.user, slug, or_joinable=or_joinable)
    if challenge is None:
        raise Http404(f"No challenge '{slug}' that you can see.")
    return challenge


def my_submissions_context(request: HttpRequest, challenge: Challenge) -> dict[str, object]:
    own = submissions_of(request.user).filter(challenge=challenge)
    mine = list(own[:100])
    return {
        "challenge": challenge,
        "submissions": mine,
        "pending": any(row.state in WAITING_STATES for row in mine),
        # Counted apart: a pick may be older than the hundred submissions shown.
        "picks": own.filter(selected=True).count(),
    }


@login_required
def my_submissions_fragment(request: HttpRequest, slug: str) -> HttpResponse:
    """The "my submissions" table alone: the challenge page refreshes it while work is pending."""
    challenge = _challenge(request, slug)
    return render(
        request, "judging/my_submissions.html", my_submissions_context(request, challenge)
    )


@login_required
def submission_page(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = submission_readable_by(request.user, submission_id)
    if submission is None:
        raise Http404("No such submission of yours.")
    configurations = list(submission.configurations.all())
    chosen = next((row for row in configurations if row.chosen), None)
    context = {
        "submission": submission,
        "code": submission_code(submission),
        "show_private": private_scores_visible(submission),
        "mine": submission.participant.user_id == request.user.pk,
        "configurations": configurations,
        "chosen": chosen,
        "step_chart": step_chart(
            list(chosen.steps.all()) if chosen else [],
            submission.challenge.judging_rules.step_latency_sla_ms,
        ),
    }
    return render(request, "judging/submission.html", context)


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


HEADERS = {
    "rank": "Rank",
    "participant": "Participant",
    "public_score": "Public score",
    "private_score": "Private score",
    "cv_mean": "CV mean ± std",
    "cpu_seconds": "CPU s",
    "peak_memory_mb": "Peak MB",
    "fit_seconds": "Train s",
    "contributivity": "Contributivity %",
    "submissions": "Submissions",
    "last_submission_at": "Last submission",
    "endpoint_uptime": "Uptime",
    "endpoint_p95_ms": "p95 ms",
    "endpoint_sla": "SLA met",
    "endpoint_score": "Live score",
    "endpoint_releases_behind": "Releases behind",
    "receipt_score": "Receipt",
}


def _headers(order: str, board: Leaderboard) -> list[dict[str, str]]:
    """Column headers as sort links: a click sorts by the column, a second reverses."""
    headers = []
    for column in SORTABLE:
        if column == "private_score" and not board.final:
            continue
        if column in ENDPOINT_COLUMNS and not board.has_endpoints:
            continue
        if column == "receipt_score" and not board.has_receipts:
            continue
        arrow = " ▲" if order == column else " ▼" if order == f"-{column}" else ""
        headers.append(
            {
                "column": column,
                "label": HEADERS[column],
                "next_order": f"-{column}" if order == column else column,
                "arrow": arrow,
            }
        )
    return headers


@login_required
def leaderboard_page(request: HttpRequest, slug: str) -> HttpResponse:
    if challenge_for(request.user, slug) is None and challenge_joinable(slug) is not None:
        # A shared link reached a student not in the challenge yet: its page has the join form.
        messages.info(request, "Join this challenge with its code to see its leaderboard.")
        return redirect("challenge", slug=slug)
    challenge = _challenge(request, slug)
    order = valid_order(request.GET.get("order", "rank"))
    board = leaderboard_cached(challenge, order=order)
    # The same for every reader: the rendered table and charts are cached too.
    key = f"ppipe:leaderboard-html:{challenge.pk}:{board.final}"
    table = leaderboard_cache(
        f"{key}:{order}",
        lambda: render_to_string(
            "judging/leaderboard_table.html",
            {"board": board, "headers": _headers(order, board)},
        ),
    )
    charts = leaderboard_cache(
        f"{key}:charts",
        lambda: (
            score_cost_chart(board.rows, board.score_field),
            score_history_chart(leaderboard_points(challenge)),
        ),
    )
    context = {"challenge": challenge, "board": board, "table": table, "charts": charts}
    return render(request, "judging/leaderboard.html", context)
