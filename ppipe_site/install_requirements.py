"""Install the project's Python packages into the virtualenv, fast: `make run`
installs `.[control]` (what running needs), `make test` installs `.[dev]`.

Run by path with the virtualenv's Python (`.venv/bin/python
ppipe_site/install_requirements.py control`), before any dependency exists: it uses
the standard library only, and importing the ppipe_site package would load Celery.

Why uv: pip spent most of a first start installing (measured for issue 22: 78 s
for the 92 packages of `.[dev]`, uv 5-8 s cold; bench/README.md, "First start",
has this repository's figures against a bare pip install in the same run), and
installing uv itself with pip costs a few seconds more.

uv does not read pip's configuration, so the index, extra indexes, find-links,
constraints and certificate pip is configured with on this machine (pip.conf files,
PIP_* variables) are passed to it explicitly: the same sources, the same caps, the
same pinned versions.

Bytecode is compiled after the install, in parallel, but not for the packages'
own test suites (a quarter of the files, 42 % of the compiling CPU measured here):
no ppipe process imports them. Compiling cannot be left to first imports: the
judge's sandboxed processes cannot write into the virtualenv, and the platform's
processes, started together, would each compile the same modules, one file at a
time (measured for issue 22: a first start that compiled only the sandboxes'
libraries up front spent more CPU, and /healthz came later). `make run` leaves
scikit-learn and scipy to the launcher (COMPILED_BY_THE_LAUNCHER): nothing on the
way to /healthz imports them, and their compiling then runs beside the set-up.

If uv cannot be installed or fails, pip installs instead, and says why.
"""

from __future__ import annotations

import ast
import os
import resource
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

UV_VERSION = "0.13.8"
EXTRAS = {"control": ".[control]", "dev": ".[dev]"}
# Compiled by `make run`'s launcher, beside its set-up steps, before the judge worker
# starts (ppipe_site/sandbox_bytecode.py, which compiles them, says why); skipped
# here by `make run` (`control`). `make test` (`dev`) compiles them here.
COMPILED_BY_THE_LAUNCHER = ("sklearn", "scipy")
# Files no ppipe process imports: the packages' own test suites.
NEVER_IMPORTED = r"[/\\]tests?[/\\]"
# pip options that are lists (one flag per value for uv) and the uv flag for each.
LIST_OPTIONS = {
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "constraint": "--constraint",
}
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


@contextmanager
def step(done: str) -> Iterator[None]:
    """Prints `install: <done> (wall and CPU seconds)` after the step: where a first
    start's time goes, read by bench/first_start.py. The CPU is its children's."""
    started = time.monotonic()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    yield
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = usage.ru_utime + usage.ru_stime - cpu
    print(f"install: {done} ({time.monotonic() - started:.1f} s, CPU {spent:.1f} s)", flush=True)


def pip_configuration() -> dict[str, list[str]]:
    """pip's settings as `pip config list` shows them merged from every file and
    PIP_* variable: {'find-links': ['/opt/wheels'], ...}."""
    listing = subprocess.run(
        [*PIP, "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    settings: dict[str, list[str]] = {}
    for line in listing.splitlines():
        key, separator, quoted = line.partition("=")
        if not separator:
            continue
        # `global.find-links`, `install.constraint`, `:env:.cert`: the section does
        # not matter to an install.
        name = key.rsplit(".", 1)[-1]
        try:
            value = ast.literal_eval(quoted)
        except (ValueError, SyntaxError):
            continue
        for item in str(value).split():
            if item not in settings.setdefault(name, []):
                settings[name].append(item)
    return settings


def uv_arguments(settings: dict[str, list[str]]) -> list[str]:
    """pip's sources and caps as uv flags. pip takes each package's best version
    from all indexes together; uv's default takes the first index that has the
    package at all, which fails here (a local index holds older releases), so uv is
    told to do as pip does."""
    arguments = ["--index-strategy", "unsafe-best-match"]
    if settings.get("index-url"):
        arguments += ["--index-url", settings["index-url"][-1]]
    for option, flag in LIST_OPTIONS.items():
        for value in settings.get(option, []):
            arguments += [flag, value]
    if any(value.lower() in ("1", "true", "yes", "on") for value in settings.get("no-index", [])):
        arguments.append("--offline")
    return arguments


def uv_environment(settings: dict[str, list[str]]) -> dict[str, str]:
    env = dict(os.environ)
    if settings.get("cert"):
        # uv trusts its own bundle unless told: pip's certificate file, as pip does.
        env.setdefault("SSL_CERT_FILE", settings["cert"][-1])
    if settings.get("timeout") or settings.get("default-timeout"):
        timeout = (settings.get("timeout") or settings["default-timeout"])[-1]
        env.setdefault("UV_HTTP_TIMEOUT", timeout)
    return env


def uv_program() -> Path | None:
    """uv in the virtualenv, installed with pip at the pinned version if missing."""
    uv = Path(sys.executable).parent / "uv"
    installed = (
        subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=False).stdout
        if uv.exists()
        else ""
    )
    if installed.split()[1:2] == [UV_VERSION]:
        return uv
    with step(f"uv {UV_VERSION} ready"):
        result = subprocess.run([*PIP, "install", "--quiet", f"uv=={UV_VERSION}"], check=False)
    return uv if result.returncode == 0 and uv.exists() else None


def compile_bytecode(extra: str) -> int:
    """Compile the installed packages (uv leaves that undone), their tests aside, and
    for `control` the packages the launcher compiles aside too."""
    site_packages = sysconfig.get_paths()["purelib"]
    skipped = NEVER_IMPORTED
    if extra == "control":
        later = "|".join(COMPILED_BY_THE_LAUNCHER)
        skipped += rf"|site-packages[/\\]({later})[/\\]"
    command = [sys.executable, "-m", "compileall", "-q", "-j", "0", "-x", skipped]
    # Not a failure when a file does not compile (a package may ship a template or
    # Python 2 file): pip's own compiling skips those too; they stay source.
    with step("bytecode compiled"):
        subprocess.run([*command, site_packages], stdout=subprocess.DEVNULL, check=False)
    return 0


def install(extra: str, *, use_uv: bool = True) -> int:
    target = EXTRAS[extra]
    uv = uv_program() if use_uv else None
    if uv is not None:
        settings = pip_configuration()
        command = [str(uv), "pip", "install", "--python", sys.executable]
        command += [*uv_arguments(settings), "--quiet", "-e", target]
        with step(f"{target} installed by uv"):
            result = subprocess.run(command, env=uv_environment(settings), check=False)
        if result.returncode == 0:
            return compile_bytecode(extra)
        print(f"uv could not install {target} (exit code {result.returncode}): using pip instead.")
    elif use_uv:
        print(f"uv {UV_VERSION} could not be installed: using pip instead (slower).")
    with step(f"{target} installed by pip"):
        result = subprocess.run([*PIP, "install", "--quiet", "-e", target], check=False)
    return result.returncode


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in EXTRAS:
        print(f"usage: {sys.argv[0]} {{{'|'.join(EXTRAS)}}}", file=sys.stderr)
        return 2
    # PPIPE_INSTALLER=pip: the plain pip path (a machine where uv misbehaves).
    return install(argv[0], use_uv=os.environ.get("PPIPE_INSTALLER", "uv") != "pip")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
