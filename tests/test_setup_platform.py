"""`manage.py setup_platform` prepares a fresh database: the Teachers group, an
admin account, the periodic tasks and the demo challenge; running it again
changes nothing."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from challenges.models import Challenge
from challenges.selectors import challenge_with_code
from dispatch.models import ReleasePlan
from ppipe_site.demo import DEMO_JOIN_CODE, DEMO_SLUG


def setup_platform(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = StringIO()
    call_command("setup_platform", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_fresh_database_gets_an_admin_a_teachers_group_and_a_published_demo(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.PPIPE_DEMO_PROBE_INTERVAL_SECONDS = 7
    output = setup_platform(monkeypatch, PPIPE_ADMIN_USERNAME="head", PPIPE_ADMIN_PASSWORD="")

    admin = get_user_model().objects.get(username="head")
    password = output.split("password ")[1].split()[0]
    assert admin.is_superuser
    assert admin.check_password(password)
    assert Group.objects.get(name="Teachers").permissions.filter(codename="add_challenge").exists()
    assert PeriodicTask.objects.filter(name__startswith="ppipe: ").exists()
    demo = Challenge.objects.get(slug=DEMO_SLUG)
    assert demo.is_published
    assert demo.owner == admin
    assert demo.split.train_rows + demo.split.public_test_rows + demo.split.private_test_rows == 569
    assert sorted(demo.submissions.values_list("participant__user__username", flat=True)) == [
        "demo-ada",
        "demo-grace",
        "demo-hopper",
        "demo-linus",
    ]
    hopper = demo.submissions.get(participant__user__username="demo-hopper")
    assert (hopper.kind, hopper.sweep, len(hopper.plans)) == ("pipeline", True, 2)
    # Whoever tries the platform signs up with the printed code and downloads releases.
    assert challenge_with_code(DEMO_JOIN_CODE.lower()) == demo
    assert ReleasePlan.objects.get(challenge=demo).release_downloads
    # Its endpoint is probed as often as the operator set (make run's tests: seconds).
    assert demo.probe_rules.probe_interval_seconds == 7


@pytest.mark.django_db
def test_running_it_again_keeps_everything_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    first = setup_platform(monkeypatch, PPIPE_ADMIN_PASSWORD="")
    demo = Challenge.objects.get(slug=DEMO_SLUG)

    second = setup_platform(monkeypatch, PPIPE_ADMIN_PASSWORD="")

    assert "Admin account exists" in second
    assert "Demo challenge exists" in second
    assert first.split("password ")[1].split()[0] == second.split("password ")[1].split()[0]
    assert Challenge.objects.get(slug=DEMO_SLUG).published_at == demo.published_at
    assert "Demo submissions uploaded: 4" in first
    assert "Demo submissions uploaded: 0" in second
    assert get_user_model().objects.filter(is_staff=True).count() == 1
    assert demo.submissions.count() == 4


@pytest.mark.django_db
def test_an_admin_password_from_the_environment_is_applied_and_not_printed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    output = setup_platform(monkeypatch, PPIPE_ADMIN_PASSWORD="a-long-teacher-password")

    assert "a-long-teacher-password" not in output
    assert get_user_model().objects.get(username="admin").check_password("a-long-teacher-password")
