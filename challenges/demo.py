"""The demo challenge: built from a dataset that ships with scikit-learn, so the
platform shows something real on a machine with no network."""

from __future__ import annotations

import io
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from sklearn.datasets import load_breast_cancer

from challenges.forms import ChallengeForm
from challenges.models import Challenge
from challenges.services import challenge_publish
from dispatch.models import Destination

DEMO_SLUG = "breast-cancer-demo"


def demo_dataset_csv() -> bytes:
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
    form = ChallengeForm(
        data={
            "name": "Breast cancer diagnosis (demo)",
            "slug": DEMO_SLUG,
            "description": (
                "Predict whether a tumour is malignant or benign from 30 measurements of "
                "its cell nuclei (scikit-learn's breast cancer dataset)."
            ),
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
            # Ten releases, a minute apart, the first soon after set-up.
            "first_release_at": now + timedelta(seconds=10),
            "release_proportions": "10",
            "release_interval_seconds": 60,
            "release_cumulative": False,
            "release_format": "csv",
            "destinations": [demo_destination_ensure(owner=owner).pk],
        },
        files={"dataset": SimpleUploadedFile("breast_cancer.csv", demo_dataset_csv(), "text/csv")},
    )
    if not form.is_valid():
        raise RuntimeError(f"the demo challenge does not validate: {form.errors.as_json()}")
    challenge = form.save(commit=False)
    challenge.owner = owner  # type: ignore[assignment]
    challenge.save()
    form.save_m2m()
    challenge_publish(challenge=challenge)
    return challenge, True
