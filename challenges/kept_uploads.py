"""A dataset chosen on the challenge form, kept while the page comes back with errors.

A browser never refills a file input: without this, a teacher who mistyped a
date on the 15-field form would have to find and send the dataset again, each
time. The file is kept in a private folder (beside the hidden labels, which
only the control side reads) under its sha256, and the page carries a signed,
expiring token naming it; the next submit without a new file brings it back.
Nothing a browser sends can name another file: the token is signed by the
server, and the bytes are checked against the digest it names. The token also
names the account that uploaded the file: a token is a bearer of the file, and
one seen by another teacher (a shared screen, a copied page) must not let them
attach someone else's dataset to their own challenge.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.utils.html import format_html
from django.utils.safestring import SafeString

# Long enough for a teacher to fix a form after lunch; a kept file older than this
# can no longer be named by any valid token, so it is pruned.
KEEP_FOR = timedelta(hours=24)
# The hidden input beside the file input: "<field name>_kept".
KEPT_INPUT_SUFFIX = "_kept"
SALT = "ppipe.challenges.kept-upload"
_DIGEST_LENGTH = 64
# Stands for "no uploader named" in a token, unequal to any account id and to None.
_NO_UPLOADER = object()


class KeptUploadError(ValueError):
    """The token cannot bring a file back; the message says what to do."""


@dataclass(frozen=True)
class KeptDataset:
    token: str
    name: str
    rows: int


class KeptFileInput(forms.FileInput):
    """A file input that shows, and carries in a hidden input, the file kept from
    the previous submit. `keep` is set by the form, per form instance: it stores the
    file only when the page is really shown again, i.e. when something was invalid."""

    keep: Callable[[], KeptDataset | None] | None = None

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        html = super().render(name, value, attrs, renderer)
        kept = self.keep() if self.keep is not None else None
        if kept is None:
            return html
        return html + format_html(
            '<input type="hidden" name="{}" value="{}">'
            '<p class="help kept-dataset" id="kept-dataset">Dataset kept: {} ({} rows) '
            "— choose a file only to replace it.</p>",
            name + KEPT_INPUT_SUFFIX,
            kept.token,
            kept.name,
            kept.rows,
        )


def kept_uploads_dir() -> Path:
    return Path(settings.PPIPE_PRIVATE_DIR) / "kept-uploads"


def kept_upload_keep(upload: UploadedFile, *, uploader_id: int) -> str:
    """Store the upload and return the token that brings it back, for the
    account `uploader_id` only."""
    folder = kept_uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder)
    digest = hashlib.sha256()
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in upload.chunks():
                digest.update(chunk)
                handle.write(chunk)
        # Atomic: a concurrent restore never reads half a file. The same bytes kept
        # twice land on the same name, and the rename refreshes their age.
        os.replace(temporary, folder / digest.hexdigest())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    upload.seek(0)
    name = PurePath(upload.name or "dataset.csv").name
    return signing.dumps(
        {"sha256": digest.hexdigest(), "name": name, "uploader": uploader_id}, salt=SALT
    )


def kept_upload_restore(token: str, *, uploader_id: int | None) -> UploadedFile:
    """The file a token names, as if it had been uploaded again; only for the
    account that uploaded it."""
    payload = _payload(token)
    if payload["uploader"] != uploader_id:
        raise KeptUploadError(
            "The kept dataset was not uploaded from your account, so it cannot be used "
            "here: choose the file again."
        )
    path = kept_uploads_dir() / payload["sha256"]
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise KeptUploadError(
            "The dataset kept from your previous attempt is no longer stored: "
            "choose the file again."
        ) from None
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    if digest.hexdigest() != payload["sha256"]:
        handle.close()
        raise KeptUploadError(
            "The dataset kept from your previous attempt was damaged on disk: "
            "choose the file again."
        )
    handle.seek(0)
    return UploadedFile(
        file=handle,
        name=payload["name"],
        content_type="application/octet-stream",
        size=path.stat().st_size,
    )


def _payload(token: str) -> dict[str, Any]:
    try:
        payload = signing.loads(token, salt=SALT, max_age=KEEP_FOR)
    except signing.SignatureExpired:
        hours = int(KEEP_FOR.total_seconds() // 3600)
        raise KeptUploadError(
            f"The dataset kept from your previous attempt has expired (kept {hours} hours): "
            "choose the file again."
        ) from None
    except signing.BadSignature:
        raise KeptUploadError(
            "The reference to the kept dataset is not valid (it was altered): "
            "choose the file again."
        ) from None
    digest = str(payload.get("sha256", ""))
    if len(digest) != _DIGEST_LENGTH or any(c not in "0123456789abcdef" for c in digest):
        # Signed by this server, so never seen; checked because it becomes a path.
        raise KeptUploadError("The reference to the kept dataset is not valid.")
    uploader = payload.get("uploader")
    return {
        "sha256": digest,
        "name": PurePath(str(payload.get("name", ""))).name,
        # A token from before tokens named their uploader has none: it matches no one.
        "uploader": uploader if isinstance(uploader, int) else _NO_UPLOADER,
    }


def _prune(folder: Path) -> None:
    oldest = time.time() - KEEP_FOR.total_seconds()
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < oldest:
                path.unlink()
        except FileNotFoundError:
            pass  # pruned by another web process at the same moment
