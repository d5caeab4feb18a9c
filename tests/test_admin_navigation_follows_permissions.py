"""The admin's navigation sidebar, kept per process for each user and permission
set (foundation/admin_site.py), lists only the models its user may see, and
follows a permission as soon as it is granted or taken away."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SUBMISSIONS = 'href="/admin/judging/submission/"'
CHALLENGES = 'href="/admin/challenges/challenge/"'


def sidebar(client: Client) -> str:
    page = client.get("/admin/judging/submission/")
    assert page.status_code == 200
    html = page.content.decode()
    start = html.index('id="nav-sidebar"')
    return html[start : html.index("</nav>", start)]


def test_the_sidebar_shows_only_what_its_user_may_see_at_once(teacher_client: Client) -> None:
    assert CHALLENGES in sidebar(teacher_client)  # a teacher's list, kept first
    assistant = UserFactory(is_staff=True)
    assistant.user_permissions.add(Permission.objects.get(codename="view_submission"))
    client = Client()
    client.force_login(assistant)

    shown = sidebar(client)
    assert SUBMISSIONS in shown
    assert CHALLENGES not in shown

    view_challenges = Permission.objects.get(codename="view_challenge")
    assistant.user_permissions.add(view_challenges)
    assert CHALLENGES in sidebar(client)

    assistant.user_permissions.remove(view_challenges)
    assert CHALLENGES not in sidebar(client)
