from __future__ import annotations

from django import forms


class AnswerForm(forms.Form):
    answer = forms.CharField(max_length=200)
    # Answers are final: set once the student confirmed (htmx sends it after the
    # browser's dialog, the page without JavaScript after its confirmation step).
    confirmed = forms.BooleanField(required=False)
