"""The students' charts in Chromium at 1366 and 390 px: the leaderboard's score
against CPU time and history name their axes (with units), the Pareto front, the
best so far and the reader's own point, show a participant's name on hover, fit
the window and are drawn again when htmx swaps them in; the endpoint's latency and
uptime charts show failed probes as failures (on the student's page and the
teacher's admin page), and the page says since when the endpoint is down while
its latest probes fail; the admin's release timeline is drawn the same way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from challenges.models import Challenge, Participant
from challenges.services import challenge_publish
from judging.models import Submission, SubmissionState
from probing.models import Endpoint, Probe, ProbeState
from tests.browser import PASSWORD, admin_log_in
from tests.factories import (
    ChallengeFactory,
    DestinationFactory,
    ParticipantFactory,
    StudentFactory,
    SubmissionFactory,
)
from tests.submissions import published_challenge

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (1366, 390)
DEADLINE = 60_000


def person(challenge: Challenge, name: str) -> Participant:
    return ParticipantFactory(challenge=challenge, user=StudentFactory(username=name))


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def drawn(page: Page, chart_id: str) -> Locator:
    """The chart, once plotly.js has drawn it (its legend is there)."""
    chart = page.locator(f"#{chart_id}")
    expect(chart.locator(".legend")).to_have_count(1, timeout=DEADLINE)
    return chart


def trace_points(chart: Locator, name: str) -> Locator:
    """The drawn points of the trace named `name` (plotly draws traces in order)."""
    index = chart.evaluate(f"(el) => el.data.findIndex((t) => t.name === {name!r})")
    assert index >= 0, f"no trace named {name!r}"
    return chart.locator(".cartesianlayer .trace").nth(index).locator(".point")


def fits_the_window(page: Page, chart: Locator) -> None:
    width, window = chart.evaluate(
        "(el) => [el.querySelector('.main-svg').getBoundingClientRect().right, window.innerWidth]"
    )
    assert 0 < width <= window


def hover_shows(page: Page, chart: Locator, point: Locator, text: str) -> None:
    """A real mouse over the point (plotly listens on the plot's drag layer)."""
    chart.scroll_into_view_if_needed()
    box = point.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(chart.locator(".hoverlayer")).to_contain_text(text)
    page.mouse.move(0, 0)


def scored(participant: Participant, score: float, cpu: float, minutes_ago: int) -> None:
    submission = SubmissionFactory(
        participant=participant,
        state=SubmissionState.SCORED,
        public_score=score,
        private_score=score,
        cv_mean=score,
        cv_std=0.01,
        cpu_seconds=cpu,
        peak_memory_mb=100.0,
        fit_seconds=cpu / 2,
    )
    # created_at is set on insert: moved back in time after.
    Submission.objects.filter(pk=submission.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


def test_the_leaderboard_charts_name_their_parts_and_mark_my_point(page: Page) -> None:
    challenge = published_challenge(metric="accuracy")
    ada, grace, linus = (person(challenge, name) for name in ("ada", "grace", "linus"))
    scored(ada, 0.70, cpu=1.0, minutes_ago=50)
    scored(ada, 0.92, cpu=4.0, minutes_ago=30)
    scored(grace, 0.85, cpu=6.0, minutes_ago=40)  # the reader's, dominated by ada's
    scored(linus, 0.60, cpu=9.0, minutes_ago=20)
    log_in(page, "grace")

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/challenges/{challenge.slug}/leaderboard/")
        cost = drawn(page, "score-cost-chart")
        legend = cost.locator(".legendtext")
        expect(legend).to_contain_text(["other participants", "Pareto front", "you"])
        expect(cost.locator(".g-xtitle")).to_have_text("CPU time (s, all folds)")
        expect(cost.locator(".g-ytitle")).to_have_text("public score (accuracy)")
        expect(cost.locator(".xtick")).not_to_have_count(0)
        expect(cost.locator(".ytick")).not_to_have_count(0)
        expect(trace_points(cost, "Pareto front")).to_have_count(1)  # ada's best
        mine = trace_points(cost, "you")
        expect(mine).to_have_count(1)
        fits_the_window(page, cost)
        hover_shows(page, cost, mine, "grace")
        # Grace's own point is among everyone's too, under her star; linus's is the last.
        hover_shows(page, cost, trace_points(cost, "other participants").last, "linus")

        history = drawn(page, "score-history-chart")
        expect(history.locator(".legendtext")).to_contain_text(
            ["improvements", "best so far", "you"]
        )
        expect(history.locator(".g-xtitle")).to_have_text("submitted at (UTC)")
        expect(history.locator(".g-ytitle")).to_have_text("public score (accuracy)")
        expect(trace_points(history, "you")).to_have_count(1)
        expect(trace_points(history, "improvements")).to_have_count(4)  # grace's among them
        fits_the_window(page, history)
        # linus's point, below the best so far: its own label.
        hover_shows(page, history, trace_points(history, "improvements").last, "linus")

    # Swapped in by htmx (as a polled fragment will be): the new chart is drawn too.
    page.locator("#score-cost-chart").evaluate("(el) => { el.dataset.old = 'yes'; }")
    page.evaluate(
        "() => htmx.ajax('GET', location.pathname, "
        "{target: '#score-cost', select: '#score-cost', swap: 'outerHTML'})"
    )
    expect(page.locator("#score-cost-chart[data-old]")).to_have_count(0)
    expect(trace_points(drawn(page, "score-cost-chart"), "you")).to_have_count(1)


def probe(endpoint: Endpoint, minutes_ago: int, outcome: str, **fields: Any) -> Probe:
    return Probe.objects.create(
        endpoint=endpoint,
        scheduled_at=timezone.now() - timedelta(minutes=minutes_ago),
        state=ProbeState.DONE,
        outcome=outcome,
        sla_met=outcome == "ok",
        data_version="1",
        **fields,
    )


def test_the_endpoint_charts_show_failures_and_the_page_says_since_when_it_is_down(
    page: Page,
) -> None:
    challenge = published_challenge()
    ada = person(challenge, "ada")
    endpoint = Endpoint.objects.create(
        challenge=challenge, participant=ada, url="http://127.0.0.1:9/", protocol="mlflow"
    )
    # Hours apart: each point has its own place on a phone's 24-hour axis.
    probe(endpoint, 20 * 60, "ok", http_status=200, total_ms=40.0, score=0.9)
    probe(endpoint, 12 * 60, "ok", http_status=200, total_ms=900.0, score=0.9)
    first_failure = probe(endpoint, 6 * 60, "timeout", detail="no answer in 10 s")
    probe(endpoint, 10, "http_error", http_status=500, total_ms=30.0, detail="HTTP 500")
    log_in(page, "ada")

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/endpoints/{endpoint.pk}/")
        notice = page.locator("#down-notice")
        expect(notice).to_contain_text(
            f"Down since {timezone.localtime(first_failure.scheduled_at):%Y-%m-%d %H:%M}"
        )
        expect(notice).to_contain_text("the last 2 scheduled probes failed")
        expect(notice).to_contain_text("http_error (HTTP 500)")

        latency = drawn(page, "latency-chart-plot")
        expect(latency.locator(".legendtext")).to_contain_text(
            ["valid answer", "failed", f"SLA ({challenge.probe_rules.latency_sla_ms} ms)"]
        )
        expect(latency.locator(".g-xtitle")).to_have_text("probed at (UTC)")
        expect(latency.locator(".g-ytitle")).to_have_text("latency (ms)")
        expect(trace_points(latency, "valid answer")).to_have_count(2)
        failed = trace_points(latency, "failed")
        expect(failed).to_have_count(2)
        # A red band down the plot at each failure's time.
        expect(latency.locator(".shapelayer path")).to_have_count(2)
        fits_the_window(page, latency)
        hover_shows(page, latency, failed.first, "timeout: no answer in 10 s")

        uptime = drawn(page, "uptime-chart-plot")
        expect(uptime.locator(".legendtext")).to_contain_text(["failed", "up (2xx answer)"])
        expect(uptime.locator(".g-ytitle")).to_have_text("probes in the hour")
        counted = uptime.evaluate(
            "(el) => el.data.map((t) => [t.name, t.y.reduce((a, b) => a + b, 0)])"
        )
        assert counted == [["up (2xx answer)", 2], ["failed", 2]]
        expect(trace_points(uptime, "failed")).not_to_have_count(0)
        fits_the_window(page, uptime)

    # Answered again: no longer down.
    probe(endpoint, 1, "ok", http_status=200, total_ms=50.0, score=0.9)
    page.reload()
    drawn(page, "latency-chart-plot")
    expect(page.locator("#down-notice")).to_have_count(0)

    # The teacher's admin page of the endpoint draws the same charts.
    page.context.clear_cookies()
    admin_log_in(page, challenge.owner.username)
    page.goto(f"/admin/probing/endpoint/{endpoint.pk}/change/")
    expect(trace_points(drawn(page, "latency-chart-plot"), "failed")).to_have_count(2)
    drawn(page, "uptime-chart-plot")

    # And the release timeline, one mark per planned transaction on its destination's row.
    releasing = ChallengeFactory(
        owner=challenge.owner, first_release_at=timezone.now(), release_proportions="2"
    )
    releasing.release_plan.destinations.set(
        [DestinationFactory(owner=challenge.owner, name="class-share", path="/tmp/unused")]
    )
    challenge_publish(challenge=releasing)
    page.goto(f"/admin/challenges/challenge/{releasing.pk}/releases/")
    timeline = drawn(page, "release-timeline")
    expect(timeline.locator(".legendtext")).to_have_text(["Planned"])
    expect(timeline.locator(".g-ytitle")).to_have_text("destination")
    expect(trace_points(timeline, "Planned")).to_have_count(2)
