"""Pipeline zips: the rules an archive must follow, and the upload check's child process.

Imported, it gives worker_wing/pipeline/check.py the zip rules, which the judge's
extraction applies too. Run as a script (`python -I -S -B archive.py
<PyYAML's package folder>`, the zip on stdin) it is the upload check's child:
under CPU, memory and file-size limits it reads the zip, parses pipeline.yaml
and every .py file, and prints one JSON answer. The parent never parses any of
it itself: a hostile file can crash or stall a parser, and YAML aliases can grow
a tiny file into gigabytes.

`-I` keeps the repository off sys.path, so this file imports only the standard
library at the top and, in the child, loads PyYAML from the one folder its
parent names (not the whole site-packages, which `-S` left out on purpose).
"""

from __future__ import annotations

import ast
import importlib.util
import io
import json
import os
import re
import resource
import stat
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

SPEC_FILENAME = "pipeline.yaml"
MAX_FILES = 200
# Folders and skipped macOS metadata count here: it bounds the central directory.
MAX_ENTRIES = 1000
MAX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024
MAX_PYTHON_FILE_BYTES = 1024 * 1024
MAX_SPEC_BYTES = 64 * 1024
MAX_SPEC_DEPTH = 12
MAX_SPEC_EVENTS = 20_000
_MB = 1024 * 1024
_READ_CHUNK = 64 * 1024
# Every zip tool writes these two; accepting more would only widen what hostile bytes reach.
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# Finder adds resource forks here, binary files named ._*.py: skipped, not refused.
_SKIPPED_PREFIX = "__MACOSX/"
_CHILD_CPU_SECONDS = 10
_CHILD_MEMORY_BYTES = 512 * 1024 * 1024


class ArchiveRejected(ValueError):
    """The zip breaks a rule; `errors` holds one sentence per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class ArchiveListing:
    """The regular files passing the per-entry rules (by normalised name), and the problems."""

    files: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # False when the archive as a whole is over a cap: then nothing is decompressed.
    within_caps: bool = True


def _shown(name: str) -> str:
    return f"'{name}'" if len(name) <= 60 else f"'{name[:57]}...'"


def open_archive(content: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ArchiveRejected(
            [
                "the upload is not a zip file: "
                "upload a .zip holding pipeline.yaml and your Python files"
            ]
        ) from None


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    name, shown = info.filename, _shown(info.filename)
    if "\\" in name or "\x00" in name:
        return f"the zip entry {shown} has a backslash or NUL in its name; use / between folders"
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return (
            f"the zip entry {shown} is an absolute path; names must be relative to the zip's root"
        )
    if ".." in name.split("/"):
        return f"the zip entry {shown} points outside the zip (.. is not accepted in names)"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"the zip entry {shown} is a symbolic link; links are not accepted"
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return f"the zip entry {shown} is not a regular file"
    if info.is_dir() or stat.S_ISDIR(mode):
        return None
    if info.flag_bits & 0x1:
        return f"the zip entry {shown} is encrypted; upload a zip without a password"
    if info.compress_type not in _METHODS:
        return (
            f"the zip entry {shown} uses an unusual compression method; "
            "use a standard (deflate) zip"
        )
    return None


def archive_listing(archive: zipfile.ZipFile) -> ArchiveListing:
    """Check every entry by its declared metadata, before anything is decompressed."""
    listing = ArchiveListing()
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        listing.problems.append(
            f"the zip holds {len(entries)} entries; at most {MAX_FILES} files "
            f"(and {MAX_ENTRIES} entries in all) are accepted"
        )
        listing.within_caps = False
        return listing
    declared_bytes = 0
    for info in entries:
        if info.filename.startswith(_SKIPPED_PREFIX):
            continue
        problem = _entry_problem(info)
        if problem is not None:
            listing.problems.append(problem)
            continue
        name = "/".join(part for part in info.filename.split("/") if part not in ("", "."))
        if not name or info.is_dir() or stat.S_ISDIR(info.external_attr >> 16):
            continue
        if name in listing.files:
            listing.problems.append(f"the zip holds {_shown(name)} twice")
            continue
        listing.files[name] = info
        declared_bytes += info.file_size
    folders = {
        "/".join(parts[:depth])
        for parts in (name.split("/") for name in listing.files)
        for depth in range(1, len(parts))
    }
    for clash in sorted(folders & listing.files.keys()):
        listing.problems.append(f"the zip holds both a file and a folder named {_shown(clash)}")
    if len(listing.files) > MAX_FILES:
        listing.problems.append(
            f"the zip holds {len(listing.files)} files; at most {MAX_FILES} are accepted"
        )
        listing.within_caps = False
    if declared_bytes > MAX_UNCOMPRESSED_BYTES:
        listing.problems.append(
            f"the zip's files add up to {declared_bytes / _MB:.1f} MB uncompressed; "
            f"at most {MAX_UNCOMPRESSED_BYTES // _MB} MB is accepted"
        )
        listing.within_caps = False
    return listing


def read_archive_files(archive: zipfile.ZipFile, listing: ArchiveListing) -> dict[str, bytes]:
    """The listed files' bytes, counting what really comes out: declared sizes can lie."""
    budget = MAX_UNCOMPRESSED_BYTES
    contents: dict[str, bytes] = {}
    problems: list[str] = []
    for name, info in listing.files.items():
        chunks: list[bytes] = []
        try:
            with archive.open(info) as entry:
                while chunk := entry.read(_READ_CHUNK):
                    budget -= len(chunk)
                    if budget < 0:
                        raise ArchiveRejected(
                            [
                                "the zip's files expand to more than "
                                f"{MAX_UNCOMPRESSED_BYTES // _MB} MB (more than their declared "
                                "sizes); it is refused"
                            ]
                        )
                    chunks.append(chunk)
        except ArchiveRejected:
            raise
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            EOFError,
            RuntimeError,
            ValueError,
        ) as error:
            problems.append(
                f"the zip entry {_shown(name)} is damaged or its declared size is wrong ({error})"
            )
            continue
        contents[name] = b"".join(chunks)
    if problems:
        raise ArchiveRejected(problems)
    return contents


# --- The child process: everything below parses the student's files. ---


class _SpecRefused(Exception):
    pass


def _screen_yaml_events(text: str, yaml: ModuleType) -> None:
    """Refuse anchors, aliases and deep nesting from the event stream, before anything is built.

    Aliases are how "billion laughs" grows a 1 KB file into gigabytes once built
    or serialised; the composer also recurses once per nesting level.
    """
    depth = 0
    for count, event in enumerate(yaml.parse(text, Loader=yaml.SafeLoader), 1):
        line = event.start_mark.line + 1
        if count > MAX_SPEC_EVENTS:
            raise _SpecRefused(
                f"pipeline.yaml has more than {MAX_SPEC_EVENTS} values; it is refused"
            )
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _SpecRefused(
                f"pipeline.yaml line {line}: anchors and aliases (&name, *name) are not "
                "accepted; write each value out"
            )
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_SPEC_DEPTH:
                raise _SpecRefused(f"pipeline.yaml line {line}: the values are nested too deeply")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _plain(value: object) -> object:
    """JSON-ready data; dates, binary and other YAML scalars come back as text."""
    if isinstance(value, dict):
        return {
            key if isinstance(key, str) else str(key): _plain(item) for key, item in value.items()
        }
    if isinstance(value, (list, tuple, set)):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _parsed_spec(raw: bytes, yaml: ModuleType) -> tuple[object, str | None]:
    if len(raw) > MAX_SPEC_BYTES:
        return None, f"pipeline.yaml is over {MAX_SPEC_BYTES // 1024} KB; it should list steps only"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "pipeline.yaml is not UTF-8 text"
    try:
        _screen_yaml_events(text, yaml)
        document = yaml.load(text, Loader=yaml.SafeLoader)
    except _SpecRefused as refused:
        return None, str(refused)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = error.problem or error.context
        if error.context and problem.startswith("but "):  # "expected one document, but found..."
            problem = f"{error.context}, {problem}"
        if isinstance(error, yaml.constructor.ConstructorError):
            problem += " (only plain YAML is accepted: mappings, lists, text and numbers)"
        return None, f"pipeline.yaml{where}: {problem}"
    except yaml.YAMLError as error:
        return None, f"pipeline.yaml is not valid YAML: {error}"
    except (RecursionError, MemoryError):
        return None, "pipeline.yaml is too large or too deeply nested to read"
    except ValueError as error:  # an integer past Python's 4,300 digits, for one
        reason = str(error).split(";")[0]
        return None, f"pipeline.yaml holds a value that cannot be read ({reason})"
    return _plain(document), None


def _mentioned_callables(document: object) -> set[str]:
    """The identifiers after a colon in any text of the document: the names worth reporting."""
    if isinstance(document, dict):
        return set().union(*(_mentioned_callables(item) for item in document.values()))
    if isinstance(document, list):
        return set().union(*(_mentioned_callables(item) for item in document))
    if isinstance(document, str) and ":" in document:
        return {document.rsplit(":", 1)[1].strip()}
    return set()


def _bound_names(target: ast.expr) -> set[str]:
    """`a = ...` and `a, *b = ...` bind names; `obj.a = ...` and `d[k] = ...` do not."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_bound_names(item) for item in target.elts))
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    return set()


def _top_level_names(body: list[ast.stmt]) -> tuple[set[str], bool]:
    """Names bound at module scope (also inside top-level if/try/with), and whether `import *`."""
    names: set[str] = set()
    star = False
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names |= _bound_names(target)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            names |= _bound_names(node.target)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    star = True  # it may bind anything: the callable is given the benefit
                else:
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            blocks = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])]
            blocks += [handler.body for handler in getattr(node, "handlers", [])]
            for block in blocks:
                inner, inner_star = _top_level_names(block)
                names |= inner
                star = star or inner_star
    return names, star


def _python_facts(source: bytes, wanted: set[str]) -> dict[str, Any]:
    if len(source) > MAX_PYTHON_FILE_BYTES:
        return {
            "problem": (
                f"is over {MAX_PYTHON_FILE_BYTES // _MB} MB; Python files hold code, not data"
            )
        }
    try:
        source.decode("utf-8")
    except UnicodeDecodeError:
        return {"problem": "is not UTF-8 text"}
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return {"problem": f"does not parse: line {error.lineno}: {error.msg}"}
    except (ValueError, RecursionError, MemoryError) as error:
        return {"problem": f"cannot be parsed ({type(error).__name__})"}
    names, star = _top_level_names(tree.body)
    return {"names": sorted(names & wanted), "star_import": star}


def _no_spec_problem(names: list[str]) -> str:
    nested = [name for name in names if name.endswith("/" + SPEC_FILENAME)]
    if nested:
        return (
            f"the zip has no {SPEC_FILENAME} at its root (it has {_shown(nested[0])}): "
            "zip the folder's contents, not the folder itself"
        )
    return f"the zip has no {SPEC_FILENAME} at its root"


def archive_facts(content: bytes, yaml: ModuleType) -> dict[str, Any]:
    """The child's answer: errors, files, the plain document (when it parsed), Python facts."""
    try:
        archive = open_archive(content)
    except ArchiveRejected as rejected:
        return {"errors": rejected.errors}
    listing = archive_listing(archive)
    errors = list(listing.problems)
    if not listing.within_caps:
        return {"errors": errors}
    try:
        contents = read_archive_files(archive, listing)
    except ArchiveRejected as rejected:
        return {"errors": errors + rejected.errors}
    answer: dict[str, Any] = {"errors": errors, "files": sorted(contents)}
    wanted: set[str] = set()
    raw_spec = contents.get(SPEC_FILENAME)
    if raw_spec is None:
        errors.append(_no_spec_problem(sorted(contents)))
    else:
        document, problem = _parsed_spec(raw_spec, yaml)
        if problem is not None:
            errors.append(problem)
        else:
            answer["document"] = document
            wanted = _mentioned_callables(document)
    answer["python"] = {
        name: _python_facts(data, wanted) for name, data in contents.items() if name.endswith(".py")
    }
    return answer


def _load_yaml(package_folder: str) -> ModuleType:
    """PyYAML from its own folder only; the rest of site-packages stays out of reach."""
    spec = importlib.util.spec_from_file_location(
        "yaml",
        os.path.join(package_folder, "__init__.py"),
        submodule_search_locations=[package_folder],
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"no PyYAML in {package_folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["yaml"] = module
    spec.loader.exec_module(module)
    return module


def _child_main(argv: list[str]) -> int:
    # Limits first, then the untrusted bytes. A zero file-size limit: the check writes nothing.
    for limit, value in (
        (resource.RLIMIT_CPU, _CHILD_CPU_SECONDS),
        (resource.RLIMIT_AS, _CHILD_MEMORY_BYTES),
        (resource.RLIMIT_FSIZE, 0),
    ):
        resource.setrlimit(limit, (value, value))
    yaml = _load_yaml(argv[1])
    answer = archive_facts(sys.stdin.buffer.read(), yaml)
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv))
