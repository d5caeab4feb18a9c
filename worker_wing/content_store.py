"""Content-addressed file stores: a file's name is the sha256 of its bytes.

Two stores share this code: the artifact store, which job executors on any
machine may read, and the private store (hidden labels), which only the control
side reads (foundation/content_store.py says where each is). Writes are atomic
(temporary file, then rename), so a reader never sees half a file, and writing
the same content twice is harmless.

Writing content that is already there refreshes the file's modification time:
the control side's collector (retention/sweep.py) deletes an unreferenced file
only when it is older than a grace period, so content just stored again for a
row not yet committed is never taken from under it.

A stored file is readable and writable for its group (within the process's umask),
never for other users: under `make run` as root, the judge worker (root) and the
control side (the user ppipe) share one store through its group
(ppipe_site/service_user.py), and the private store's labels stay theirs alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import secrets
from pathlib import Path

import pandas as pd

_DIGEST_LENGTH = 64
# Before the umask (0640 under the usual 022): the group's, no one else's.
_FILE_MODE = 0o660
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class ContentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, digest: str) -> Path:
        if len(digest) != _DIGEST_LENGTH or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a sha256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest

    def put_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        try:
            # Already stored: only its time is refreshed (a link's own, never what it
            # points at). If the collector moved it aside meanwhile
            # (FileNotFoundError), it is written again below.
            os.utime(target, follow_symlinks=False)
            return digest
        except FileNotFoundError:
            pass
        except OSError:
            # A store this process may read but not touch (another user's files):
            # the content is there, which is all a writer needs.
            return digest
        self.root.mkdir(parents=True, exist_ok=True)
        root = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            with contextlib.suppress(FileExistsError):
                os.mkdir(target.parent.name, dir_fd=root)
            # Not through a link: under `make run` as root the judge writes here,
            # in folders the service user may write as well
            # (ppipe_site/service_user.py), and must not be led out of the store.
            folder = os.open(target.parent.name, _FOLDER_FLAGS, dir_fd=root)
        finally:
            os.close(root)
        try:
            _write_atomically(folder, target.name, data)
        finally:
            os.close(folder)
        return digest

    def put_frame(self, frame: pd.DataFrame) -> str:
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return self.put_bytes(buffer.getvalue())

    def read_bytes(self, digest: str) -> bytes:
        data = self.path_for(digest).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"stored content {digest} is corrupt: its bytes no longer match")
        return data

    def read_frame(self, digest: str) -> pd.DataFrame:
        return pd.read_parquet(io.BytesIO(self.read_bytes(digest)))


def _write_atomically(folder: int, name: str, data: bytes) -> None:
    temporary = f".incoming-{secrets.token_hex(8)}"
    fd = os.open(temporary, _NEW_FILE_FLAGS, _FILE_MODE, dir_fd=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=folder)
        raise
