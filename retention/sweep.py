"""The artifact store's side of collection: what it holds, and deleting one file
no row refers to without racing a writer.

The race. A writer stores a file first and commits the row that refers to it
after (judging/services.py stores the code before the submission row exists; a
judge worker stores a run's outputs before the control side records them). A
collector that read the references before that commit would find the file
unreferenced. Three things close it:

1. A file is deleted only if it is older than PPIPE_RETENTION_GRACE_HOURS, and
   storing content that is already there refreshes its time
   (worker_wing/content_store.py `put_bytes`), so a file stored for a row not yet
   committed is young, whether it is new or was stored long ago.
2. The references are read after the runs to collect were marked and committed,
   and the store is walked after that (retention/services.py): a row committed
   later refers only to files stored (touched) within the grace period.
3. Between the collector's check and its delete, a writer may touch the file.
   So the file is first renamed aside (atomic), then its time is read again from
   the renamed file: a touch that came before the rename shows and the file is
   put back; a writer that comes after the rename finds no file, gets
   FileNotFoundError from its touch and writes the file again.

What is left is a writer that stores a file and commits its row more than the
grace period later; the grace period is set well above any upload or judge run.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from worker_wing.content_store import ContentStore

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_SHARD = re.compile(r"^[0-9a-f]{2}$")
ASIDE = ".collecting-"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class StoredFile:
    size: int
    mtime: float


def stored_files(
    store: ContentStore, *, progress: Progress | None = None, every: int = 10000
) -> dict[str, StoredFile]:
    """Every file of the store by digest, with its size and time. A file left aside
    by a collector that died mid-delete is put back first: whether it goes is
    decided again, like any other file."""
    found: dict[str, StoredFile] = {}
    if not store.root.is_dir():
        return found
    for shard in sorted(store.root.iterdir()):
        if not _SHARD.match(shard.name) or not shard.is_dir():
            continue
        for entry in shard.iterdir():
            name = entry.name
            if name.startswith(ASIDE) and _DIGEST.match(name[len(ASIDE) :]):
                _put_back(entry, shard / name[len(ASIDE) :])
                name = name[len(ASIDE) :]
            if not _DIGEST.match(name) or name[:2] != shard.name:
                continue
            try:
                stat = (shard / name).stat()
            except FileNotFoundError:
                continue
            found[name] = StoredFile(stat.st_size, stat.st_mtime)
            if progress is not None and len(found) % every == 0:
                progress(f"read {len(found)} files of the store")
    return found


def files_of(store: ContentStore, digests: set[str]) -> dict[str, StoredFile]:
    """Those of `digests` the store holds (a report on a few runs reads no more)."""
    found: dict[str, StoredFile] = {}
    for digest in digests:
        try:
            stat = store.path_for(digest).stat()
        except (FileNotFoundError, ValueError):
            continue
        found[digest] = StoredFile(stat.st_size, stat.st_mtime)
    return found


def _put_back(aside: Path, path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.replace(aside, path)  # same content whatever is at `path` now


def file_delete(store: ContentStore, digest: str, *, older_than: float) -> int | None:
    """Delete the file if it is still older than `older_than` (a time stamp) once
    renamed aside; its size, or None when it was kept (young, touched, gone)."""
    path = store.path_for(digest)
    aside = path.with_name(ASIDE + digest)
    try:
        if path.stat().st_mtime >= older_than:
            return None
        os.rename(path, aside)
    except FileNotFoundError:
        return None
    try:
        stat = aside.stat()
    except FileNotFoundError:
        return None
    if stat.st_mtime >= older_than:
        _put_back(aside, path)
        return None
    aside.unlink(missing_ok=True)
    return stat.st_size
