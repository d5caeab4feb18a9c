"""A student's endpoint on the web: register it from the challenge page, read its
metrics and charts, check it now and see the raw exchange. The same services as
the API; a student reaches only their own endpoint, a teacher their challenges'."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from challenges.models import Participant
from foundation.accounts import signed_in_user
from foundation.live_fragments import fragment_login_required, fragment_version, live_fragment
from probing.endpoint_charts import latency_chart, uptime_chart
from probing.forms import EndpointForm
from probing.metrics_table import metrics_rows
from probing.models import Endpoint, Probe
from probing.selectors import (
    endpoint_down_since,
    endpoint_history,
    endpoint_history_mark,
    endpoint_metrics,
    endpoint_readable_by,
    window_start,
)
from probing.services import CheckRefused, endpoint_check, endpoint_register
from probing.tasks import run_probe_now

RECENT_PROBES = 20


def _readable(request: HttpRequest, endpoint_id: int) -> Endpoint:
    endpoint = endpoint_readable_by(request.user, endpoint_id)
    if endpoint is None:
        raise Http404("No such endpoint of yours.")
    return endpoint


def _errors(error: ValidationError) -> str:
    return " ".join(f"{field}: {' '.join(texts)}" for field, texts in error.message_dict.items())


@login_required
@require_POST
def endpoint_register_view(request: HttpRequest, slug: str) -> HttpResponse:
    participant = (
        Participant.objects.select_related("challenge", "endpoint")
        .filter(challenge__slug=slug, user=signed_in_user(request))
        .first()
    )
    if participant is None:
        raise Http404("You are not taking part in this challenge.")
    form = EndpointForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Endpoint not saved: " + _errors(ValidationError(form.errors)))
        return redirect("challenge", slug=slug)
    fields = form.cleaned_data
    current = getattr(participant, "endpoint", None)
    auth_header = fields["auth_header"]
    if not auth_header and current is not None and not fields["remove_auth_header"]:
        auth_header = current.auth_header  # blank keeps the secret the page never shows
    try:
        endpoint, created = endpoint_register(
            participant=participant,
            url=fields["url"],
            protocol=fields["protocol"],
            model_name=fields["model_name"],
            auth_header=auth_header,
        )
    except ValidationError as error:
        messages.error(request, "Endpoint not saved: " + _errors(error))
        return redirect("challenge", slug=slug)
    messages.success(
        request, f"Endpoint {'registered' if created else 'changed'}: probes start soon."
    )
    return redirect("endpoint", endpoint_id=endpoint.pk)


def _endpoint_live(endpoint: Endpoint) -> dict[str, object]:
    """Whether the endpoint's figures can still move (probed while active and the
    challenge is open), and the version a poll compares."""
    now = timezone.now()
    live = endpoint.active and now < endpoint.challenge.closes_at
    version = fragment_version(
        endpoint.active, endpoint.next_probe_at, endpoint_history_mark(endpoint, now)
    )
    return {"endpoint": endpoint, "challenge": endpoint.challenge, "live": live, "version": version}


def _endpoint_context(endpoint: Endpoint) -> dict[str, object]:
    now = timezone.now()
    history = endpoint_history(endpoint, now)
    sla_ms = endpoint.challenge.probe_rules.latency_sla_ms
    return {
        "endpoint": endpoint,
        "challenge": endpoint.challenge,
        "window_hours": settings.PPIPE_PROBE_WINDOW_HOURS,
        "publications_per_day": 86400 / settings.PPIPE_PROBE_SCORE_PUBLISH_SECONDS,
        "checks_per_day": settings.PPIPE_PROBE_CHECKS_PER_DAY,
        "metrics": metrics_rows(endpoint_metrics(endpoint, now), sla_ms),
        "latency_chart": latency_chart(history, sla_ms, window_start(now), now),
        "uptime_chart": uptime_chart(history, window_start(now), now),
        "down": endpoint_down_since(endpoint),
        "probes": list(reversed(history))[:RECENT_PROBES],
    }


@login_required
def endpoint_page(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _readable(request, endpoint_id)
    context = {**_endpoint_live(endpoint), **_endpoint_context(endpoint)}
    return render(request, "probing/endpoint.html", context)


@fragment_login_required
def endpoint_fragment(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """The endpoint's metrics, charts and recent probes, polled by its page while it is probed."""
    endpoint = _readable(request, endpoint_id)
    state = _endpoint_live(endpoint)
    return live_fragment(
        request,
        "probing/endpoint_live.html",
        lambda: _endpoint_context(endpoint),
        version=str(state["version"]),
        live=bool(state["live"]),
    )


@login_required
@require_POST
def endpoint_check_view(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _readable(request, endpoint_id)
    check: Probe | None = None
    try:
        check = endpoint_check(
            endpoint=endpoint,
            run=lambda job: run_probe_now(job, settings.PPIPE_PROBE_TIMEOUT_SECONDS + 10),
        )
    except CheckRefused as error:  # too soon, or the day's checks used
        messages.warning(request, str(error))
    context = {**_endpoint_live(endpoint), **_endpoint_context(endpoint), "check": check}
    return render(request, "probing/endpoint.html", context)
