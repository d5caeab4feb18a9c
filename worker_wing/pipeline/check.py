"""The upload check of a pipeline submission (a zip), one check for either kind of
upload, and the judge's extraction of a pipeline zip.

The web process never parses the zip, pipeline.yaml or the Python files itself:
worker_wing/pipeline/archive.py does that in a short-lived child (`python -I -S`,
with CPU, memory and file-size limits and a wall timeout) and answers in JSON.
Only that small, plain answer is checked here, with worker_wing/pipeline/spec.py.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from worker_wing.pipeline.archive import (
    MAX_UNCOMPRESSED_BYTES,
    ArchiveRejected,
    archive_listing,
    open_archive,
    read_archive_files,
)
from worker_wing.pipeline.code_check import estimator_source_check
from worker_wing.pipeline.spec import (
    PipelineRejected,
    PipelineSpec,
    PythonModuleFacts,
    estimator_pipeline,
    pipeline_spec_from_document,
    python_file_problems,
)

_ARCHIVE_SCRIPT = Path(__file__).with_name("archive.py")
# Wall time for the child; its CPU and memory limits are set inside it.
_CHECK_SECONDS = 20


def _yaml_package_folder() -> str:
    """Where PyYAML is installed, found without importing it: this process parses no YAML."""
    spec = importlib.util.find_spec("yaml")
    if spec is None or spec.origin is None:
        raise RuntimeError("PyYAML is not installed; the pipeline upload check needs it")
    return str(Path(spec.origin).parent)


def _archive_answer(content: bytes) -> dict[str, Any]:
    # -B: the child's file-size limit is zero, so writing a .pyc would kill it.
    command = [
        sys.executable,
        "-I",
        "-S",
        "-B",
        str(_ARCHIVE_SCRIPT),
        _yaml_package_folder(),
    ]
    try:
        completed = subprocess.run(
            command, input=content, capture_output=True, timeout=_CHECK_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise PipelineRejected(
            ["the zip could not be checked in time: it is too large or too complex to read"]
        ) from None
    try:
        answer = json.loads(completed.stdout)
    except ValueError:
        answer = None
    if completed.returncode != 0 or not isinstance(answer, dict):
        raise PipelineRejected(
            [
                "the zip could not be checked: "
                "it is too large or too complex to read within the limits"
            ]
        )
    return answer


def _python_modules(answer: dict[str, Any]) -> dict[str, PythonModuleFacts]:
    return {
        name: PythonModuleFacts(
            defined_names=frozenset(facts.get("names", ())),
            star_import=bool(facts.get("star_import")),
            problem=facts.get("problem"),
        )
        for name, facts in answer.get("python", {}).items()
    }


def pipeline_upload_check(content: bytes) -> PipelineSpec:
    """The checked spec of an uploaded pipeline zip, or PipelineRejected listing every problem.

    PipelineRejected is a worker_wing.pipeline.code_check.SubmissionRejected, so an upload
    form or API that handles estimator.py rejections handles these the same way.
    """
    if not content.strip():
        raise PipelineRejected(
            ["the file is empty: upload a zip holding pipeline.yaml and your Python files"]
        )
    if len(content) > MAX_UNCOMPRESSED_BYTES:
        raise PipelineRejected(
            [f"the zip is over {MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB; upload code, not data"]
        )
    answer = _archive_answer(content)
    errors = [str(error) for error in answer.get("errors", [])]
    python_modules = _python_modules(answer)
    if "document" not in answer:
        raise PipelineRejected(errors + python_file_problems(python_modules))
    try:
        spec = pipeline_spec_from_document(answer["document"], python_modules=python_modules)
    except PipelineRejected as rejected:
        errors += rejected.errors
    if errors:
        raise PipelineRejected(errors)
    return spec


def submission_pipeline_check(
    content: bytes, *, filename: str, max_source_bytes: int
) -> PipelineSpec:
    """Check either kind of upload: a .zip is a pipeline, anything else a plain estimator.py.

    An estimator.py keeps its own check (worker_wing.pipeline.code_check) and becomes the
    one-step pipeline of `estimator_pipeline()`.
    """
    if filename.lower().endswith(".zip"):
        if len(content) > max_source_bytes:
            raise PipelineRejected(
                [
                    f"the zip is over the limit of {max_source_bytes // 1024} KB: "
                    "upload code and pipeline.yaml, not data or models"
                ]
            )
        return pipeline_upload_check(content)
    estimator_source_check(content, max_bytes=max_source_bytes)
    return estimator_pipeline()


def _write_new_file(root: int, parts: list[str], data: bytes) -> None:
    """Create parts[-1] under `root`, never following a link nor replacing anything."""
    opened: list[int] = []
    folder = root
    try:
        for part in parts[:-1]:
            # It may exist from an earlier file; O_NOFOLLOW below refuses a link there.
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=folder)
            folder = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
            opened.append(folder)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with os.fdopen(os.open(parts[-1], flags, 0o644, dir_fd=folder), "wb") as out:
            out.write(data)
    finally:
        for descriptor in opened:
            os.close(descriptor)


def extract_pipeline_archive(content: bytes, target: Path) -> list[str]:
    """Write the zip's regular files under `target` (an existing, empty folder); their names.

    For the judge worker. The same rules as the upload check: a zip breaking any
    of them raises PipelineRejected and writes nothing. Files are created with
    O_EXCL | O_NOFOLLOW relative to folder descriptors, so no link is ever
    followed and nothing already there is replaced.
    """
    try:
        archive = open_archive(content)
        listing = archive_listing(archive)
        if listing.problems:
            raise ArchiveRejected(listing.problems)
        contents = read_archive_files(archive, listing)
    except ArchiveRejected as rejected:
        raise PipelineRejected(rejected.errors) from None
    root = os.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for name, data in contents.items():
            _write_new_file(root, name.split("/"), data)
    finally:
        os.close(root)
    return sorted(contents)
