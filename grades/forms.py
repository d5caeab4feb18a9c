from __future__ import annotations

from typing import Any

from django import forms

from grades.marks import FORMULA
from grades.models import COMPONENTS, GradeWeights

WEIGHTS_HELP = (
    "Each weight is 0 or more; only their ratios matter (1 and 1 is half and half, as "
    "is 3 and 3). " + FORMULA
)


class GradeWeightsForm(forms.ModelForm):
    class Meta:
        model = GradeWeights
        fields = (*(key for key, _ in COMPONENTS), "out_of")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label in COMPONENTS:
            self.fields[key].label = f"Weight: {label}"
            self.fields[key].widget.attrs.update({"min": 0, "step": "any", "size": 6})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        weights = [cleaned[key] for key, _ in COMPONENTS if cleaned.get(key) is not None]
        if len(weights) == len(COMPONENTS) and sum(weights) <= 0:
            raise forms.ValidationError("Give at least one component a weight above 0.")
        return cleaned
