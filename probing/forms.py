from __future__ import annotations

from django import forms

from probing.models import Protocol


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="Where your model answers, e.g. https://my-model.example.org "
        "(the protocol's path is added when missing).",
    )
    protocol = forms.ChoiceField(choices=Protocol.choices)
    model_name = forms.CharField(
        required=False,
        max_length=200,
        help_text="Only for the v2 protocol: /v2/models/{name}/infer.",
    )
    auth_header = forms.CharField(
        required=False,
        max_length=2000,
        label="Auth header",
        widget=forms.PasswordInput(render_value=False),
        help_text='Sent with every probe, as "Name: value". Kept secret and never shown; '
        "leave blank to keep the current one.",
    )
    remove_auth_header = forms.BooleanField(required=False, label="Remove the auth header")
