"""The admin's operations page, for operators (superusers); other staff (teachers)
get a page in the admin's style saying who may see it and where to look instead,
not a bare 403."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from foundation.live_workers import live_workers_by_queue
from foundation.worker_clocks import worker_clocks_off
from judging.judge_pools import judge_pools
from operations.jobs import (
    FAILURE_WINDOW,
    QUEUES,
    KindCount,
    failure_table,
    jobs_by_state,
    problem_jobs,
    queue_lengths,
)
from retention.selectors import last_collection_pass, store_usage_by_challenge


def operations_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        return _refused(request)
    lengths, states = queue_lengths(), jobs_by_state()
    queues = [
        {"queue": queue, "length": lengths[queue], "states": sorted(states.get(queue, {}).items())}
        for queue in QUEUES
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Operations",
        "queues": queues,
        "problems": list(problem_jobs().items()),
        "failures": _failure_sections(),
        "clocks": worker_clocks_off(),
        "pools": judge_pools(live_workers_by_queue()),
        "store_usage": store_usage_by_challenge(),
        "collection": last_collection_pass(),
    }
    return TemplateResponse(request, "admin/operations.html", context)


def _failure_sections() -> list[tuple[str, str, list[KindCount]]]:
    table = failure_table(since=timezone.now() - FAILURE_WINDOW)
    return [
        ("operations", "Operational failures", table["operations"]),
        ("student", "Students' errors (not operational failures)", table["student"]),
    ]


def _refused(request: HttpRequest) -> HttpResponse:
    # Queues, workers and every challenge's failures are the operators' to see.
    context = {**admin.site.each_context(request), "title": "Operations"}
    return TemplateResponse(request, "admin/operations_refused.html", context, status=403)
