"""A pipeline's configurations (one alternative per step that has some), the choice of one,
the capped sweep of all, and the run plan the judge follows: steps in dependency order,
levels for what may run concurrently. A plain estimator.py is a one-step plan."""

from __future__ import annotations

import json
from typing import Any

import pytest

from worker_wing.pipeline.check import submission_pipeline_check
from worker_wing.pipeline.code_check import SubmissionRejected
from worker_wing.pipeline.plan import (
    chosen_configuration,
    configuration_count,
    configurations,
    run_plan,
    sweep_configurations,
)
from worker_wing.pipeline.spec import PipelineSpec, PythonModuleFacts, pipeline_spec_from_document


def checked_spec(steps: list[dict[str, Any]]) -> PipelineSpec:
    """The checked spec of these steps, each callable defined in the file its step names."""
    targets = [step["run"] for step in steps if "run" in step]
    targets += [target for step in steps for target in step.get("alternatives", {}).values()]
    defined: dict[str, set[str]] = {}
    for target in targets:
        file, callable_name = target.split(":")
        defined.setdefault(file, set()).add(callable_name)
    modules = {
        file: PythonModuleFacts(defined_names=frozenset(names)) for file, names in defined.items()
    }
    return pipeline_spec_from_document({"steps": steps}, python_modules=modules)


def step(name: str, inputs: list[str], outputs: list[str], *alternatives: str) -> dict[str, Any]:
    wiring: dict[str, Any] = {"name": name, "inputs": inputs, "outputs": outputs}
    if alternatives:
        wiring["alternatives"] = {choice: f"{name}.py:{choice}" for choice in alternatives}
    else:
        wiring["run"] = f"{name}.py:make_{name}"
    return wiring


def scale_and_model(scalers: int = 2, models: int = 3) -> PipelineSpec:
    return checked_spec(
        [
            step("scale", ["X"], ["scaled"], *["standard", "robust", "minmax", "power"][:scalers]),
            step(
                "model",
                ["scaled", "y"],
                ["predictions"],
                *["logistic", "forest", "boosting", "knn"][:models],
            ),
        ]
    )


def test_a_pipeline_without_alternatives_has_one_empty_configuration() -> None:
    spec = checked_spec([step("model", ["X", "y"], ["predictions"])])

    assert configurations(spec) == [{}]
    assert chosen_configuration(spec) == {}


def test_configurations_cover_every_combination_in_a_stable_order() -> None:
    assert configurations(scale_and_model()) == [
        {"scale": "standard", "model": "logistic"},
        {"scale": "standard", "model": "forest"},
        {"scale": "standard", "model": "boosting"},
        {"scale": "robust", "model": "logistic"},
        {"scale": "robust", "model": "forest"},
        {"scale": "robust", "model": "boosting"},
    ]


def test_the_default_is_the_first_alternative_of_each_step() -> None:
    assert chosen_configuration(scale_and_model()) == {"scale": "standard", "model": "logistic"}


def test_a_partial_choice_keeps_the_defaults_of_the_other_steps() -> None:
    chosen = chosen_configuration(scale_and_model(), {"model": "forest"})

    assert chosen == {"scale": "standard", "model": "forest"}


def test_a_missing_alternative_is_refused_listing_the_real_ones() -> None:
    spec = checked_spec(
        [
            step("scale", ["X"], ["scaled"]),
            step("model", ["scaled", "y"], ["predictions"], "logistic", "forest"),
        ]
    )

    with pytest.raises(SubmissionRejected) as caught:
        chosen_configuration(spec, {"model": "svm"})

    assert "step model has no alternative 'svm'; it has logistic, forest" in str(caught.value)
    assert caught.value.field == "configuration"


def test_a_choice_for_an_unknown_step_or_one_without_alternatives_is_refused() -> None:
    spec = checked_spec(
        [
            step("scale", ["X"], ["scaled"]),
            step("model", ["scaled", "y"], ["predictions"], "logistic"),
        ]
    )

    with pytest.raises(SubmissionRejected) as caught:
        chosen_configuration(spec, {"tune": "fast", "scale": "robust"})

    assert "there is no step 'tune'" in str(caught.value)
    assert "step scale has no alternatives (it always runs scale.py:make_scale)" in str(
        caught.value
    )


def test_a_sweep_past_the_challenge_cap_is_refused() -> None:
    spec = scale_and_model(scalers=3, models=4)

    with pytest.raises(SubmissionRejected) as caught:
        sweep_configurations(spec, max_configurations=8)

    assert str(caught.value) == (
        "The sweep has 12 configurations; this challenge allows at most 8: choose one "
        "configuration, or offer fewer alternatives."
    )
    assert configuration_count(spec) == 12


def test_a_sweep_within_the_cap_lists_every_configuration() -> None:
    spec = scale_and_model()

    assert sweep_configurations(spec, max_configurations=6) == configurations(spec)


def test_the_run_plan_runs_the_chosen_alternative() -> None:
    plan = run_plan(scale_and_model(), {"model": "forest"})

    assert plan == {
        "steps": [
            {
                "name": "scale",
                "file": "scale.py",
                "callable": "standard",
                "inputs": ["X"],
                "outputs": ["scaled"],
                "level": 0,
            },
            {
                "name": "model",
                "file": "model.py",
                "callable": "forest",
                "inputs": ["scaled", "y"],
                "outputs": ["predictions"],
                "level": 1,
            },
        ],
        "configuration": {"scale": "standard", "model": "forest"},
    }
    assert json.loads(json.dumps(plan)) == plan


def test_the_two_sides_of_a_diamond_share_a_level() -> None:
    spec = checked_spec(
        [
            step("clean", ["X"], ["cleaned"]),
            step("words", ["cleaned"], ["word_counts"]),
            step("chars", ["cleaned", "y"], ["char_counts"]),
            step("model", ["word_counts", "char_counts", "y"], ["predictions"]),
        ]
    )

    levels = {planned["name"]: planned["level"] for planned in run_plan(spec, {})["steps"]}

    assert levels == {"clean": 0, "words": 1, "chars": 1, "model": 2}


def test_the_plan_is_in_dependency_order_whatever_the_file_order() -> None:
    spec = checked_spec(
        [
            step("model", ["features", "y"], ["predictions"]),
            step("featurize", ["cleaned"], ["features"]),
            step("clean", ["X"], ["cleaned"]),
        ]
    )

    assert [planned["name"] for planned in run_plan(spec, {})["steps"]] == [
        "clean",
        "featurize",
        "model",
    ]


def test_a_plain_estimator_py_is_a_one_step_plan() -> None:
    code = b"from sklearn.dummy import DummyClassifier as get_estimator\n"

    spec = submission_pipeline_check(code, filename="estimator.py", max_source_bytes=64 * 1024)

    assert run_plan(spec, {}) == {
        "steps": [
            {
                "name": "estimator",
                "file": "estimator.py",
                "callable": "get_estimator",
                "inputs": ["X", "y"],
                "outputs": ["predictions"],
                "level": 0,
            }
        ],
        "configuration": {},
    }


def test_a_plain_estimator_py_keeps_its_own_check() -> None:
    with pytest.raises(SubmissionRejected, match=r"must define get_estimator\(\)"):
        submission_pipeline_check(b"x = 1\n", filename="estimator.py", max_source_bytes=64 * 1024)
