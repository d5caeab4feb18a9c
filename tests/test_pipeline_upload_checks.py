"""A pipeline zip is checked at upload, in a limited child process: the zip, pipeline.yaml,
the Python files it names and the graph of steps; every problem is reported, each
naming its step. The judge's extraction applies the same zip rules."""

from __future__ import annotations

import io
import os
import resource
import struct
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import patience
from worker_wing.pipeline.check import (
    extract_pipeline_archive,
    pipeline_upload_check,
    submission_pipeline_check,
)
from worker_wing.pipeline.code_check import SubmissionRejected
from worker_wing.pipeline.spec import PipelineRejected

FEATURES_PY = "class Featurizer:\n    pass\n\n\ndef make_featurizer():\n    return Featurizer()\n"
MODEL_PY = (
    "from sklearn.ensemble import RandomForestClassifier as forest\n"
    "from sklearn.linear_model import LogisticRegression\n\n\n"
    "def logistic():\n    return LogisticRegression()\n"
)


def featurize_step(**changes: Any) -> dict[str, Any]:
    step = {
        "name": "featurize",
        "run": "features.py:make_featurizer",
        "inputs": ["X"],
        "outputs": ["features"],
    }
    return {**step, **changes}


def model_step(**changes: Any) -> dict[str, Any]:
    step = {
        "name": "model",
        "inputs": ["features", "y"],
        "outputs": ["predictions"],
        "alternatives": {"logistic": "model.py:logistic", "forest": "model.py:forest"},
    }
    return {**step, **changes}


def pipeline_zip(
    steps: list[Any] | None = None,
    *,
    spec: str | None = None,
    files: Mapping[str, str | bytes] | None = None,
) -> bytes:
    """A zip with pipeline.yaml (from `steps`, or the raw `spec` text) and the Python files."""
    if spec is None:
        chosen = [featurize_step(), model_step()] if steps is None else steps
        spec = yaml.safe_dump({"steps": chosen}, sort_keys=False)
    contents: dict[str, str | bytes] = {"features.py": FEATURES_PY, "model.py": MODEL_PY}
    contents.update({"pipeline.yaml": spec, **(files or {})})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in contents.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def raw_zip(entries: dict[str | zipfile.ZipInfo, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, content in entries.items():
            archive.writestr(entry, content)
    return buffer.getvalue()


def refusal(content: bytes) -> PipelineRejected:
    with pytest.raises(PipelineRejected) as caught:
        pipeline_upload_check(content)
    return caught.value


def test_a_valid_two_step_pipeline_with_alternatives_is_accepted() -> None:
    spec = pipeline_upload_check(pipeline_zip())

    assert [step.name for step in spec.steps] == ["featurize", "model"]
    assert str(spec.step("featurize").target()) == "features.py:make_featurizer"
    assert [name for name, _ in spec.step("model").alternatives] == ["logistic", "forest"]


def test_a_rejection_is_a_submission_rejected_with_every_problem() -> None:
    steps = [featurize_step(inputs=["X", "tokens"]), model_step(name="Model")]
    rejected = refusal(pipeline_zip(steps))

    assert isinstance(rejected, SubmissionRejected)
    assert len(rejected.errors) == 2
    assert "step featurize: missing input 'tokens'" in str(rejected)
    assert "step 2: name 'Model' is not valid" in str(rejected)
    assert str(rejected).startswith("The pipeline was refused (2 problems): 1) ")


def test_a_zip_upload_is_checked_as_a_pipeline() -> None:
    with pytest.raises(PipelineRejected, match="the upload is not a zip file"):
        submission_pipeline_check(b"x = 1\n", filename="Pipeline.ZIP", max_source_bytes=1024)


# --- the zip ---


def test_an_upload_that_is_not_a_zip_is_refused() -> None:
    assert (
        refusal(b"def get_estimator():\n    pass\n")
        .errors[0]
        .startswith("the upload is not a zip file")
    )


def test_pipeline_yaml_must_be_at_the_root_of_the_zip() -> None:
    rejected = refusal(raw_zip({"project/pipeline.yaml": "steps: []", "project/model.py": ""}))

    assert rejected.errors == (
        "the zip has no pipeline.yaml at its root (it has 'project/pipeline.yaml'): "
        "zip the folder's contents, not the folder itself",
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../evil.py", "the zip entry '../evil.py' points outside the zip"),
        ("lib/../../evil.py", "the zip entry 'lib/../../evil.py' points outside the zip"),
        ("/etc/cron.d/evil", "the zip entry '/etc/cron.d/evil' is an absolute path"),
    ],
)
def test_names_outside_the_zip_are_refused(name: str, message: str) -> None:
    rejected = refusal(pipeline_zip(files={name: "x = 1\n"}))

    assert any(error.startswith(message) for error in rejected.errors)


def test_a_symbolic_link_entry_is_refused() -> None:
    link = zipfile.ZipInfo("features.py")
    link.external_attr = 0o120777 << 16
    content = raw_zip({"pipeline.yaml": yaml.safe_dump({"steps": [model_step()]}), link: "/etc"})

    assert "the zip entry 'features.py' is a symbolic link; links are not accepted" in (
        refusal(content).errors
    )


def test_more_than_200_files_are_refused() -> None:
    helpers = {f"helper_{n}.py": "" for n in range(199)}

    assert "the zip holds 202 files; at most 200 are accepted" in (
        refusal(pipeline_zip(files=helpers)).errors
    )


def test_a_zip_bomb_is_refused_from_its_declared_sizes_without_expanding_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = pipeline_zip(files={"data.bin": b"\0" * (100 * 1024 * 1024)})
    # Every read of a member goes through ZipFile.open: the names opened show whether
    # the bomb was expanded (a clock would say so only on an idle machine).
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def recording_open(archive: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(getattr(name, "filename", name))
        return real_open(archive, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording_open)

    rejected = refusal(bomb)

    assert len(bomb) < 200 * 1024
    assert rejected.errors == (
        "the zip's files add up to 100.0 MB uncompressed; at most 20 MB is accepted",
    )
    assert "data.bin" not in opened


def _with_declared_size(content: bytes, name: bytes, size: int) -> bytes:
    """The zip with `name`'s uncompressed size rewritten in both its headers: a lying bomb."""
    data = bytearray(content)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_length] == name:
            struct.pack_into("<I", data, central + 24, size)
            local = struct.unpack_from("<I", data, central + 42)[0]
            struct.pack_into("<I", data, local + 22, size)
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def test_a_zip_bomb_lying_about_its_sizes_is_refused() -> None:
    honest = pipeline_zip(files={"data.bin": b"\0" * (30 * 1024 * 1024)})

    rejected = refusal(_with_declared_size(honest, b"data.bin", 1000))

    assert rejected.errors[0].startswith(
        "the zip entry 'data.bin' is damaged or its declared size is wrong"
    )


def test_a_python_file_that_is_not_utf8_is_refused_naming_its_step() -> None:
    rejected = refusal(pipeline_zip(files={"features.py": b"\xff\xfe\x00d\x00e\x00f"}))

    assert rejected.errors == ("step featurize: features.py is not UTF-8 text",)


# --- pipeline.yaml ---


def test_a_yaml_syntax_error_names_its_line() -> None:
    spec = "steps:\n  - name: featurize\n    run: features.py:make_featurizer\n   inputs: [X]\n"

    (error,) = refusal(pipeline_zip(spec=spec)).errors

    assert error.startswith("pipeline.yaml line 4: ")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("- featurize\n- model\n", "pipeline.yaml must be a mapping with one key, steps"),
        ("stages: []\n", "pipeline.yaml: unknown key 'stages' (the file has one key, steps)"),
        ("steps: featurize\n", "pipeline.yaml has no steps list"),
        ("steps:\n  - featurize\n", "step 1 is not a mapping"),
    ],
)
def test_the_shape_of_pipeline_yaml_is_checked(spec: str, message: str) -> None:
    assert any(error.startswith(message) for error in refusal(pipeline_zip(spec=spec)).errors)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [featurize_step(input=["X"]), model_step()],
            "step featurize: unknown key 'input' (a step has name, run or alternatives, inputs,",
        ),
        ([{k: v for k, v in featurize_step().items() if k != "name"}], "step 1 has no name"),
        ([featurize_step(name="Featurize!"), model_step()], "step 1: name 'Featurize!' is not"),
        (
            [featurize_step(), featurize_step(outputs=["more"]), model_step()],
            "steps 1 and 2 are both named featurize; names must be unique",
        ),
        (
            [featurize_step(), model_step(run="model.py:logistic")],
            "step model has both run and alternatives: give exactly one",
        ),
        (
            [{k: v for k, v in featurize_step().items() if k != "run"}, model_step()],
            "step featurize has neither run nor alternatives: give exactly one",
        ),
        (
            [featurize_step(run="features.make_featurizer"), model_step()],
            "step featurize: 'features.make_featurizer' must look like file.py:callable",
        ),
        ([featurize_step(), model_step(alternatives={})], "step model: alternatives is empty"),
        (
            [featurize_step(), model_step(alternatives={"Big Forest": "model.py:forest"})],
            "step model: alternative name 'Big Forest' is not valid",
        ),
    ],
)
def test_each_step_is_checked(steps: list[Any], message: str) -> None:
    errors = refusal(pipeline_zip(steps)).errors

    assert any(error.startswith(message) for error in errors), errors


# --- what the steps refer to ---


def test_a_run_file_missing_from_the_zip_is_named() -> None:
    steps = [featurize_step(run="featurize.py:make_featurizer"), model_step()]

    assert refusal(pipeline_zip(steps)).errors == (
        "step featurize: featurize.py is not in the zip",
    )


def test_a_file_that_does_not_parse_is_named_with_its_line() -> None:
    broken = "def make_featurizer():\n    return (\n\n\nx = 1\n"
    rejected = refusal(pipeline_zip(files={"features.py": broken}))

    assert rejected.errors[0].startswith("step featurize: features.py does not parse: line ")


def test_an_alternative_missing_from_its_file_is_named() -> None:
    alternatives = {"logistic": "model.py:logistic", "boosting": "model.py:boosting"}

    assert refusal(
        pipeline_zip([featurize_step(), model_step(alternatives=alternatives)])
    ).errors == (
        "step model (alternative boosting): model.py defines no boosting at its top level "
        "(a def, class, assignment or import of that name)",
    )


def test_a_callable_nested_in_a_function_is_not_top_level() -> None:
    nested = "def factory():\n    def make_featurizer():\n        pass\n"

    errors = refusal(pipeline_zip(files={"features.py": nested})).errors

    assert errors[0].startswith("step featurize: features.py defines no make_featurizer")


@pytest.mark.parametrize(
    "source",
    [
        "def make_featurizer():\n    pass\n",
        "class make_featurizer:\n    pass\n",
        "make_featurizer = dict\n",
        "from sklearn.preprocessing import StandardScaler as make_featurizer\n",
        "try:\n    from fast import make_featurizer\n"
        "except ImportError:\n    make_featurizer = dict\n",
    ],
)
def test_a_def_class_assignment_or_import_defines_the_callable(source: str) -> None:
    pipeline_upload_check(pipeline_zip(files={"features.py": source}))


# --- the graph ---


def test_an_input_no_step_produces_is_missing() -> None:
    steps = [featurize_step(inputs=["X", "tokens"]), model_step()]

    assert refusal(pipeline_zip(steps)).errors == (
        "step featurize: missing input 'tokens' (no step produces it, and the challenge "
        "gives only X and y)",
    )


def test_an_output_produced_by_two_steps_is_refused() -> None:
    steps = [featurize_step(), featurize_step(name="scale"), model_step()]

    assert refusal(pipeline_zip(steps)).errors == (
        "output 'features' is produced by two steps, step featurize and step scale: "
        "each name must come from exactly one step",
    )


def test_a_step_taking_its_own_output_is_refused() -> None:
    steps = [featurize_step(inputs=["X", "features"]), model_step()]

    assert refusal(pipeline_zip(steps)).errors == (
        "step featurize lists its own output 'features' as an input",
    )


def test_a_cycle_is_named_step_by_step() -> None:
    steps = [
        featurize_step(name="a", inputs=["X", "from_b"], outputs=["from_a"]),
        featurize_step(name="b", inputs=["from_a"], outputs=["from_b", "features"]),
        model_step(),
    ]

    assert refusal(pipeline_zip(steps)).errors == ("steps a → b → a form a cycle",)


def test_a_pipeline_without_predictions_is_refused() -> None:
    steps = [featurize_step(), model_step(outputs=["labels"])]

    assert refusal(pipeline_zip(steps)).errors[0] == (
        "no step produces 'predictions': the last step must have outputs: [predictions]"
    )


def test_the_predictions_step_produces_nothing_else() -> None:
    steps = [featurize_step(), model_step(outputs=["predictions", "scores"])]

    assert refusal(pipeline_zip(steps)).errors == (
        "step model produces predictions and also 'scores': "
        "the step producing predictions produces nothing else",
    )


def test_a_step_whose_outputs_nobody_uses_leads_nowhere() -> None:
    steps = [featurize_step(), featurize_step(name="extra", outputs=["foo"]), model_step()]

    assert refusal(pipeline_zip(steps)).errors == ("step extra leads nowhere: no step uses 'foo'",)


# --- hostile files ---


def _peak_memory_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_billion_laughs_is_refused_quickly_and_the_parent_is_unharmed() -> None:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{n}: &lol{n} [{', '.join([f'*lol{n - 1}'] * 9)}]" for n in range(1, 10)]
    lines.append("steps: *lol9")
    peak_before, started = _peak_memory_kb(), time.monotonic()

    rejected = refusal(pipeline_zip(spec="\n".join(lines)))

    assert rejected.errors == (
        "pipeline.yaml line 1: anchors and aliases (&name, *name) are not accepted; "
        "write each value out",
    )
    # Expanded, the aliases would be 9**9 values: minutes of work even on an idle
    # machine, so a bound grown with the load still tells the two apart.
    assert time.monotonic() - started < 5 * patience()
    assert _peak_memory_kb() - peak_before < 50 * 1024


def test_a_python_object_tag_builds_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    spec = f"steps: !!python/object/apply:os.system ['touch {marker}']\n"

    (error,) = refusal(pipeline_zip(spec=spec)).errors

    assert error.startswith("pipeline.yaml line 1: could not determine a constructor")
    assert not marker.exists()


def test_deeply_nested_yaml_is_refused() -> None:
    (error,) = refusal(pipeline_zip(spec="steps: " + "[" * 30_000 + "]" * 30_000)).errors

    assert error == "pipeline.yaml line 1: the values are nested too deeply"


# --- extraction for the judge ---


def test_extraction_writes_the_regular_files(tmp_path: Path) -> None:
    names = extract_pipeline_archive(pipeline_zip(files={"lib/util.py": "x = 1\n"}), tmp_path)

    assert names == ["features.py", "lib/util.py", "model.py", "pipeline.yaml"]
    assert (tmp_path / "lib" / "util.py").read_text() == "x = 1\n"


def test_extraction_refuses_traversal_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()

    with pytest.raises(PipelineRejected, match="points outside the zip"):
        extract_pipeline_archive(pipeline_zip(files={"../escaped.py": "x = 1\n"}), target)

    assert list(tmp_path.rglob("*")) == [target]


def test_extraction_refuses_a_bomb(tmp_path: Path) -> None:
    bomb = pipeline_zip(files={"data.bin": b"\0" * (30 * 1024 * 1024)})

    with pytest.raises(PipelineRejected, match="declared size is wrong"):
        extract_pipeline_archive(_with_declared_size(bomb, b"data.bin", 1000), tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_extraction_never_follows_a_link(tmp_path: Path) -> None:
    target, outside = tmp_path / "target", tmp_path / "outside"
    target.mkdir()
    outside.mkdir()
    os.symlink(outside, target / "lib")

    with pytest.raises(NotADirectoryError):
        extract_pipeline_archive(pipeline_zip(files={"lib/util.py": "x = 1\n"}), target)

    assert list(outside.iterdir()) == []
