from __future__ import annotations

from typing import Any

from django import forms

from grades.marks import FORMULA
from grades.models import COMPONENTS, SCALING_FIELDS, GradeWeights, ScalingKind

WEIGHTS_HELP = (
    "Each weight is 0 or more; only their ratios matter (1 and 1 is half and half, as "
    "is 3 and 3). " + FORMULA
)
WEIGHT_FIELDS = (*(key for key, _ in COMPONENTS), "out_of")
# Fields a post may leave out or blank (older scripts and pages): the row's value
# (for a new row, the model's default) stands, rather than an error.
KEPT_WHEN_EMPTY = tuple(
    name for name in SCALING_FIELDS if name.endswith(("_scaling", "_tolerance"))
)


class GradeWeightsForm(forms.ModelForm):
    """The weights and the scaling; the scaling's cross-field rules (absolute needs
    both values, in the right order) are GradeWeights.clean's, run on the instance."""

    class Meta:
        model = GradeWeights
        fields = (*WEIGHT_FIELDS, *SCALING_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, label in COMPONENTS:
            self.fields[key].label = f"Weight: {label}"
            self.fields[key].widget.attrs.update({"min": 0})
        for name in (*WEIGHT_FIELDS, *SCALING_FIELDS):
            field = self.fields[name]
            if isinstance(field, forms.FloatField):
                field.widget.attrs.update({"step": "any", "size": 6})
        for name in KEPT_WHEN_EMPTY:
            self.fields[name].required = False
            field = self.fields[name]
            if isinstance(field, forms.ChoiceField):
                # No empty choice in the menu: a page always sends one of the two.
                field.choices = ScalingKind.choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in KEPT_WHEN_EMPTY:
            if cleaned.get(name) in (None, ""):
                cleaned[name] = getattr(self.instance, name)
        weights = [cleaned[key] for key, _ in COMPONENTS if cleaned.get(key) is not None]
        if len(weights) == len(COMPONENTS) and sum(weights) <= 0:
            raise forms.ValidationError("Give at least one component a weight above 0.")
        return cleaned

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in WEIGHT_FIELDS]

    def scaling_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in SCALING_FIELDS]
