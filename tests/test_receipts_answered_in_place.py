"""Proof of receipt on the challenge page: each question answered in place with
htmx after a confirmation naming the value (answers are final), the other boxes
keeping what was typed, the list in one stable order, verdicts coloured, and
questions named as the page numbers them, never by their database id. Without
JavaScript the form still works, through a server-side confirmation step."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import Dialog, Page, expect

from challenges.models import Challenge, Participant
from receipts.models import Question, Verdict
from receipts.services import questions_pose
from tests.browser import PASSWORD, patient_ms
from tests.factories import ChallengeFactory, DestinationFactory
from tests.receipt_answers import answer_from, deliver_release
from tests.release_jobs import read_release
from tests.release_platform import publish_with_releases
from tests.submissions import participants

pytestmark = pytest.mark.django_db(transaction=True)


def _delivered(tmp_path: Path) -> tuple[Challenge, Participant, Path]:
    """A challenge of two questions a release, its first release delivered to two
    students; the second's questions are posed after the first's, so their ids
    are not their numbers on the page."""
    challenge = ChallengeFactory(receipt_questions=2)
    folder = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "share"))
    publish_with_releases(challenge, [folder], releases="2", delay=0)
    _bob, ada = participants(challenge, 2)
    (path,) = deliver_release(challenge, 1)
    return challenge, ada, path


def _right_answer(path: Path, question: Question) -> str:
    fields = {"kind": question.kind, "column": question.column, "row_number": question.row_number}
    return answer_from(read_release(path, "csv"), fields)


def test_answered_in_place_with_a_confirmation(page: Page, tmp_path: Path) -> None:
    challenge, ada, path = _delivered(tmp_path)
    page.goto(f"/accounts/login/?next=/challenges/{challenge.slug}/")
    page.get_by_label("Username").fill(ada.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    rows = page.locator("#questions > li")
    expect(rows).to_have_count(2)
    first, second = Question.objects.filter(participant=ada).order_by("release__sequence", "id")
    assert second.pk != 2, "the ids must differ from the numbers shown for this test to tell"
    order = rows.evaluate_all("items => items.map(item => item.dataset.question)")
    assert order == [str(first.pk), str(second.pk)]
    page.evaluate("window.pageMarker = 'not reloaded'")
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)

    right = _right_answer(path, first)
    page.get_by_label("Answer to question 1").fill(right)
    page.get_by_label("Answer to question 2").fill("not the answer")
    rows.nth(0).get_by_role("button", name="Answer").click()
    verdict = page.locator("#question-1 .verdict")
    expect(verdict).to_have_text("Correct", timeout=patient_ms(60))
    expect(verdict).to_have_class("verdict ok")
    assert dialogs == [f"Answers are final: send {right}?"]
    expect(page.get_by_label("Answer to question 2")).to_have_value("not the answer")
    assert page.evaluate("window.pageMarker") == "not reloaded"
    assert rows.evaluate_all("items => items.map(item => item.dataset.question)") == order

    rows.nth(1).get_by_role("button", name="Answer").click()
    wrong = page.locator("#question-2")
    expect(wrong.locator(".verdict")).to_have_text("Incorrect", timeout=patient_ms(60))
    expect(wrong.locator(".verdict")).to_have_class("verdict bad")
    expect(wrong).to_contain_text("Question 2 of 2")
    expect(wrong).not_to_contain_text(f"Question {second.pk}")
    assert dialogs[1] == "Answers are final: send not the answer?"
    assert page.evaluate("window.pageMarker") == "not reloaded"
    assert rows.evaluate_all("items => items.map(item => item.dataset.question)") == order
    assert [q.verdict for q in Question.objects.filter(id__in=[first.pk, second.pk])] == [
        Verdict.CORRECT,
        Verdict.INCORRECT,
    ]


def test_without_javascript_a_confirmation_step_then_the_verdict(tmp_path: Path) -> None:
    challenge, ada, _path = _delivered(tmp_path)
    questions_pose(challenge=challenge)
    client = Client()
    client.force_login(ada.user)
    first, second = Question.objects.filter(participant=ada).order_by("release__sequence", "id")
    url = f"/questions/{second.pk}/answer/"

    asked = client.post(url, {"answer": " -7 "})
    assert asked.status_code == 200
    assert "Question 2 of 2: confirm your answer" in asked.text
    assert "Answers are final: send <code>-7</code>?" in asked.text
    second.refresh_from_db()
    assert second.verdict == Verdict.OPEN
    assert not second.answer

    sent = client.post(url, {"answer": "-7", "confirmed": "true"}, follow=True)
    assert sent.redirect_chain == [(f"/challenges/{challenge.slug}/#question-2", 302)]
    assert "Question 2 of 2: Incorrect." in sent.text
    assert f"Question {second.pk}" not in sent.text
    assert 'class="verdict bad"' in sent.text
    shown = [line.strip() for line in sent.text.splitlines() if "data-question=" in line]
    assert [line.split('"')[3] for line in shown] == [str(first.pk), str(second.pk)]

    again = client.post(url, {"answer": "8", "confirmed": "true"}, follow=True)
    assert "Question 2 of 2: You answered this question already" in again.text


def test_an_htmx_answer_returns_only_its_question(tmp_path: Path) -> None:
    challenge, ada, path = _delivered(tmp_path)
    questions_pose(challenge=challenge)
    client = Client()
    client.force_login(ada.user)
    first = Question.objects.filter(participant=ada).order_by("release__sequence", "id")[0]
    url = f"/questions/{first.pk}/answer/"

    unconfirmed = client.post(url, {"answer": "1"}, HTTP_HX_REQUEST="true")
    assert "Confirm the answer first" in unconfirmed.text
    assert 'value="1"' in unconfirmed.text  # what was typed stays in the box
    first.refresh_from_db()
    assert first.verdict == Verdict.OPEN

    answer = _right_answer(path, first)
    fragment = client.post(url, {"answer": answer, "confirmed": "true"}, HTTP_HX_REQUEST="true")
    assert fragment.text.lstrip().startswith('<li id="question-1"')
    assert "<html" not in fragment.text
    assert "Question 1 of 2" in fragment.text
    assert 'class="verdict ok"' in fragment.text
