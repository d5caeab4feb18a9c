from __future__ import annotations

from django import forms

from notifications.models import NotificationPreferences


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = NotificationPreferences
        fields = ("submission_results", "releases", "endpoint_outages", "teacher_digest")
        labels = {
            "submission_results": "Submission results",
            "releases": "Releases of data",
            "endpoint_outages": "Endpoint outages",
            "teacher_digest": "Daily digest (teachers)",
        }
