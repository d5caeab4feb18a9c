"""`make run` as root hands var to the service user (ppipe_site/service_user.py):
root's files and folders become its, shared through its group; what it could have
planted (links) is never handed over; a folder on its way that it may not enter
is opened to it alone. The whole run as that user is tests/test_run_command.py."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ppipe_site.service_user import (
    ServiceAccount,
    blocked_folders,
    let_enter,
    service_account,
    share_var_dir,
)
from worker_wing.content_store import ContentStore

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="handing files over needs root")


@pytest.fixture
def account(tmp_path: Path) -> ServiceAccount:
    found = service_account(tmp_path / "var")
    assert found is not None
    return found


@pytest.fixture
def shared_umask() -> Iterator[None]:
    previous = os.umask(0o002)
    yield
    os.umask(previous)


def test_roots_files_in_var_become_the_service_users_and_folders_the_groups(
    tmp_path: Path, account: ServiceAccount
) -> None:
    var = tmp_path / "var"
    (var / "artifacts" / "ab").mkdir(parents=True, mode=0o755)
    secret = var / "secret_key"
    secret.write_text("s")
    secret.chmod(0o600)
    result = var / "artifacts" / "ab" / "result"
    result.write_text("r")

    share_var_dir(var, account, database=var / "ppipe.sqlite3", stores=[var / "media"])

    for path in (secret, result, var / "ppipe.sqlite3"):
        assert (path.stat().st_uid, path.stat().st_gid) == (account.uid, account.gid)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600  # its own, not the group's
    for folder in (var, var / "artifacts", var / "artifacts" / "ab", var / "media", account.home):
        info = folder.stat()
        assert (info.st_uid, info.st_gid) == (0, account.gid), folder
        assert info.st_mode & stat.S_ISGID, folder
        assert info.st_mode & stat.S_IRWXG == stat.S_IRWXG, folder
    # Root's folders in var cannot be swapped for links by the service user.
    assert var.stat().st_mode & stat.S_ISVTX
    assert not (var / "artifacts").stat().st_mode & stat.S_ISVTX  # the collector deletes


def test_a_store_configured_outside_var_is_shared_as_well(
    tmp_path: Path, account: ServiceAccount
) -> None:
    store = tmp_path / "srv" / "artifacts"
    (store / "ab").mkdir(parents=True)
    (store / "ab" / "input").write_text("i")

    share_var_dir(tmp_path / "var", account, database=None, stores=[store])

    assert (store / "ab" / "input").stat().st_uid == account.uid
    for folder in (store, store / "ab"):
        assert folder.stat().st_gid == account.gid, folder
        assert folder.stat().st_mode & stat.S_ISGID, folder


def test_links_in_var_are_never_followed_nor_handed_over(
    tmp_path: Path, account: ServiceAccount
) -> None:
    var = tmp_path / "var"
    var.mkdir()
    outside = tmp_path / "shadow"
    outside.write_text("root's")
    outside_folder = tmp_path / "etc"
    outside_folder.mkdir()
    (var / "symlink").symlink_to(outside)
    (var / "folder-link").symlink_to(outside_folder)
    os.link(outside, var / "hardlink")

    share_var_dir(var, account, database=None)

    for path in (outside, outside_folder):
        assert path.stat().st_uid == 0
    assert os.lstat(var / "symlink").st_uid == 0
    assert not outside_folder.stat().st_mode & stat.S_ISGID


def test_a_folder_on_the_way_closed_to_the_service_user_is_opened_to_it_alone(
    account: ServiceAccount,
) -> None:
    # As root's home is (a pyenv Python below it); not below tmp_path, which
    # pytest keeps closed as well.
    closed = Path(tempfile.mkdtemp(prefix="ppipe-closed-"))  # 0700
    try:
        (closed / "python").mkdir(mode=0o755)
        assert blocked_folders(account, [closed / "python"]) == [closed]
        let_enter(account, [closed / "python"])
        assert blocked_folders(account, [closed / "python"]) == []
        assert stat.S_IMODE(closed.stat().st_mode) & 0o007 == 0  # others gain nothing
    finally:
        shutil.rmtree(closed)


def test_a_stored_file_is_the_groups_and_no_one_elses(tmp_path: Path, shared_umask: None) -> None:
    store = ContentStore(tmp_path / "artifacts")
    digest = store.put_bytes(b"judge's predictions")
    assert stat.S_IMODE(store.path_for(digest).stat().st_mode) == 0o660
