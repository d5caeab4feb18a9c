from __future__ import annotations

from django import forms


class SubmissionForm(forms.Form):
    file = forms.FileField(
        label="estimator.py",
        help_text="A Python file with a top-level get_estimator() returning an object "
        "with fit(X, y) and predict(X).",
        widget=forms.ClearableFileInput(attrs={"accept": ".py,text/x-python"}),
    )
