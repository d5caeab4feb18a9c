"""Answering a proof-of-receipt question from the challenge page: the same
service as the API, then back to the page with the verdict."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from foundation.accounts import signed_in_user
from receipts.forms import AnswerForm
from receipts.models import Question
from receipts.services import AnswerRefused, question_answer


@login_required
@require_POST
def question_answer_view(request: HttpRequest, question_id: int) -> HttpResponse:
    question = (
        Question.objects.select_related("participant__challenge")
        .filter(id=question_id, participant__user_id=signed_in_user(request).pk)
        .first()
    )
    if question is None:
        raise Http404("No such question of yours.")
    slug = question.participant.challenge.slug
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Question {question_id}: write the answer as one value.")
        return redirect("challenge", slug=slug)
    try:
        answered = question_answer(
            question_id=question_id,
            user_id=signed_in_user(request).pk,
            answer=form.cleaned_data["answer"],
        )
    except AnswerRefused as error:
        messages.error(request, f"Question {question_id}: {error}")
    else:
        messages.info(request, f"Question {question_id}: {answered.get_verdict_display()}.")
    return redirect("challenge", slug=slug)
