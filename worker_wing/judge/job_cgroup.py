"""One kernel cgroup per sandbox (a nursery, each of its boxes): memory, process count and CPU,
enforced and measured outside it.

Outside bubblewrap's PID namespace rusage is empty, and rlimits bind per process (or not
at all for a student mapped back to root). A cgroup holds every process the sandbox
starts however it forks: the kernel refuses forks past pids.max and OOM-kills inside it
at its memory limit, tmpfs pages included. Sandbox cgroups go below the worker's own
cgroup or the operator's PPIPE_CGROUP_ROOT (a cgroup path, as /proc/self/cgroup writes
them): cgroup v2 when memory and pids are available there, else cgroup v1 (memory, pids,
cpuacct; freezer if mounted). Standard library only: it runs on remote workers.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time

_SANDBOXES = "ppipe-sandboxes"
# v2's "no internal processes" rule: a cgroup that enables controllers for its children
# cannot hold processes, so the worker moves into this leaf (as Delegate=yes units do).
_WORKER_LEAF = "ppipe-worker"
_V1_NEEDED = ("memory", "pids", "cpuacct")
_V2_ENABLE = "+memory +pids"
# The CFS period of a confined sandbox: a granted core is this much CPU time per this
# much wall time. Short, so that a batch's latency is not a whole throttled period.
_CPU_PERIOD_US = 20_000
_HINT = (
    "run the judge worker as root with a writable /sys/fs/cgroup (on cgroup v2 under "
    "systemd: Delegate=yes), or set PPIPE_CGROUP_ROOT to a cgroup it may manage"
)


class CgroupUnavailable(RuntimeError):
    """This worker cannot give sandboxes their own cgroup; the message says why and what to do."""


def _read(path: str) -> str:
    with open(path) as file:
        return file.read()


def _write(path: str, value: str) -> None:
    with open(path, "w") as file:
        file.write(value)


def _keyed(path: str) -> dict[str, int]:
    """Flat keyed files (memory.events, pids.events, memory.oom_control, cpu.stat)."""
    return _pairs(_read(path))


def _pairs(text: str) -> dict[str, int]:
    pairs = (line.split() for line in text.splitlines())
    return {pair[0]: int(pair[1]) for pair in pairs if len(pair) == 2}


def _own_directories(root: str) -> dict[str, str]:
    """{v1 controller, or "" for v2: directory of this worker's cgroup, or of root} for each
    mounted hierarchy. A mount whose root is a sub-cgroup (containers) is allowed for."""
    own: dict[str, str] = {}
    for line in _read("/proc/self/cgroup").splitlines():
        _, names, path = line.split(":", 2)
        own.update(dict.fromkeys(names.split(",") if names else [""], root or path))
    found: dict[str, str] = {}
    for line in _read("/proc/self/mountinfo").splitlines():
        mount, fs = (part.split() for part in line.split(" - ", 1))
        options = [""] if fs[0] == "cgroup2" else fs[2].split(",") if fs[0] == "cgroup" else []
        for name in (name for name in options if name in own and name not in found):
            path = own[name]
            if mount[3] != "/" and f"{path}/".startswith(f"{mount[3]}/"):
                path = path[len(mount[3]) :]
            found[name] = os.path.join(mount[4], path.lstrip("/")).rstrip("/")
    return found


def _locate(root: str) -> tuple[int, dict[str, str]]:
    """(version, {controller: directory sandbox cgroups are made in}), or CgroupUnavailable."""
    own = _own_directories(root)
    unified = own.get("", "")
    if os.path.basename(unified) == _WORKER_LEAF:  # moved there by an earlier create()
        unified = os.path.dirname(unified)
    with contextlib.suppress(OSError):
        if unified and {"memory", "pids"} <= set(_read(f"{unified}/cgroup.controllers").split()):
            if not os.access(unified, os.W_OK):
                raise CgroupUnavailable(f"cgroup {unified} is not writable: {_HINT}")
            return 2, dict.fromkeys(("memory", "pids", "cpu"), f"{unified}/{_SANDBOXES}")
    if missing := [name for name in _V1_NEEDED if name not in own]:
        raise CgroupUnavailable(
            "neither cgroup v2 with memory and pids at this worker's cgroup nor cgroup v1 "
            f"{', '.join(missing)} mounted: {_HINT}"
        )
    bases = {name: own[name] for name in (*_V1_NEEDED, "freezer") if name in own}
    # cpu (CFS quota) where mounted and ours: a resource sweep confines a configuration's
    # cores with it; without it, such configurations are not run (and say why).
    if "cpu" in own and os.access(own["cpu"], os.W_OK):
        bases["cpu"] = own["cpu"]
    for directory in bases.values():
        if not os.access(directory, os.W_OK):
            raise CgroupUnavailable(f"cgroup {directory} is missing or not writable: {_HINT}")
    return 1, {name: f"{directory}/{_SANDBOXES}" for name, directory in bases.items()}


def cgroup_problem(root: str = "") -> str:
    """Why sandbox cgroups cannot be made here, in one line, or "" when they can.

    Reads /proc and checks access only (nothing is created), so a worker can call it at
    start-up and cache the answer for its health check."""
    try:
        _locate(root)
    except (CgroupUnavailable, OSError) as error:
        return str(error)
    return ""


def sandbox_cgroup_names(root: str = "") -> set[str]:
    """The names of the sandbox cgroups below this worker's cgroup (or root), in any
    hierarchy; CgroupUnavailable where sandbox cgroups cannot be made."""
    names: set[str] = set()
    for base in set(_locate(root)[1].values()):
        with contextlib.suppress(FileNotFoundError):
            names.update(entry.name for entry in os.scandir(base) if entry.is_dir())
    return names


def _enable_v2_controllers(directory: str) -> None:
    """Give the children of directory memory and pids, first moving its processes into a
    leaf if the kernel refuses with EBUSY (no processes in a cgroup with controllers)."""
    try:
        _write(f"{directory}/cgroup.subtree_control", _V2_ENABLE)
    except OSError as error:
        if error.errno != errno.EBUSY:
            raise
        leaf = f"{directory}/{_WORKER_LEAF}"
        os.makedirs(leaf, exist_ok=True)
        for _ in range(100):  # processes may fork while they are moved
            if not (pids := _read(f"{directory}/cgroup.procs").split()):
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    _write(f"{leaf}/cgroup.procs", pid)
        _write(f"{directory}/cgroup.subtree_control", _V2_ENABLE)


class SandboxCgroup:
    """The cgroup (one directory per v1 controller) of one sandbox, reused job after job:
    start_job() makes its figures per job."""

    def __init__(self, version: int, dirs: dict[str, str]) -> None:
        self.version = version
        self._dirs = dirs
        self._cpu_base = 0.0
        self._oom_base = self._pids_base = self._sampled_peak = 0
        self._peak_fd = -1  # v2 resets memory.peak per open file (Linux 6.12)
        # The files the worker samples every SAMPLE_SECONDS while a job runs, kept open
        # and read again from offset 0 (the kernel renders them anew): an open() of a
        # cgroup file costs more CPU than its read, ~50 samples a second a box.
        self._sampled_fds: dict[str, int] = {}

    @classmethod
    def create(cls, name: str, root: str = "") -> SandboxCgroup:
        """Make the cgroup `name`, or reuse it emptied (left by a crashed worker)."""
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"bad sandbox cgroup name {name!r}")
        try:
            version, bases = _locate(root)
            if version == 2:
                base = bases["memory"]
                _enable_v2_controllers(os.path.dirname(base))
                os.makedirs(base, exist_ok=True)
                _write(f"{base}/cgroup.subtree_control", _V2_ENABLE)
                # Optional (cpu.max, for a resource sweep's cores); not every
                # delegation gives it.
                for directory in (os.path.dirname(base), base):
                    with contextlib.suppress(OSError):
                        _write(f"{directory}/cgroup.subtree_control", "+cpu")
            dirs = {controller: f"{base}/{name}" for controller, base in bases.items()}
            for directory in set(dirs.values()):
                os.makedirs(directory, exist_ok=True)
        except OSError as error:
            raise CgroupUnavailable(f"cannot create sandbox cgroup {name}: {error}") from error
        cgroup = cls(version, dirs)
        cgroup.kill()
        cgroup.start_job()
        return cgroup

    @classmethod
    def existing(cls, name: str, root: str = "") -> SandboxCgroup:
        """The cgroup `name` as it is, created by another worker process (dead or alive):
        nothing is made, nothing killed. Hierarchies it is missing from read as empty."""
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"bad sandbox cgroup name {name!r}")
        version, bases = _locate(root)
        return cls(version, {controller: f"{base}/{name}" for controller, base in bases.items()})

    def changed_at(self) -> float:
        """When its newest directory was last changed (made, on cgroupfs), 0.0 if none is left."""
        times = [0.0]
        for directory in set(self._dirs.values()):
            with contextlib.suppress(FileNotFoundError):
                times.append(os.stat(directory).st_mtime)
        return max(times)

    def _file(self, controller: str, v1: str, v2: str) -> str:
        return f"{self._dirs[controller]}/{v1 if self.version == 1 else v2}"

    def _sampled(self, controller: str, v1: str, v2: str) -> str:
        """A file sampled while a job runs, through its kept descriptor."""
        path = self._file(controller, v1, v2)
        fd = self._sampled_fds.get(path)
        if fd is None:
            fd = self._sampled_fds[path] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        return os.pread(fd, 4096, 0).decode()

    def _close_sampled(self) -> None:
        for fd in self._sampled_fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._sampled_fds.clear()

    def procs_files(self) -> list[str]:
        """Every cgroup.procs a new process writes its pid into before exec-ing the sandbox."""
        return sorted({f"{directory}/cgroup.procs" for directory in self._dirs.values()})

    def add(self, pid: int) -> None:
        """Move a running process (by host pid) into the sandbox, in every hierarchy: what
        it does from then on is the sandbox's, what it did before stays where it was."""
        for procs in self.procs_files():
            _write(procs, str(pid))

    def limit(self, *, memory_bytes: int, pids: int) -> None:
        """Cap memory with no swap (the kernel OOM-kills in the sandbox rather than swap)
        and tasks (threads count too: leave room for BLAS threads)."""
        memory = self._file("memory", "memory.limit_in_bytes", "memory.max")
        if self.version == 1:
            swap = self._file("memory", "memory.memsw.limit_in_bytes", "")
            if has_swap := os.path.exists(swap):  # memsw may never be below the memory limit
                _write(swap, "-1")
            _write(memory, str(memory_bytes))
            if has_swap:
                _write(swap, str(memory_bytes))
            # A v1 child inherits oom_kill_disable: a sandbox must never hang at its limit.
            _write(self._file("memory", "memory.oom_control", ""), "0")
        else:
            _write(memory, str(memory_bytes))
            # Absent without swap accounting; cgroupfs refuses to create files (EACCES).
            if os.path.exists(swap := self._file("memory", "", "memory.swap.max")):
                _write(swap, "0")
            _write(self._file("memory", "", "memory.oom.group"), "1")
        _write(self._file("pids", "pids.max", "pids.max"), str(pids))

    def cpu_limit_problem(self) -> str:
        """Why limit_cpus cannot confine this cgroup, or ""."""
        if self.version == 1 and "cpu" not in self._dirs:
            return "the cgroup v1 cpu controller is not mounted"
        if self.version == 2 and not os.path.exists(self._file("cpu", "", "cpu.max")):
            return "the cgroup v2 cpu controller is not delegated"
        return ""

    def limit_cpus(self, cores: int | None) -> None:
        """At most `cores` CPUs' worth of time per scheduling period for everything in
        the cgroup, however many threads it runs (None: no limit). The kernel enforces
        it: a process granted one core cannot use two, whatever its code does."""
        if self.cpu_limit_problem():
            if cores is None:
                return
            raise CgroupUnavailable(self.cpu_limit_problem())
        # The cgroup competes with the machine's other tasks as ONE scheduling entity:
        # its weight is that of `cores` tasks, so that on a busy machine N granted
        # cores get N tasks' share of it, not one task's.
        weight = cores or 1
        if self.version == 1:
            _write(self._file("cpu", "cpu.cfs_period_us", ""), str(_CPU_PERIOD_US))
            quota = "-1" if cores is None else str(cores * _CPU_PERIOD_US)
            _write(self._file("cpu", "cpu.cfs_quota_us", ""), quota)
            _write(self._file("cpu", "cpu.shares", ""), str(1024 * weight))
        else:
            quota = "max" if cores is None else str(cores * _CPU_PERIOD_US)
            _write(self._file("cpu", "", "cpu.max"), f"{quota} {_CPU_PERIOD_US}")
            _write(self._file("cpu", "", "cpu.weight"), str(min(10_000, 100 * weight)))

    def _oom_count(self) -> int:
        if self.version == 2:
            events = _pairs(self._sampled("memory", "", "memory.events"))
            return sum(events.get(key, 0) for key in ("oom", "oom_kill", "oom_group_kill"))
        counters = _pairs(self._sampled("memory", "memory.oom_control", ""))
        if "oom_kill" in counters:  # Linux >= 4.13; failcnt also counts reclaim at the limit
            return counters["oom_kill"]
        return int(_read(self._file("memory", "memory.failcnt", "")))

    def _pids_max_events(self) -> int:
        return _keyed(self._file("pids", "pids.events", "pids.events")).get("max", 0)

    def _cpu_total(self) -> float:
        if self.version == 1:
            return int(self._sampled("cpuacct", "cpuacct.usage", "")) / 1e9
        return _pairs(self._sampled("cpu", "", "cpu.stat"))["usage_usec"] / 1e6

    def start_job(self) -> None:
        """Mark the start of one job: the figures below are from here on."""
        self._cpu_base = self._cpu_total()
        self._oom_base = self._oom_count()
        self._pids_base = self._pids_max_events()
        self._sampled_peak = 0
        if self.version == 1:
            _write(self._file("memory", "memory.max_usage_in_bytes", ""), "0")
            return
        with contextlib.suppress(OSError):
            if self._peak_fd < 0:
                self._peak_fd = os.open(self._file("memory", "", "memory.peak"), os.O_RDWR)
            os.write(self._peak_fd, b"reset\n")
            return
        if self._peak_fd >= 0:  # before Linux 6.12, or no memory.peak: peak from samples
            os.close(self._peak_fd)
            self._peak_fd = -1

    def cpu_seconds(self) -> float:
        """CPU used by every process of the sandbox since start_job, the dead ones too."""
        return self._cpu_total() - self._cpu_base

    def memory_bytes(self) -> int:
        """Memory charged now (tmpfs pages included); also a sample for the peak."""
        used = int(self._sampled("memory", "memory.usage_in_bytes", "memory.current"))
        self._sampled_peak = max(self._sampled_peak, used)
        return used

    def mapped_file_bytes(self) -> int:
        """File pages (libraries) mapped by its processes and charged to it: pages
        that were already in the page cache stay charged to whoever read them first."""
        stat = _keyed(self._file("memory", "memory.stat", "memory.stat"))
        return stat.get("mapped_file", stat.get("file_mapped", 0))

    def peak_memory_bytes(self) -> int:
        """The highest memory charge since start_job (v2 before Linux 6.12: of the samples)."""
        if self.version == 1:
            return int(_read(self._file("memory", "memory.max_usage_in_bytes", "")))
        if self._peak_fd >= 0:
            return int(os.pread(self._peak_fd, 64, 0))
        return max(self._sampled_peak, self.memory_bytes())

    def out_of_memory(self) -> bool:
        """The kernel OOM-killed (or refused memory) in the sandbox since start_job."""
        return self._oom_count() > self._oom_base

    def pids_refused(self) -> bool:
        """A fork or clone was refused at pids.max since start_job."""
        return self._pids_max_events() > self._pids_base

    def pids(self) -> list[int]:
        """Host pids of the processes in the sandbox."""
        found: set[int] = set()
        for procs in self.procs_files():
            with contextlib.suppress(FileNotFoundError):
                found.update(int(pid) for pid in _read(procs).split())
        return sorted(found)

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL every process in the sandbox; TimeoutError if some survive the timeout.

        Killed orphans stay charged to pids.current until reaped (bubblewrap's PID
        namespace init reaps them)."""
        kill_file = self._file("memory", "", "cgroup.kill")
        if self.version == 2 and os.path.exists(kill_file):
            _write(kill_file, "1")
        deadline = time.monotonic() + timeout
        while True:
            self._freezer("FROZEN", deadline)
            pids = self.pids()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self._freezer("THAWED")  # killed processes die only once thawed
            if not pids:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"processes {pids} survived SIGKILL in {self._dirs}")
            time.sleep(0.01)

    def _freezer(self, state: str, deadline: float = 0.0) -> None:
        """v1 freezer where mounted: frozen, a fork bomb cannot fork between listing and
        kill. Bounded, as dying or D-state tasks can keep it FREEZING."""
        if "freezer" in self._dirs:
            path = f"{self._dirs['freezer']}/freezer.state"
            with contextlib.suppress(FileNotFoundError):
                _write(path, state)
                until = min(deadline, time.monotonic() + 1.0)
                while "FREEZING" in _read(path) and time.monotonic() < until:
                    time.sleep(0.005)

    def remove(self, timeout: float = 10.0) -> None:
        """Kill everything in the sandbox, then delete its cgroup; gone already is fine."""
        self.kill(timeout)
        self._close_sampled()
        if self._peak_fd >= 0:
            os.close(self._peak_fd)
            self._peak_fd = -1
        for directory in set(self._dirs.values()):
            with contextlib.suppress(FileNotFoundError):
                os.rmdir(directory)
