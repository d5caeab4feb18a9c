"""The first administrator account, from the environment or generated; the
teachers' group by name."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from foundation.embedded import persistent_secret
from foundation.env import env_optional_str, env_str

# The group whose members may create challenges (its permissions: challenges.services).
TEACHERS_GROUP = "Teachers"


@dataclass(frozen=True)
class AdminAccount:
    user: AbstractUser
    password: str | None  # None when the password came from the environment
    created: bool


def admin_account_ensure() -> AdminAccount:
    """Create the superuser named by PPIPE_ADMIN_USERNAME (default `admin`).

    With PPIPE_ADMIN_PASSWORD set, that password is (re)applied on every start,
    so the environment stays the source of truth. Without it, a password is
    generated once and kept in the var folder, readable only by its owner.
    """
    username = env_str("PPIPE_ADMIN_USERNAME", "admin")
    email = env_str("PPIPE_ADMIN_EMAIL", "")
    given = env_optional_str("PPIPE_ADMIN_PASSWORD")
    password = given or persistent_secret(settings.VAR_DIR, "admin_password", nbytes=12)
    model = get_user_model()
    user, created = model.objects.get_or_create(
        username=username, defaults={"email": email, "is_staff": True, "is_superuser": True}
    )
    if created or given:
        user.set_password(password)
        user.save()
    return AdminAccount(user=user, password=None if given else password, created=created)


def signed_in_user(request: HttpRequest) -> User:
    """The user of a page behind login_required, typed as the concrete model."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Log in first.")
    return user
