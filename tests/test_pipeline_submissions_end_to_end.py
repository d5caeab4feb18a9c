"""Pipeline submissions through the API and the pages, with real judge and control
workers: a sweep uploaded as a zip is judged configuration by configuration, the
best by cross-validation kept, each step measured against the challenge's SLAs;
what cannot run is refused at upload, naming the step or the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from judging.models import Submission, SubmissionState
from tests.browser import PASSWORD
from tests.judge_platform import judge_platform
from tests.pipeline_kits import MODEL_PY, SCALE_PY, SCALE_THEN_MODEL, zip_of
from tests.submissions import participants, published_challenge
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db(transaction=True)

# Each prediction batch of the model step takes at least 5 ms: over a 1 ms SLA.
SLOW_MODEL_PY = MODEL_PY.replace(
    "from sklearn.dummy import DummyClassifier",
    "import time\n\nfrom sklearn.dummy import DummyClassifier",
).replace(
    "def logistic():\n    return LogisticRegression(max_iter=500)",
    "class Slow(LogisticRegression):\n"
    "    def predict(self, X):\n"
    "        time.sleep(0.005)\n"
    "        return super().predict(X)\n\n\n"
    "def logistic():\n    return Slow(max_iter=500)",
)
SWEEP_ZIP = zip_of(SCALE_THEN_MODEL, {"scale.py": SCALE_PY, "model.py": SLOW_MODEL_PY})


def post_zip(client: object, slug: str, content: bytes, **fields: str) -> object:
    upload = SimpleUploadedFile("pipeline.zip", content, "application/zip")
    return client.post(  # type: ignore[attr-defined]
        f"/api/challenges/{slug}/submissions/", {"file": upload, **fields}, format="multipart"
    )


def test_a_sweep_is_judged_and_reported_step_by_step_against_the_slas() -> None:
    challenge = published_challenge(
        cv_folds=3, batch_size=16, step_latency_sla_ms=1, pipeline_latency_sla_ms=600_000
    )
    (ada,) = participants(challenge, 1)
    client = token_client(ada.user)

    with judge_platform(beat=False) as platform:
        created = post_zip(client, challenge.slug, SWEEP_ZIP, sweep="true")
        assert created.status_code == 201, created.json()
        platform.wait_until_ended(Submission.objects.get(pk=created.json()["id"]))
    detail = client.get(f"/api/submissions/{created.json()['id']}/").json()

    assert detail["state"] == SubmissionState.SCORED, detail["reason"]
    assert (detail["kind"], detail["sweep"]) == ("pipeline", True)
    table = {row["configuration"]["model"]: row for row in detail["configurations"]}
    assert table["logistic"]["chosen"]
    assert not table["dummy"]["chosen"]
    assert detail["cv_mean"] == table["logistic"]["cv_mean"]
    steps = {step["name"]: step for step in table["logistic"]["steps"]}
    assert steps["model"]["target"] == "model.py:logistic"
    assert steps["model"]["sla_met"] is False  # slept 5 ms a batch against 1 ms
    assert table["logistic"]["sla_met"] is False
    assert table["logistic"]["latency_p95_ms"] < 600_000
    assert detail["provenance"]["configurations"] == [{"model": "dummy"}, {"model": "logistic"}]
    assert set(detail["artifacts"]) >= {"predictions", "logs", "run"}


def test_a_pipeline_that_cannot_finish_is_refused_at_upload_naming_the_step() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    looping = [
        {"name": "scale", "run": "scale.py:scaler", "inputs": ["X", "late"], "outputs": ["s"]},
        {"name": "model", "run": "model.py:logistic", "inputs": ["s", "y"], "outputs": ["late"]},
    ]

    response = post_zip(
        token_client(ada.user),
        challenge.slug,
        zip_of(looping, {"scale.py": SCALE_PY, "model.py": MODEL_PY}),
    )

    assert response.status_code == 400
    assert response.json()["errors"]["file"] == [
        "The pipeline was refused (2 problems): 1) steps scale → model → scale form a cycle. "
        "2) no step produces 'predictions': the last step must have outputs: [predictions]."
    ]
    assert not Submission.objects.exists()


def test_an_unknown_alternative_is_refused_on_the_configuration_field() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)

    response = post_zip(
        token_client(ada.user), challenge.slug, SWEEP_ZIP, configuration="model=svm"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["configuration"] == [
        "The configuration was refused: step model has no alternative 'svm'; it has dummy, "
        "logistic."
    ]


def test_the_result_page_shows_where_the_time_goes_and_the_sweep(
    page: Page, tmp_path: Path
) -> None:
    challenge = published_challenge(cv_folds=3, step_latency_sla_ms=1)
    (ada,) = participants(challenge, 1)
    path = tmp_path / "pipeline.zip"
    path.write_bytes(SWEEP_ZIP)
    page.goto(f"/accounts/login/?next=/challenges/{challenge.slug}/")
    page.get_by_label("Username").fill(ada.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    with judge_platform(beat=False) as platform:
        page.get_by_label("estimator.py or pipeline zip").set_input_files(str(path))
        page.get_by_label("Sweep").check()
        page.get_by_role("button", name="Submit for judging").click()
        submission = platform.wait_until_ended(Submission.objects.get())

    page.goto(f"/submissions/{submission.pk}/")
    expect(page.locator("#steps tbody tr")).to_have_count(2)
    # Fit and latency per step, drawn by plotly.js; the step SLA named in the legend.
    expect(page.locator("#step-fit-chart .barlayer .point")).to_have_count(2)
    latency = page.locator("#step-latency-chart")
    expect(latency.locator(".barlayer .point")).to_have_count(2)
    expect(latency.locator(".legendtext")).to_contain_text(["step SLA (1 ms)"])
    expect(latency.locator(".g-xtitle")).to_have_text("p95 latency per batch (ms)")
    expect(page.locator("#configurations tbody tr")).to_have_count(2)
    expect(page.locator("#configurations tr.chosen")).to_contain_text("model=logistic")
    expect(page.locator("#provenance")).to_be_visible()
