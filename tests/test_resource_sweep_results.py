"""A resource sweep from upload to the result page: a student sweeps the cores and
batch sizes the challenge offers (never others: refused, nothing saved), each
configuration's cores, batch size, throughput and wall time are recorded with what
did not run and why, and the API and the page show the table, the two charts and
the configuration meeting the SLAs at the least cost."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from judging.challenge_section import NumberListField
from judging.models import Submission
from judging.services import (
    submission_create,
    submission_mark_started,
    submission_record_result,
    submissions_feed,
)
from tests.pipeline_kits import MODEL_PY, SCALE_PY, SCALE_THEN_MODEL, zip_of
from tests.submissions import RecordingSender, participants, published_challenge
from tests.test_api_challenges import token_client
from tests.test_submission_lifecycle import good_result
from worker_wing.pipeline.code_check import SubmissionRejected

pytestmark = pytest.mark.django_db

ZIP = zip_of(SCALE_THEN_MODEL, {"scale.py": SCALE_PY, "model.py": MODEL_PY})


def sweep_challenge() -> Any:
    return published_challenge(
        sweep_cores=[1, 2, 4],
        sweep_batch_sizes=[1, 32],
        max_sweep_configurations=12,
        pipeline_latency_sla_ms=50,
    )


def test_a_student_sweeps_only_what_the_challenge_offers() -> None:
    (ada,) = participants(sweep_challenge(), 1)

    with pytest.raises(SubmissionRejected, match="offers core counts 1, 2, 4 only; 8 refused"):
        submission_create(
            participant=ada, filename="p.zip", content=ZIP, sweep=True, sweep_cores=["1", "8"]
        )
    with pytest.raises(SubmissionRejected, match="swept only in a sweep"):
        submission_create(participant=ada, filename="p.zip", content=ZIP, sweep_cores=["1"])
    assert not Submission.objects.exists()

    submission = submission_create(
        participant=ada, filename="p.zip", content=ZIP, sweep=True, sweep_cores=["2"]
    )
    assert [(plan["cores"], plan["batch_size"]) for plan in submission.plans] == [
        (2, 1),
        (2, 32),
        (2, 1),
        (2, 32),
    ]


def row(model: str, cores: int, batch: int, cv: float, p95: float, rows_per_s: float) -> dict:
    return {
        "configuration": {"model": model},
        "cores": cores,
        "batch_size": batch,
        "cv_mean": cv,
        "cv_std": 0.01,
        "fit_seconds": 0.2,
        "cpu_seconds": 0.3,
        "peak_memory_mb": 150.0,
        "latency_p50_ms": p95 / 2,
        "latency_p95_ms": p95,
        "batches": 10,
        "wall_seconds": 1.5,
        "throughput_rows_per_second": rows_per_s,
        "steps": [],
    }


def test_the_table_charts_and_least_cost_configuration_are_shown() -> None:
    (ada,) = participants(sweep_challenge(), 1)
    submission = submission_create(
        participant=ada, filename="p.zip", content=ZIP, sweep=True, sweep_cores=["1", "2"]
    )
    submissions_feed(send=RecordingSender())
    submission.refresh_from_db()
    assert submission_mark_started(
        submission_id=submission.pk, attempt=submission.attempts + 1, worker="w1"
    )
    submission.refresh_from_db()
    configurations = [
        row("dummy", 1, 32, 0.30, 5.0, 9000.0),
        row("logistic", 1, 32, 0.95, 80.0, 800.0),  # past the 50 ms SLA
        row("logistic", 2, 1, 0.95, 4.0, 400.0),  # meets it: 5 core-s per 1,000 rows
        row("logistic", 1, 1, 0.95, 6.0, 300.0),  # meets it: 3.3, the least cost
    ]
    not_run = [
        {"configuration": {"model": "dummy"}, "cores": 4, "batch_size": 1, "reason": "asks "}
    ]
    result = good_result(submission, configurations=configurations, chosen=1, not_run=not_run)
    assert submission_record_result(result=result) == "scored"

    detail = token_client(ada.user).get(f"/api/submissions/{submission.pk}/").json()
    table = detail["configurations"]
    assert [(r["cores"], r["batch_size"], r["sla_met"]) for r in table] == [
        (1, 32, True),
        (1, 32, False),
        (2, 1, True),
        (1, 1, True),
    ]
    assert table[3]["throughput_rows_per_second"] == 300.0
    assert table[3]["wall_seconds"] == 1.5
    assert table[2]["cost_core_seconds_per_1000_rows"] == pytest.approx(5.0)
    assert detail["least_cost_configuration"] == 3
    assert detail["sweep_not_run"] == not_run

    client = Client()
    client.force_login(ada.user)
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert 'id="least-cost"' in page
    assert "model=logistic, 1 core, batch 1" in page
    assert 'id="not-run"' in page
    charts = [json.loads(text) for text in _figures(page)]
    assert len(charts) == 2
    latency = next(fig for fig in charts if "latency" in fig["layout"]["xaxis"]["title"]["text"])
    names = [trace["name"] for trace in latency["data"]]
    assert "Pareto front" in names
    assert "end-to-end SLA (50 ms)" in names
    front = next(trace for trace in latency["data"] if trace["name"] == "Pareto front")
    assert list(front["x"]) == [4.0]  # 0.95 at 4 ms beats every other configuration
    assert any("throughput" in fig["layout"]["xaxis"]["title"]["text"] for fig in charts)


def _figures(page: str) -> list[str]:
    found = re.findall(r'id="sweep-[a-z]+-chart"[^>]*data-chart="([^"]*)"', page)
    return [html.unescape(text) for text in found]


def test_a_teacher_types_the_offer_as_a_list_and_is_told_what_is_wrong() -> None:
    field = NumberListField(required=False)
    assert field.clean("1, 2, 4") == [1, 2, 4]
    assert field.clean("") == []
    with pytest.raises(ValidationError, match="whole numbers separated by commas"):
        field.clean("1, two")
    rules = sweep_challenge().judging_rules
    rules.sweep_cores = [0, 1, 1000]
    rules.sweep_batch_sizes = [32, 32]
    with pytest.raises(ValidationError) as refused:
        rules.full_clean()
    assert refused.value.message_dict == {
        "sweep_cores": [
            "Each of the core counts must be a whole number from 1 to 256; 0, 1000 is not."
        ],
        "sweep_batch_sizes": ["The batch sizes are listed more than once."],
    }


def test_the_challenge_page_offers_the_sweep_and_refuses_what_it_does_not_offer() -> None:
    challenge = sweep_challenge()
    (ada,) = participants(challenge, 1)
    client = Client()
    client.force_login(ada.user)
    assert "Offered: 1, 2, 4." in client.get(f"/challenges/{challenge.slug}/").content.decode()

    posted = {
        "file": SimpleUploadedFile("p.zip", ZIP, "application/zip"),
        "sweep": "on",
        "sweep_cores": "1, 8",
    }
    page = client.post(f"/challenges/{challenge.slug}/", posted).content.decode()

    assert "offers core counts 1, 2, 4 only; 8 refused" in page
    assert not Submission.objects.exists()
