"""Hosts on one machine, for the fault suite (tests/fault/run.py) and the
two-host benchmark (bench/judge_throughput.py): network namespaces joined by
veth pairs to a bridge, each with its own address, and the servers of a
broker-and-database host (PostgreSQL and Redis of their own, never the
machine's). This machine itself is reachable from every host at the bridge's
address (`Lab.gateway`), and runs programs with `run_here`. Needs root (CI
runs as root).

    with Lab(["broker", "judge1", "judge2", "dispatch", "probe"]) as lab:
        lab.start_postgres(); lab.start_redis()
        lab.run("judge1", ["python", "-m", "worker_node.command", "--queues", "judge"], env)
        lab.cut("judge1"); lab.heal("judge1")

Every process is stopped by its PID; namespaces, links and data are removed
on exit.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType


def _pg_bin() -> Path:
    """Debian's PostgreSQL server binaries, the newest installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        raise RuntimeError("the fault suite needs Debian's postgresql package (initdb, postgres)")
    return found[-1]


def _initdb(data: Path) -> None:
    data.mkdir()
    shutil.chown(data, "postgres")
    subprocess.run(
        [
            shutil.which("runuser") or "/usr/sbin/runuser",
            "-u",
            "postgres",
            "--",
            str(_pg_bin() / "initdb"),
            "-D",
            str(data),
            "--auth=trust",
            "-U",
            "postgres",
        ],
        check=True,
        capture_output=True,
    )


def postgres_template(directory: Path, prepare: Callable[[str], None]) -> Path:
    """A PostgreSQL data folder made once for many labs (Lab.start_postgres's
    `template`): initdb, a server on a socket in the folder only (no network,
    no namespace), `prepare(url)` (it makes the databases, say migrated ones),
    then a clean shutdown. A lab's copy then starts in a fraction of a second,
    where initdb and Django's migrations took about 10 s of CPU a lab."""
    data = directory / "pgdata"
    _initdb(data)
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    server = subprocess.Popen(
        [
            runuser,
            "-u",
            "postgres",
            "--",
            str(_pg_bin() / "postgres"),
            "-D",
            str(data),
            "-c",
            "listen_addresses=",
            "-c",
            f"unix_socket_directories={data}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        url = f"postgresql://postgres@/postgres?host={data}"
        Lab._wait_ready(url)
        prepare(url)
    finally:
        # SIGINT: PostgreSQL's fast shutdown, which leaves the data consistent.
        _signal_group(server, signal.SIGINT)
        server.wait(timeout=60)
    return data


def _clock_off(offset: str) -> dict[str, str]:
    """The environment that puts a program's wall clock `offset` off. The library
    is preloaded directly: the `faketime` wrapper shares state through /dev/shm,
    which the judge's sandbox does not have. Monotonic time is left alone, as on
    a real host whose wall clock is wrong (moving it stalls timed waits); the
    shim in clock_shim/ mends the one call that then breaks."""
    found = sorted(Path("/usr/lib").glob("*/faketime/libfaketimeMT.so.1"))
    if not found:
        raise RuntimeError("a host with its clock off needs Debian's faketime package")
    return {
        "LD_PRELOAD": str(found[0]),
        "FAKETIME": offset,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "PYTHONPATH": str(Path(__file__).parent / "fault" / "clock_shim"),
    }


IP = shutil.which("ip") or "/usr/sbin/ip"
NSENTER = shutil.which("nsenter") or "/usr/bin/nsenter"
ROOT_ADDRESS = 254
HERE = "this-machine"  # the name of this machine's programs in a lab's records
# Labs' ids: lab n has the subnet 10.n.0.0/24, the bridge ppbr<n>, the veths
# pp<n>v<i> and the namespaces pp<n>-<host>.
LAB_IDS = range(100, 200)
STOP_SECONDS = 10  # for a lab's programs to be gone after a signal, before SIGKILL


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Signal the group a program leads while it is still that program's: its
    leader not reaped yet, or members left (a group's number is not reused while
    any process is in it)."""
    if process.returncode is None or process.pid in _live_groups():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)


def _live_groups() -> set[int]:
    """The process groups with a process still running (zombies aside: this
    machine's init may never reap an orphan's)."""
    groups = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # After the command's closing parenthesis: state, parent, group, …
            state, _parent, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if state != "Z":
            groups.add(int(group))
    return groups


def _ip(*args: str, namespace: str | None = None) -> None:
    prefix = [IP, "netns", "exec", namespace] if namespace else []
    subprocess.run([*prefix, IP, *args], check=True, capture_output=True)


class Lab:
    def __init__(self, hosts: Sequence[str]) -> None:
        self.id = 0  # claimed on entering: see _claim_id
        self.hosts = list(hosts)
        self.work = Path(tempfile.mkdtemp(prefix="ppipe-lab-"))
        self.work.chmod(0o755)  # PostgreSQL's data lives below, run by its own user
        self.processes: dict[str, list[subprocess.Popen[bytes]]] = {}
        self.logs: dict[int, Path] = {}  # by PID

    # --- network --------------------------------------------------------------

    def namespace(self, host: str) -> str:
        return f"pp{self.id}-{host}"

    def address(self, host: str) -> str:
        return f"10.{self.id}.0.{self.hosts.index(host) + 1}"

    def _veth(self, host: str) -> str:
        return f"pp{self.id}v{self.hosts.index(host)}"

    @property
    def bridge(self) -> str:
        return f"ppbr{self.id}"

    @property
    def gateway(self) -> str:
        """This machine's address on the lab's bridge, as the hosts reach it."""
        return f"10.{self.id}.0.{ROOT_ADDRESS}"

    def _claim_id(self) -> None:
        """Take an id no other lab on this machine holds: its subnet, bridge, veths
        and namespaces are all named by it, so labs running at the same time (this
        suite's, or another test run's) never share any of them. Creating the
        bridge is the claim: the kernel refuses a second link of the same name, so
        two labs choosing at once cannot both win."""
        taken_addresses = subprocess.run(
            [IP, "-4", "-o", "addr", "show"], check=True, capture_output=True, text=True
        ).stdout
        links = subprocess.run(
            [IP, "-o", "link", "show"], check=True, capture_output=True, text=True
        ).stdout
        namespaces = subprocess.run(
            [IP, "netns", "list"], check=True, capture_output=True, text=True
        ).stdout
        for candidate in random.sample(LAB_IDS, len(LAB_IDS)):
            # A subnet the machine already uses, or links or namespaces a lab left.
            if (
                f" 10.{candidate}." in taken_addresses
                or f" pp{candidate}v" in links
                or f"pp{candidate}-" in namespaces
            ):
                continue
            created = subprocess.run(
                [IP, "link", "add", f"ppbr{candidate}", "type", "bridge"],
                check=False,
                capture_output=True,
                text=True,
            )
            if created.returncode == 0:
                self.id = candidate
                return
            if "exists" not in created.stderr:
                raise RuntimeError(f"cannot create a bridge: {created.stderr.strip()}")
        raise RuntimeError(f"every lab id ({LAB_IDS.start}-{LAB_IDS.stop - 1}) is in use")

    def __enter__(self) -> Lab:
        self._claim_id()
        try:
            _ip("addr", "add", f"10.{self.id}.0.{ROOT_ADDRESS}/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            for host in self.hosts:
                namespace, veth = self.namespace(host), self._veth(host)
                _ip("netns", "add", namespace)
                _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
                _ip("link", "set", veth, "master", self.bridge)
                _ip("link", "set", veth, "up")
                _ip("addr", "add", f"{self.address(host)}/24", "dev", "eth0", namespace=namespace)
                _ip("link", "set", "eth0", "up", namespace=namespace)
                _ip("link", "set", "lo", "up", namespace=namespace)
        except BaseException:
            self.__exit__(None, None, None)  # what was made so far
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        started = [process for processes in self.processes.values() for process in processes]
        servers = [getattr(self, "postgres", None), getattr(self, "redis", None)]
        # Everything is accounted for by now: the platform's programs are killed
        # outright (a Celery worker's warm shutdown takes seconds, and can hang on
        # a broker going away at the same time), then the servers are stopped
        # cleanly (PostgreSQL removes its shared memory).
        self._stop([process for process in started if process not in servers], signal.SIGKILL)
        self._stop([process for process in started if process in servers], signal.SIGTERM)
        for host in self.hosts:
            # The veth pair first: a namespace dies in the background once
            # unreferenced, and with it its end of the pair, which would keep the
            # name from the next lab of this id.
            subprocess.run(
                [IP, "link", "delete", self._veth(host)], check=False, capture_output=True
            )
            subprocess.run(
                [IP, "netns", "delete", self.namespace(host)], check=False, capture_output=True
            )
        # The bridge last: while it exists, no other lab takes this id.
        subprocess.run([IP, "link", "delete", self.bridge], check=False, capture_output=True)
        if not os.environ.get("PPIPE_LAB_KEEP"):
            shutil.rmtree(self.work, ignore_errors=True)

    def cut(self, host: str) -> None:
        """The host's cable is pulled: nothing in or out, its processes keep running."""
        _ip("link", "set", self._veth(host), "down")

    def heal(self, host: str) -> None:
        _ip("link", "set", self._veth(host), "up")

    # --- processes ------------------------------------------------------------

    def run(
        self,
        host: str,
        argv: Sequence[str],
        env: dict[str, str],
        *,
        user: str | None = None,
        clock: str = "",
    ) -> subprocess.Popen[bytes]:
        """Start a program on a host, in a process group of its own; output to a log.
        `clock` ("+5m", "-5m") sets the program's wall clock off by that much, as on
        a host whose time is not synchronised (libfaketime)."""
        # Only the network is the host's own: `ip netns exec` would also mount a
        # fresh /sys, hiding the cgroups a judge worker gives its sandboxes, which
        # a real judge host has.
        prefix = [NSENTER, f"--net=/run/netns/{self.namespace(host)}"]
        return self._start(host, prefix, argv, env, user=user, clock=clock)

    def run_here(self, argv: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start a program on this machine, outside every namespace (it reaches the
        hosts over the bridge); stopped with the lab's programs."""
        return self._start(HERE, [], argv, env)

    def _start(
        self,
        host: str,
        prefix: list[str],
        argv: Sequence[str],
        env: dict[str, str],
        *,
        user: str | None = None,
        clock: str = "",
    ) -> subprocess.Popen[bytes]:
        path = self.work / f"{host}-{len(self.processes.get(host, []))}.log"
        log = path.open("ab")
        if user:
            prefix += [shutil.which("runuser") or "/usr/sbin/runuser", "-u", user, "--"]
        if clock:
            env = {**env, **_clock_off(clock)}
        process = subprocess.Popen(
            [*prefix, *argv], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.setdefault(host, []).append(process)
        self.logs[process.pid] = path
        return process

    def log(self, process: subprocess.Popen[bytes]) -> str:
        """What a program started by run() has written so far."""
        return self.logs[process.pid].read_text(errors="replace")

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process's whole group, as when a machine dies."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    @staticmethod
    def _stop(processes: list[subprocess.Popen[bytes]], signum: int) -> None:
        """Signal these programs' process groups at once, wait until no process of
        any is left, then SIGKILL what is. Waiting for the groups, not only for the
        programs started: a worker outlives the shell that restarts it, and one
        stuck would hold the lab's namespaces and CPU for good."""
        for process in processes:
            _signal_group(process, signum)
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline:
            for process in processes:
                process.poll()  # reaped, or a zombie would count as left
            if not {process.pid for process in processes} & _live_groups():
                break
            time.sleep(0.1)
        for process in processes:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=10)

    # --- the broker-and-database host ---------------------------------------------

    def start_postgres(self, host: str = "broker", *, template: Path | None = None) -> str:
        """A PostgreSQL of the lab's own on the host; returns its URL (trust auth).
        With a `template` (postgres_template()), its data is a copy of the template's:
        databases already made, no initdb."""
        data = self.work / "pgdata"
        if template is None:
            _initdb(data)
        else:
            # -a: the postgres user's files, with their modes, as the server wants them.
            cp = shutil.which("cp") or "/bin/cp"
            subprocess.run([cp, "-a", str(template), str(data)], check=True, capture_output=True)
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all 10.{self.id}.0.0/24 trust\n")
        self._run_postgres(host)
        return f"postgresql://postgres@{self.address(host)}:5432/postgres"

    def _run_postgres(self, host: str) -> None:
        data = self.work / "pgdata"
        self.postgres = self.run(
            host,
            [
                str(_pg_bin() / "postgres"),
                "-D",
                str(data),
                "-c",
                f"listen_addresses={self.address(host)}",
                "-c",
                f"unix_socket_directories={data}",
                "-p",
                "5432",
            ],
            env={"PATH": "/usr/bin:/bin"},
            user="postgres",
        )
        self._wait_port(self.address(host), 5432, "PostgreSQL")
        self._wait_ready(f"postgresql://postgres@{self.address(host)}:5432/postgres")

    def crash_postgres(self) -> None:
        """SIGKILL PostgreSQL and its backends, as when its machine dies."""
        self.kill(self.postgres)

    def resume_postgres(self, host: str = "broker") -> None:
        """Start it again on the same data: it recovers from its write-ahead log."""
        self._run_postgres(host)

    def restart_redis(self, down_seconds: float, host: str = "broker") -> None:
        """SIGKILL Redis, wait, start it again on its append-only file."""
        self.kill(self.redis)
        time.sleep(down_seconds)
        self.start_redis(host)

    def start_redis(self, host: str = "broker") -> str:
        from tests.servers import VENV_BIN

        binary = shutil.which("redis-server", path=str(VENV_BIN)) or "redis-server"
        directory = self.work / "redis"
        directory.mkdir(exist_ok=True)
        self.redis = self.run(
            host,
            [
                binary,
                "--bind",
                self.address(host),
                "--port",
                "6379",
                "--dir",
                str(directory),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--protected-mode",
                "no",
            ],
            env={"PATH": "/usr/bin:/bin"},
        )
        self._wait_port(self.address(host), 6379, "Redis")
        return f"redis://{self.address(host)}:6379/0"

    @staticmethod
    def _wait_ready(url: str, timeout: float = 60) -> None:
        """Until PostgreSQL accepts sessions: after a crash it listens while it
        replays its log ("the database system is starting up")."""
        import psycopg

        from tests.servers import patience

        deadline = time.monotonic() + timeout * patience()
        while True:
            try:
                psycopg.connect(url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    @staticmethod
    def _wait_port(address: str, port: int, what: str, timeout: float = 30) -> None:
        import socket

        from tests.servers import patience

        timeout *= patience()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                sock.settimeout(1)
                if sock.connect_ex((address, port)) == 0:
                    return
            time.sleep(0.2)
        raise TimeoutError(f"{what} did not listen on {address}:{port} within {timeout:.0f} s")
