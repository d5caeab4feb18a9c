"""Publishing and deleting challenges in the admin, the two irreversible steps.

Publishing asks first: a confirmation page (like Django's delete confirmation)
lists what freezes and what will happen, for the change page's button and the
list's action alike; only the page's "Yes, publish" publishes. Deleting a
published challenge is refused with a sentence saying why and what to do,
where Django would list the related objects the teacher may not delete."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from challenges.datasets import DatasetError
from challenges.models import Challenge
from challenges.publish_preview import PublishPreview, publish_preview
from challenges.services import PublishError, challenge_publish
from challenges.splitting import SplitError

CONFIRMED = "post"  # the confirmation page's field, as in Django's delete confirmation


def deletion_refused(slugs: list[str]) -> str:
    named = ", ".join(f"'{slug}'" for slug in slugs)
    return (
        f"{named} {'is' if len(slugs) == 1 else 'are'} published and cannot be deleted: "
        "students' submissions, releases and grades depend on "
        f"{'it' if len(slugs) == 1 else 'them'}, and publishing cannot be undone. "
        "To end a challenge, set its close date: students can then no longer submit, "
        "and the final ranking is made. Nothing was deleted."
    )


class ChallengePublishingAdmin(admin.ModelAdmin):
    """The publishing and deleting half of the challenge's admin (challenges/admin.py)."""

    publish_confirmation_template = "admin/challenges/challenge/publish_confirmation.html"

    def publish_preview(self, request: HttpRequest, challenge: Challenge) -> PublishPreview:
        """What the confirmation page lists; the site's admin adds the releases."""
        return publish_preview(challenge)

    def _publish(self, request: HttpRequest, challenge: Challenge) -> bool:
        try:
            split = challenge_publish(challenge=challenge)
        except (PublishError, DatasetError, SplitError) as error:
            self.message_user(
                request, f"Challenge '{challenge.slug}' not published: {error}", messages.ERROR
            )
            return False
        self.message_user(
            request, f"Challenge '{challenge.slug}' published: {split}.", messages.SUCCESS
        )
        return True

    def _confirmation(
        self, request: HttpRequest, challenges: list[Challenge], *, cancel_url: str, bulk: bool
    ) -> TemplateResponse:
        drafts = [challenge for challenge in challenges if not challenge.is_published]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Publish? This cannot be undone",
            "previews": [self.publish_preview(request, challenge) for challenge in drafts],
            "already_published": [c for c in challenges if c.is_published],
            "bulk": bulk,
            "selected": [challenge.pk for challenge in challenges],
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "cancel_url": cancel_url,
            "confirmed_field": CONFIRMED,
        }
        return TemplateResponse(request, self.publish_confirmation_template, context)

    @admin.action(
        description="Publish selected challenges (freeze and split the data)",
        permissions=["change"],
    )
    def publish_selected(
        self, request: HttpRequest, queryset: QuerySet[Challenge]
    ) -> HttpResponse | None:
        if not request.POST.get(CONFIRMED):
            changelist = reverse("admin:challenges_challenge_changelist")
            return self._confirmation(request, list(queryset), cancel_url=changelist, bulk=True)
        for challenge in queryset:
            if challenge.is_published:
                continue  # published meanwhile (another tab): nothing to do
            self._publish(request, challenge)
        return None

    def publish_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        challenge = get_object_or_404(self.get_queryset(request), pk=object_id)
        change_page = reverse("admin:challenges_challenge_change", args=[challenge.pk])
        if not self.has_change_permission(request, challenge):
            self.message_user(request, "You may not publish this challenge.", messages.ERROR)
            return HttpResponseRedirect(change_page)
        if request.method == "POST" and request.POST.get(CONFIRMED):
            self._publish(request, challenge)
            return HttpResponseRedirect(change_page)
        if challenge.is_published:
            self.message_user(request, f"'{challenge.slug}' is already published.")
            return HttpResponseRedirect(change_page)
        return self._confirmation(request, [challenge], cancel_url=change_page, bulk=False)

    # --- deleting -----------------------------------------------------------
    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        challenge = self.get_object(request, unquote(object_id))
        if challenge is not None and challenge.is_published:
            self.message_user(request, deletion_refused([challenge.slug]), messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:challenges_challenge_change", args=[challenge.pk])
            )
        return super().delete_view(request, object_id, extra_context)

    @admin.action(permissions=["delete"], description="Delete selected challenges")
    def delete_selected(
        self, request: HttpRequest, queryset: QuerySet[Challenge]
    ) -> HttpResponse | None:
        published = [challenge.slug for challenge in queryset if challenge.is_published]
        if published:
            # All or nothing: a teacher who meant to delete drafts unselects the others.
            self.message_user(request, deletion_refused(published), messages.ERROR)
            return None
        return django_delete_selected(self, request, queryset)
