"""The preferences page: which mails a person gets. Thin: the same service as
the API."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from challenges.models import Challenge
from foundation.accounts import signed_in_user
from notifications.forms import PreferencesForm
from notifications.selectors import preferences_of
from notifications.services import preferences_update


@login_required
def preferences_page(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = PreferencesForm(request.POST or None, instance=preferences_of(user.pk))
    if request.method == "POST" and form.is_valid():
        preferences_update(
            user_id=user.pk,
            changes={name: bool(form.cleaned_data[name]) for name in PreferencesForm.Meta.fields},
        )
        messages.success(request, "Your notification preferences are saved.")
        return redirect("notification-preferences")
    teaches = Challenge.objects.filter(owner_id=user.pk).exists()
    if not teaches:
        form.fields["teacher_digest"].widget = form.fields["teacher_digest"].hidden_widget()
    context = {"form": form, "email": user.email, "teaches": teaches}
    return render(request, "notifications/preferences.html", context)
