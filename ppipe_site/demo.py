"""The demo challenge: built from a dataset that ships with scikit-learn, so the
platform shows something real on a machine with no network."""

from __future__ import annotations

import io
import sys
import zipfile
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from challenges.forms import ChallengeForms
from challenges.models import Challenge
from challenges.services import challenge_publish, participant_enroll
from dispatch.models import Destination
from judging.services import submission_create
from probing.models import Endpoint
from probing.services import endpoint_register

DEMO_SLUG = "breast-cancer-demo"
# Printed by `make run`: whoever tries the platform signs up as a student with it.
DEMO_JOIN_CODE = "DEMO-CELLS"
DEMO_PROBE_NETWORK = "127.0.0.0/8"
DEMO_ENDPOINT_OWNER = "demo-ada"


def demo_dataset_csv() -> bytes:
    # Imported here: the launcher loads this module for its names at every start.
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.rename(columns={"target": "diagnosis"})
    frame["diagnosis"] = frame["diagnosis"].map(dict(enumerate(bunch.target_names)))
    frame.insert(0, "patient_id", [f"P{number:04d}" for number in range(len(frame))])
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def demo_destination_ensure(*, owner: AbstractBaseUser) -> Destination:
    """A local folder in var/, so the demo's releases are visible on disk."""
    destination, _ = Destination.objects.get_or_create(
        owner=owner,
        name="demo-folder",
        defaults={"type": "local", "path": str(settings.VAR_DIR / "releases")},
    )
    return destination


def demo_challenge_ensure(*, owner: AbstractBaseUser) -> tuple[Challenge, bool]:
    """Create and publish the demo challenge unless it exists. Returns (challenge, created)."""
    existing = Challenge.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    form = ChallengeForms(
        data={
            "name": "Breast cancer diagnosis (demo)",
            "slug": DEMO_SLUG,
            "description": (
                "Predict whether a tumour is malignant or benign from 30 measurements of "
                "its cell nuclei (scikit-learn's breast cancer dataset)."
            ),
            "join_code": DEMO_JOIN_CODE,
            "target_column": "diagnosis",
            "id_column": "patient_id",
            "task_type": "classification",
            "metric": "balanced_accuracy",
            "test_fraction": 0.3,
            "private_fraction": 0.5,
            "split_seed": 20261124,
            "opens_at": now,
            "closes_at": now + timedelta(days=30),
            "cpu_seconds_limit": 120,
            "memory_mb_limit": 1024,
            "wall_seconds_limit": 300,
            "submissions_per_day": 10,
            # Pipelines are timed in batches of 32 rows against these SLAs.
            "batch_size": 32,
            "step_latency_sla_ms": 50,
            "pipeline_latency_sla_ms": 100,
            # The collaborative phase opens ten minutes in: the demo students' code is
            # shared then, to read and build on (judging/sharing.py).
            "code_sharing_at": now + timedelta(minutes=10),
            # Ten releases, a minute apart, the first soon after set-up.
            "first_release_at": now + timedelta(seconds=10),
            "release_proportions": "10",
            "release_interval_seconds": 60,
            "release_cumulative": False,
            "release_format": "csv",
            # Students download their releases from the challenge page and the kit.
            "release_downloads": True,
            "destinations": [demo_destination_ensure(owner=owner).pk],
            # The demo endpoint runs on this machine: probes may reach loopback.
            "probe_interval_seconds": settings.PPIPE_DEMO_PROBE_INTERVAL_SECONDS,
            "probe_allowed_networks": DEMO_PROBE_NETWORK,
        },
        files={"dataset": SimpleUploadedFile("breast_cancer.csv", demo_dataset_csv(), "text/csv")},
    )
    if not form.is_valid():
        raise RuntimeError(f"the demo challenge does not validate: {form.errors}")
    challenge = form.save(owner=owner)
    challenge_publish(challenge=challenge)
    return challenge, True


# Three students of the demo, and what each submits: a cheap linear model, a
# costlier forest, and a baseline, so the leaderboard shows score against cost.
DEMO_SUBMISSIONS = {
    "demo-ada": """\
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def get_estimator():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
""",
    "demo-grace": """\
from sklearn.ensemble import RandomForestClassifier


def get_estimator():
    return RandomForestClassifier(n_estimators=200, random_state=0)
""",
    "demo-linus": """\
from sklearn.dummy import DummyClassifier


def get_estimator():
    return DummyClassifier(strategy="most_frequent")
""",
}


# A fourth student submits a pipeline and sweeps its two models.
DEMO_PIPELINE_OWNER = "demo-hopper"
DEMO_PIPELINE = {
    "pipeline.yaml": """\
steps:
  - name: scale
    run: features.py:scaler
    inputs: [X]
    outputs: [scaled]
  - name: model
    inputs: [scaled, y]
    outputs: [predictions]
    alternatives:
      logistic: model.py:logistic
      forest: model.py:forest
""",
    "features.py": """\
from sklearn.preprocessing import StandardScaler


def scaler():
    return StandardScaler()
""",
    "model.py": """\
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression


def logistic():
    return LogisticRegression(max_iter=1000)


def forest():
    return RandomForestClassifier(n_estimators=50, random_state=0)
""",
}


def demo_pipeline_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in DEMO_PIPELINE.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def demo_submissions_ensure(*, challenge: Challenge) -> int:
    """Enrol the demo students and upload their submissions, once. Returns how many."""
    uploads = {
        username: ("estimator.py", code.encode(), False)
        for username, code in DEMO_SUBMISSIONS.items()
    }
    uploads[DEMO_PIPELINE_OWNER] = ("pipeline.zip", demo_pipeline_zip(), True)
    created = 0
    for username, (filename, content, sweep) in uploads.items():
        user, _ = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.org"}
        )
        participant, _ = participant_enroll(challenge=challenge, user=user)
        if not participant.submissions.exists():
            submission_create(
                participant=participant,
                filename=filename,
                content=content,
                sweep=sweep,
                # Set-up runs before the broker is up: beat's first tick sends them.
                wake_feeder=False,
            )
            created += 1
    return created


def demo_model_command(*, port: int) -> list[str]:
    """The demo endpoint: the reference model server, retraining on each release
    that lands in the demo folder."""
    return [
        sys.executable,
        "-m",
        "probing.model_server",
        "--releases",
        str(settings.VAR_DIR / "releases" / DEMO_SLUG),
        "--target",
        "diagnosis",
        "--id-column",
        "patient_id",
        "--port",
        str(port),
    ]


def demo_endpoint_ensure(*, challenge: Challenge, url: str) -> Endpoint:
    """Register the demo model server as demo-ada's endpoint (again, when the port
    changed), on a demo challenge that lets probes reach loopback."""
    if DEMO_PROBE_NETWORK not in challenge.probe_rules.probe_networks:
        # A demo created before endpoints existed: the demo server lives on loopback.
        rules = challenge.probe_rules
        rules.probe_allowed_networks = " ".join(
            filter(None, [rules.probe_allowed_networks, DEMO_PROBE_NETWORK])
        )
        rules.save(update_fields=["probe_allowed_networks"])
    user, _ = get_user_model().objects.get_or_create(
        username=DEMO_ENDPOINT_OWNER, defaults={"email": f"{DEMO_ENDPOINT_OWNER}@example.org"}
    )
    participant, _ = participant_enroll(challenge=challenge, user=user)
    endpoint, _ = endpoint_register(participant=participant, url=url, protocol="mlflow")
    return endpoint
