from __future__ import annotations

from typing import Any

from django import forms


class SubmissionForm(forms.Form):
    file = forms.FileField(
        label="estimator.py or pipeline zip",
        help_text="A Python file with a top-level get_estimator() returning an object "
        "with fit(X, y) and predict(X); or a zip with pipeline.yaml and its Python files.",
        widget=forms.ClearableFileInput(attrs={"accept": ".py,.zip,text/x-python"}),
    )
    configuration = forms.CharField(
        required=False,
        max_length=2000,
        help_text="For a pipeline with alternatives: which to run, e.g. model=forest "
        "(default: the first of each).",
    )
    sweep = forms.BooleanField(
        required=False, help_text="For a pipeline: run every configuration and compare them."
    )
    # Only on a challenge that shares its code (judging/sharing.py).
    parent = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        label="Built on submission #",
        help_text="From the challenge's code sharing date: the shared submission your code "
        "starts from, if any (its author is credited when yours improves the ensemble).",
    )
    sweep_cores = forms.CharField(
        label="sweep core counts",
        required=False,
        max_length=200,
        help_text="With sweep: the core counts to run each configuration on, e.g. 1, 2 "
        "(default: every one the challenge offers).",
    )
    sweep_batch_sizes = forms.CharField(
        label="sweep batch sizes",
        required=False,
        max_length=200,
        help_text="With sweep: the batch sizes to time each configuration at, e.g. 1, 256 "
        "(default: every one the challenge offers).",
    )

    def __init__(
        self,
        *args: Any,
        sharing: bool = True,
        offered_cores: list[int] | None = None,
        offered_batch_sizes: list[int] | None = None,
        **kwargs: Any,
    ) -> None:
        """A challenge that does not share its code shows no parent field, and one
        without a resource sweep no field for one; one with a sweep says what it offers."""
        super().__init__(*args, **kwargs)
        if not sharing:
            del self.fields["parent"]
        for name, offered in (
            ("sweep_cores", offered_cores),
            ("sweep_batch_sizes", offered_batch_sizes),
        ):
            if offered:
                listed = ", ".join(str(value) for value in offered)
                self.fields[name].help_text += f" Offered: {listed}."
            else:
                del self.fields[name]
