"""Every student page fits the screen, a 390 px phone as well as a 1366 px laptop:
no page is wider than the window (wide tables scroll in their own box, program
output in its own, long names break), with the content a class really produces:
several submissions, one failed with a long stderr, an endpoint with probes, a
participant with a very long name, the leaderboard's widest columns, a release
delivered to a bucket with a long address."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from challenges.models import Challenge, Participant
from dispatch.models import Release, Transaction, TransactionState
from judging.models import FoldResult, Submission, SubmissionEvent, SubmissionState
from judging.services import submission_create
from probing.models import Endpoint, Probe, ProbeState
from tests.browser import patient_ms, signed_in_context
from tests.factories import DestinationFactory, ParticipantFactory, StudentFactory
from tests.submissions import LOGISTIC_REGRESSION, participants, published_challenge

pytestmark = pytest.mark.django_db(transaction=True)

LONG_NAME = "maria_del_carmen_fernandez_de_la_cueva_y_alvarez_de_toledo_2026"
# A traceback as sandboxes print them: deep paths and long lines with no space to break at.
LONG_STDERR = (
    "Traceback (most recent call last):\n"
    + "".join(
        f'  File "/job/work/site-packages/{"deeply/" * 20}module_{n}.py", line {n}, in fit\n'
        f"    {'x' * 300}\n"
        for n in range(12)
    )
    + "ValueError: "
    + "y" * 400
)
LONG_CODE = LOGISTIC_REGRESSION + b"# " + b"a_very_long_comment_without_spaces_" * 12 + b"\n"

WIDTHS = (390, 1366)
PAGES = ("challenge", "leaderboard", "submission", "endpoint")


@dataclass(frozen=True)
class ClassContent:
    student: Participant
    urls: dict[str, str]


def _submission(participant: Participant, state: str, **fields: object) -> Submission:
    submission = submission_create(
        participant=participant, filename="estimator.py", content=LONG_CODE, wake_feeder=False
    )
    Submission.objects.filter(pk=submission.pk).update(state=state, **fields)
    SubmissionEvent.objects.create(
        submission=submission, state=state, attempt=1, message=f"{state} on judge-1"
    )
    return submission


def _scored(participant: Participant, score: float) -> Submission:
    submission = _submission(
        participant,
        SubmissionState.SCORED,
        public_score=score,
        cv_mean=score - 0.01,
        cv_std=0.02,
        cpu_seconds=1.5,
        peak_memory_mb=160,
        fit_seconds=0.8,
        attempts=1,
        worker="judge-worker-with-a-long-host-name.example.org",
        provenance={
            "code_sha256": "a" * 64,
            "train_sha256": "b" * 64,
            "config_sha256": "c" * 64,
            "packages_sha256": "d" * 64,
            "cv_seed": 7,
            "python": "3.11.2",
            "sandbox": "bubblewrap",
            "installed": [f"package-{n}==1.{n}" for n in range(40)],
        },
    )
    for index in range(5):
        FoldResult.objects.create(
            submission=submission,
            index=index,
            score=score,
            fit_seconds=0.1,
            predict_seconds=0.01,
            cpu_seconds=0.3,
            peak_memory_mb=150,
        )
    return submission


def _delivered_release(challenge: Challenge) -> None:
    """A release delivered to a bucket with a long address: the data section shows
    the address, an rclone line and the file's 64-character digest."""
    bucket = DestinationFactory(
        owner=challenge.owner,
        type="s3",
        name="class-bucket",
        path="a-bucket-with-a-long-name/" + "nested-prefix/" * 4,
        options={"provider": "Minio", "endpoint": "https://storage." + "long-host-" * 5 + ".org"},
    )
    plan = challenge.release_plan
    plan.release_downloads = True
    plan.save()
    plan.destinations.set([bucket])
    now = timezone.now()
    release, _ = Release.objects.get_or_create(
        challenge=challenge, sequence=1, defaults={"due_at": now, "row_start": 0, "row_stop": 40}
    )
    Transaction.objects.create(
        release=release,
        destination=bucket,
        state=TransactionState.DONE,
        next_attempt_at=now,
        finished_at=now,
        job={"rows": {"start": 0, "stop": 40}},
        remote_path=f"{bucket.path}{challenge.slug}/release-001.csv",
        bytes=4096,
        sha256="e" * 64,
    )


def _endpoint(participant: Participant) -> Endpoint:
    endpoint = Endpoint.objects.create(
        challenge=participant.challenge,
        participant=participant,
        url="http://127.0.0.1:9/" + "a-long-path-segment/" * 8 + "invocations",
        protocol="mlflow",
    )
    now = timezone.now()
    for minutes in range(12):
        failed = minutes % 4 == 0
        Probe.objects.create(
            endpoint=endpoint,
            scheduled_at=now - timedelta(minutes=minutes + 1),
            state=ProbeState.DONE,
            outcome="timeout" if failed else "ok",
            detail=("no answer within 5 s from " + "x" * 200) if failed else "",
            http_status=None if failed else 200,
            total_ms=None if failed else 40.0 + minutes,
            score=None if failed else 0.9,
            sla_met=not failed,
            data_version="" if failed else "release-1-trained-on-the-full-history",
        )
    return endpoint


@pytest.fixture
def content() -> ClassContent:
    """One class's content for every page of the module."""
    challenge = published_challenge()
    _delivered_release(challenge)
    student = ParticipantFactory(challenge=challenge, user=StudentFactory(username=LONG_NAME))
    for rank, other in enumerate(participants(challenge, 3)):
        _scored(other, 0.8 + rank / 100)
        _endpoint(other)
    scored = _scored(student, 0.95)
    _scored(student, 0.93)
    failed = _submission(
        student,
        SubmissionState.FAILED,
        reason="fit raised ValueError: " + "y" * 200,
        stderr_tail=LONG_STDERR,
        attempts=1,
    )
    _submission(student, SubmissionState.QUEUED)
    endpoint = _endpoint(student)
    assert scored.pk
    return ClassContent(
        student=student,
        urls={
            "challenge": f"/challenges/{challenge.slug}/",
            "leaderboard": f"/challenges/{challenge.slug}/leaderboard/",
            "submission": f"/submissions/{failed.pk}/",
            "endpoint": f"/endpoints/{endpoint.pk}/",
        },
    )


@pytest.fixture
def student_page(
    browser: Browser, live_server: LiveServer, content: ClassContent
) -> Iterator[Page]:
    context = signed_in_context(browser, live_server.url, content.student.user)
    page = context.new_page()
    page.set_default_timeout(patient_ms(20))
    yield page
    context.close()


OVERFLOW = """() => {
  const width = window.innerWidth;
  const wider = [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > width + 0.5)
    .slice(0, 5)
    .map((e) => e.tagName + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""));
  return {scroll: document.documentElement.scrollWidth, inner: width, wider};
}"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_the_page_is_no_wider_than_the_screen(
    student_page: Page, content: ClassContent, name: str, width: int
) -> None:
    page = student_page
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(content.urls[name])
    expect(page.locator("main h1")).to_be_visible()
    if name == "submission":
        expect(page.locator("#stderr")).to_contain_text("ValueError")
    if name == "challenge":
        expect(page.locator("#data-section")).to_contain_text("e" * 64)
    if name in ("leaderboard", "endpoint"):
        expect(page.locator("main")).to_contain_text(LONG_NAME)
    measured = page.evaluate(OVERFLOW)
    assert measured["scroll"] <= measured["inner"], (
        f"{name} at {width} px is {measured['scroll']} px wide: {measured['wider']}"
    )
    if name == "leaderboard" and width == 390:
        # The table really is wider than a phone, and scrolls in its own box.
        box = page.locator(".table-scroll:has(#leaderboard)")
        assert box.evaluate("(e) => e.scrollWidth > e.clientWidth")
