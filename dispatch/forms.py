"""The destination form, shared by the admin and the API: options are checked
the way rclone will see them, and secrets are write-only."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from django import forms
from django.conf import settings

from dispatch.models import Destination
from worker_wing.release.destination_addresses import DestinationUnreachable, checked_remote
from worker_wing.release.rclone import rclone_binary
from worker_wing.release.remotes import (
    OBSCURED_OPTIONS,
    SECRET_OPTIONS,
    OptionValue,
    Remote,
    RemoteError,
    check_local_root,
    check_option,
    check_option_name,
    check_option_value,
    check_path,
)


def obscure(value: str) -> str:
    """rclone's reversible obscuring, which its sftp/ftp/webdav backends expect for passwords."""
    completed = subprocess.run(
        [rclone_binary(), "obscure", "-"],
        input=value,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return completed.stdout.strip()


def parse_options(text: str) -> dict[str, OptionValue]:
    """`name=value` lines (or a JSON object) into rclone options, checked for their
    shape; a JSON true/false or number stays one until the backend says what the
    option takes (`_check_for_backend`)."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise RemoteError(f"the options are not valid JSON: {error}") from None
        items = list(raw.items()) if isinstance(raw, dict) else []
    else:
        items = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep:
                raise RemoteError(f"line {number} is not name=value: {line.strip()!r}")
            items.append((name.strip(), value.strip()))
    return {
        check_option_name(str(name)): check_option_value(str(name), value) for name, value in items
    }


class DestinationForm(forms.ModelForm):
    options_text = forms.CharField(
        label="Options",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text="rclone options, one name=value per line "
        "(e.g. provider=AWS, region=eu-west-1, host=…), or a JSON object, where "
        "switches may be true/false and counts, sizes (KiB) and durations (s) numbers.",
    )
    secrets_text = forms.CharField(
        label="Secret options",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "autocomplete": "off"}),
        help_text=(
            "Write-only: name=value per line (secret_access_key=…, pass=…). "
            "Stored values are never shown; "
            "leave empty to keep them, or enter a name with an empty value to remove it."
        ),
    )

    class Meta:
        model = Destination
        fields = ["name", "type", "path"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["options_text"].initial = "\n".join(
                f"{name}={value}" for name, value in sorted(self.instance.options.items())
            )
            stored = sorted(self.instance.secret_options)
            if stored:
                self.fields["secrets_text"].help_text += f" Stored now: {', '.join(stored)}."

    def clean_path(self) -> str:
        try:
            return check_path(self.cleaned_data.get("path", ""), what="path")
        except RemoteError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self) -> dict[str, Any]:
        super().clean()
        backend = self.cleaned_data.get("type")
        if backend == "local" and "path" in self.cleaned_data:
            try:
                check_local_root(self.cleaned_data["path"], settings.PPIPE_LOCAL_DESTINATION_ROOTS)
            except RemoteError as error:
                self.add_error("path", str(error))
        if backend and "options_text" in self.cleaned_data and "secrets_text" in self.cleaned_data:
            self._check_for_backend(backend)
        return self.cleaned_data

    def _check_for_backend(self, backend: str) -> None:
        """Every option against the backend's allowlist, and its hosts against the
        address policy (where they resolve here; the worker checks again)."""
        for field, shown in (("options_text", True), ("secrets_text", False)):
            texts = {}
            for name, value in self.cleaned_data[field].items():
                if field == "secrets_text" and value == "":  # a stored secret to remove
                    texts[name] = ""
                    continue
                try:
                    texts[name] = check_option(backend, name, value)
                except RemoteError as error:
                    message = str(error) if shown else str(error).replace(str(value), "***")
                    self.add_error(field, message)
            if not self.has_error(field):
                # What is stored is the text rclone reads ("true", "5"), as a job carries it.
                self.cleaned_data[field] = texts
        if self.errors:
            return
        options = self.cleaned_data["options_text"]
        try:
            checked_remote(
                Remote(type=backend, options=options), settings.PPIPE_DESTINATION_ALLOWED_NETWORKS
            )
        except RemoteError as error:
            self.add_error("options_text", str(error))
        except DestinationUnreachable:
            pass  # not resolvable from here: the worker resolves it and says

    def clean_options_text(self) -> dict[str, OptionValue]:
        try:
            options = parse_options(self.cleaned_data.get("options_text", ""))
        except RemoteError as error:
            raise forms.ValidationError(str(error)) from None
        secret = sorted(set(options) & SECRET_OPTIONS)
        if secret:
            raise forms.ValidationError(
                f"{', '.join(secret)}: secret, so put it under Secret options."
            )
        return options

    def clean_secrets_text(self) -> dict[str, OptionValue]:
        text = self.cleaned_data.get("secrets_text", "")
        # Empty values mean "remove": allow them through the parser.
        try:
            return parse_options(text)
        except RemoteError as error:
            raise forms.ValidationError(str(error).replace(text, "***")) from None

    def save(self, commit: bool = True) -> Destination:
        destination = super().save(commit=False)
        destination.options = self.cleaned_data["options_text"]
        secrets = dict(destination.secret_options or {})
        for name, value in self.cleaned_data["secrets_text"].items():
            if value == "":
                secrets.pop(name, None)
            else:
                secrets[name] = obscure(value) if name in OBSCURED_OPTIONS else value
        destination.secret_options = secrets
        if commit:
            destination.save()
        return destination


def destinations_by_name(owner: Any, *, many: bool) -> forms.Field:
    """A form field that takes the teacher's own destinations by name, as the API's
    callers give them (the admin offers them by id)."""
    unknown = "No destination named %(value)r: create it first (POST /api/destinations/)."
    if many:
        return forms.ModelMultipleChoiceField(
            queryset=Destination.objects.filter(owner=owner),
            to_field_name="name",
            required=False,
            error_messages={"invalid_choice": unknown},
        )
    return forms.ModelChoiceField(
        queryset=Destination.objects.filter(owner=owner),
        to_field_name="name",
        required=False,
        error_messages={"invalid_choice": unknown},
    )
