"""The admin's operations page, for operators (superusers)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from foundation.live_workers import live_workers_by_queue
from foundation.worker_clocks import worker_clocks_off
from judging.judge_pools import judge_pools
from operations.jobs import QUEUES, jobs_by_state, problem_jobs, queue_lengths


def operations_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied("The operations page is for operators (superusers).")
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
        "clocks": worker_clocks_off(),
        "pools": judge_pools(live_workers_by_queue()),
    }
    return TemplateResponse(request, "admin/operations.html", context)
