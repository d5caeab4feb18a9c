"""The base of every form that edits a challenge's settings: the core's
(challenges/forms.py) and each section's (challenges/sections.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models


class SettingsForm(forms.ModelForm):
    """Fields named in `defaulted` were added after the public API's field list was
    fixed: a script that leaves them out gets the model's default, not an error."""

    defaulted: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.defaulted:
            if name in self.fields:
                self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for name in self.defaulted:
            # Its own validation passed the empty value: the model's default stands in.
            if name in self.fields and name in cleaned and cleaned[name] is None:
                field = self._meta.model._meta.get_field(name)
                assert isinstance(field, models.Field)
                cleaned[name] = field.get_default()
        return cleaned

    def value(self, name: str) -> Any:
        """A field's new value, or the stored one when the field is not on the form."""
        if name in self.fields:
            return self.cleaned_data.get(name)
        return getattr(self.instance, name)
