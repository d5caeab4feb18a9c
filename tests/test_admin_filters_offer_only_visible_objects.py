"""The admin's list filters offer a teacher only the challenges and destinations
of the rows they can see: another teacher's names never show there. A superuser
sees every one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from challenges.services import challenge_publish
from teams.models import Team
from tests.factories import ChallengeFactory, DestinationFactory, TeacherFactory, UserFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db

CHANGELISTS = (
    "/admin/dispatch/transaction/",
    "/admin/challenges/participant/",
    "/admin/teams/team/",
)


def released(owner: Any, challenge: str, destination: str) -> None:
    """A published challenge with a release to a destination, a student and a team."""
    course = ChallengeFactory(owner=owner, name=challenge, first_release_at=timezone.now())
    course.release_plan.destinations.set(
        [DestinationFactory(owner=owner, name=destination, type="s3", path="bucket")]
    )
    challenge_publish(challenge=course)
    participants(course, 1)
    Team.objects.create(challenge=course, name=f"team {destination}")


def filters(client: Client, url: str) -> str:
    page = client.get(url).content.decode()
    start = page.index('id="changelist-filter"')
    return page[start : page.index("</nav>", start)]


@pytest.fixture
def two_teachers(teacher: Any) -> None:
    # Two of each, so that the teacher's own filters have choices to show.
    released(teacher, "Own Course One", "own-bucket-1")
    released(teacher, "Own Course Two", "own-bucket-2")
    released(TeacherFactory(), "Another Teachers Course", "another-teachers-bucket")


@pytest.mark.usefixtures("two_teachers")
@pytest.mark.parametrize("url", CHANGELISTS)
def test_a_teacher_sees_only_their_own_names_in_the_filters(
    teacher_client: Client, url: str
) -> None:
    shown = filters(teacher_client, url)

    assert "Own Course One" in shown
    assert "Own Course Two" in shown
    assert "Another Teachers Course" not in shown
    assert "another-teachers-bucket" not in shown
    if url == "/admin/dispatch/transaction/":
        assert "own-bucket-1" in shown


@pytest.mark.usefixtures("two_teachers")
def test_a_superuser_sees_every_teachers_names() -> None:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    shown = filters(client, "/admin/dispatch/transaction/")

    assert "Another Teachers Course" in shown
    assert "another-teachers-bucket" in shown


def test_a_new_challenge_shows_in_the_submissions_filter_at_once(
    teacher: Any, teacher_client: Client
) -> None:
    # The filters' rendering is kept per process (ppipe_site/templatetags/admin_sidebars.py).
    url = "/admin/judging/submission/"
    published_challenge(owner=teacher, slug="first-course")
    assert "first-course" in filters(teacher_client, url)

    published_challenge(owner=teacher, slug="second-course")
    published_challenge(owner=TeacherFactory(), slug="not-mine")
    shown = filters(teacher_client, url)

    assert "first-course" in shown
    assert "second-course" in shown
    assert "not-mine" not in shown
