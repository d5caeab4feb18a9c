"""A content store is written by root (the judge under `make run`) in folders the
service user may write too: a link planted in it never leads a write, or a
refreshed time, out of the store."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from worker_wing.content_store import ContentStore

DATA = b"predictions"
DIGEST = hashlib.sha256(DATA).hexdigest()


def test_a_linked_digest_folder_is_refused_and_nothing_lands_where_it_points(
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    store = ContentStore(tmp_path / "artifacts")
    store.root.mkdir()
    (store.root / DIGEST[:2]).symlink_to(elsewhere)

    with pytest.raises(OSError, match=r"Not a directory|Too many levels of symbolic links"):
        store.put_bytes(DATA)
    assert list(elsewhere.iterdir()) == []


def test_a_linked_file_gets_no_time_of_what_it_points_at(tmp_path: Path) -> None:
    outside = tmp_path / "shadow"
    outside.write_text("root's")
    os.utime(outside, (0, 0))
    store = ContentStore(tmp_path / "artifacts")
    (store.root / DIGEST[:2]).mkdir(parents=True)
    store.path_for(DIGEST).symlink_to(outside)

    store.put_bytes(DATA)
    assert outside.stat().st_mtime == 0


def test_stored_bytes_read_back(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "artifacts")
    assert store.read_bytes(store.put_bytes(DATA)) == DATA
    assert store.put_bytes(DATA) == DIGEST  # twice: harmless
