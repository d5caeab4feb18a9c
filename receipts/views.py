"""Answering a proof-of-receipt question from the challenge page: the same
service as the API. With htmx the question's fragment comes back in place (the
other boxes keep what was typed); without it, a confirmation step (answers are
final), then back to the page with the verdict as a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from foundation.accounts import signed_in_user
from receipts.forms import AnswerForm
from receipts.models import Question
from receipts.selectors import shown_question
from receipts.services import AnswerRefused, question_answer

ONE_VALUE = "Write the answer as one value of at most 200 characters."


def _from_htmx(request: HttpRequest) -> bool:
    # django-htmx's middleware sets request.htmx (HtmxDetails: true for htmx's requests).
    return bool(getattr(request, "htmx", False))


@login_required
@require_POST
def question_answer_view(request: HttpRequest, question_id: int) -> HttpResponse:
    question = (
        Question.objects.select_related("participant__challenge", "release")
        .filter(id=question_id, participant__user_id=signed_in_user(request).pk)
        .first()
    )
    if question is None:
        raise Http404("No such question of yours.")
    shown, htmx = shown_question(question), _from_htmx(request)
    form = AnswerForm(request.POST)
    error = ""
    if not form.is_valid():
        error = ONE_VALUE
    elif not form.cleaned_data["confirmed"]:
        if htmx:  # the dialog is the confirmation: a request without it is not one
            error = "Confirm the answer first: answers are final."
        else:
            return render(
                request,
                "receipts/answer_confirm.html",
                {"item": shown, "answer": form.cleaned_data["answer"].strip()},
            )
    else:
        try:
            question = question_answer(
                question_id=question_id,
                user_id=signed_in_user(request).pk,
                answer=form.cleaned_data["answer"],
            )
        except AnswerRefused as refused:
            error = str(refused)
            question.refresh_from_db()
        shown = shown_question(question)
    if htmx:
        context = {"item": shown, "error": error, "typed": request.POST.get("answer", "")}
        return render(request, "receipts/question.html", context)
    if error:
        messages.error(request, f"{shown.label}: {error}")
    else:
        messages.info(request, f"{shown.label}: {question.get_verdict_display()}.")
    page = reverse("challenge", kwargs={"slug": question.participant.challenge.slug})
    return redirect(f"{page}#question-{shown.number}")
