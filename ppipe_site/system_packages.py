"""Debian packages the platform needs beyond Python: installed by `make run` (those
running needs) and `make test` (all of them).

bubblewrap sandboxes student code: running needs it, and acl's setfacl lets the
services' user enter a folder root keeps closed (ppipe_site/service_user.py).
Only the tests need the others: chromium drives the page tests; docker-compose checks
deploy/docker-compose.yml (its `config` needs no engine); faketime sets a host's
clock off in the fault suite. Leaving them to `make test` keeps a first `make run`
short (chromium alone brings a few hundred MB). As root on
Debian they are installed with apt-get when missing; anywhere else the missing
ones are named with the command that installs them, and set-up goes on (the
judge refuses to run student code without a sandbox, and says so). Set-up also
creates, as root, the unprivileged users that judge workers run student code as,
that release workers run rclone as, and that `make run` runs its services as.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys

# Debian package -> a program it installs, for running and for the tests.
RUN_PACKAGES = {"bubblewrap": "bwrap", "acl": "setfacl"}
TEST_PACKAGES = {
    **RUN_PACKAGES,
    "chromium": "chromium",
    "docker-compose": "docker-compose",
    "faketime": "faketime",
}
PACKAGES = {"run": RUN_PACKAGES, "test": TEST_PACKAGES}


def missing_packages(purpose: str = "test") -> list[str]:
    return [
        package for package, program in PACKAGES[purpose].items() if shutil.which(program) is None
    ]


# Host users that untrusted work runs as on a worker started as root, each a
# system user with no home, no shell and no files: student code in a judge's
# sandbox (worker_wing/judge/sandbox.py), and the rclone that talks to a teacher's
# destination host (worker_wing/release/rclone.py).
SANDBOX_USER = "ppipe-sandbox"
RCLONE_USER = "ppipe-release"
# The user `make run` started as root runs its services as (ppipe_site/service_user.py).
SERVICE_USER = "ppipe"


def ensure_user(name: str, role: str) -> None:
    """Create a system user as root when it is missing; otherwise say how."""
    try:
        pwd.getpwnam(name)
        return
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    command = ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent"]
    command += ["--shell", "/usr/sbin/nologin", name]
    if os.geteuid() != 0 or useradd is None:
        print(f"Workers started as root need the user {name} ({role}).")
        print(f"Create it with: sudo useradd {' '.join(command)}")
        return
    print(f"Creating the user {name} ({role}) …", flush=True)
    subprocess.run([useradd, *command], check=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in PACKAGES:
        print(f"usage: python -m ppipe_site.system_packages {{{'|'.join(PACKAGES)}}}")
        return 2
    ensure_user(SANDBOX_USER, "student code in judge sandboxes")
    ensure_user(RCLONE_USER, "uploads to teachers' destinations")
    ensure_user(SERVICE_USER, "the platform's services when `make run` starts as root")
    missing = missing_packages(argv[0])
    if not missing:
        return 0
    apt_get = shutil.which("apt-get")
    install = ["install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() != 0 or apt_get is None:
        print(f"Missing system packages: {' '.join(missing)}.")
        print(f"Install them with: sudo apt-get {' '.join(install)}")
        return 0
    print(f"Installing system packages: {' '.join(missing)} …", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt_get, "update", "-qq"], check=True, env=env)
    subprocess.run([apt_get, *install, "-qq"], check=True, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
