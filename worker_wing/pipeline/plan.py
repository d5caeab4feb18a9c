"""Configurations of a pipeline (one alternative per step that has some) and the run plan.

The plan is what the judge runs: plain JSON, no Django, built from a checked
PipelineSpec. See worker_wing/pipeline/spec.py for what a step does at run time.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from typing import TypedDict

from worker_wing.pipeline.code_check import SubmissionRejected
from worker_wing.pipeline.graph import StepWiring, step_levels
from worker_wing.pipeline.spec import PipelineSpec


class PlannedStep(TypedDict):
    name: str
    file: str
    callable: str
    inputs: list[str]
    outputs: list[str]
    # Steps of one level have no dependency on each other: they may run concurrently.
    level: int


class RunPlan(TypedDict):
    steps: list[PlannedStep]  # in topological order: by level, then as in pipeline.yaml
    configuration: dict[str, str]


def configuration_count(spec: PipelineSpec) -> int:
    """How many configurations there are, without listing them."""
    return math.prod(len(step.alternatives) for step in spec.steps if step.alternatives)


def configurations(spec: PipelineSpec) -> list[dict[str, str]]:
    """Every combination of alternatives (step name -> alternative name), in a stable order.

    Steps in file order, each step's alternatives in file order, the last step
    varying fastest; the first configuration is the default one. A pipeline with
    no alternatives has exactly one configuration, the empty one. The count is
    a product: check `configuration_count` (or use `sweep_configurations`) first.
    """
    choosable = [step for step in spec.steps if step.alternatives]
    choices = [[name for name, _ in step.alternatives] for step in choosable]
    return [
        {step.name: choice for step, choice in zip(choosable, combination, strict=True)}
        for combination in itertools.product(*choices)
    ]


def chosen_configuration(
    spec: PipelineSpec, choice: Mapping[str, object] | None = None
) -> dict[str, str]:
    """The full configuration for a (partial) choice; steps not named take their first alternative.

    Raises SubmissionRejected (field "configuration") naming every step or
    alternative that does not exist.
    """
    choice = choice or {}
    errors: list[str] = []
    steps = {step.name: step for step in spec.steps}
    for step_name, alternative in choice.items():
        step = steps.get(step_name)
        if step is None:
            errors.append(f"there is no step '{step_name}'")
        elif not step.alternatives:
            errors.append(f"step {step_name} has no alternatives (it always runs {step.run})")
        elif alternative not in dict(step.alternatives):
            known = ", ".join(name for name, _ in step.alternatives)
            errors.append(f"step {step_name} has no alternative {alternative!r}; it has {known}")
    if errors:
        raise SubmissionRejected(
            "The configuration was refused: " + "; ".join(errors) + ".", field="configuration"
        )
    return {
        step.name: str(choice.get(step.name, step.alternatives[0][0]))
        for step in spec.steps
        if step.alternatives
    }


def sweep_configurations(spec: PipelineSpec, *, max_configurations: int) -> list[dict[str, str]]:
    """All configurations, or SubmissionRejected when there are more than the challenge allows."""
    count = configuration_count(spec)
    if count > max_configurations:
        raise SubmissionRejected(
            f"The sweep has {count} configurations; this challenge allows at most "
            f"{max_configurations}: choose one configuration, or offer fewer alternatives.",
            field="configuration",
        )
    return configurations(spec)


def run_plan(spec: PipelineSpec, configuration: Mapping[str, object]) -> RunPlan:
    """The judge's plan for one configuration (checked, completed with defaults as needed)."""
    chosen = chosen_configuration(spec, configuration)
    levels = step_levels([StepWiring(step.name, step.inputs, step.outputs) for step in spec.steps])
    order = sorted(range(len(spec.steps)), key=lambda index: (levels[index], index))
    planned: list[PlannedStep] = []
    for index in order:
        step = spec.steps[index]
        target = step.target(chosen.get(step.name))
        planned.append(
            {
                "name": step.name,
                "file": target.file,
                "callable": target.callable_name,
                "inputs": list(step.inputs),
                "outputs": list(step.outputs),
                "level": levels[index],
            }
        )
    return {"steps": planned, "configuration": chosen}


def configuration_from_text(text: str) -> dict[str, str]:
    """A configuration as a student types it: `model=forest, featurize=tfidf`
    (or a JSON object). Empty text is the default configuration."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not all(
            isinstance(value, str) for value in parsed.values()
        ):
            raise SubmissionRejected(
                "The configuration is not a JSON object of step names to alternative names, "
                'such as {"model": "forest"}.',
                field="configuration",
            )
        return {str(key): value for key, value in parsed.items()}
    chosen: dict[str, str] = {}
    for pair in text.split(","):
        step, equals, alternative = pair.partition("=")
        if not equals or not step.strip() or not alternative.strip():
            raise SubmissionRejected(
                f"The configuration's part {pair.strip()!r} is not step=alternative: write "
                "for example model=forest, featurize=tfidf.",
                field="configuration",
            )
        chosen[step.strip()] = alternative.strip()
    return chosen


def submission_plans(
    spec: PipelineSpec,
    *,
    configuration: Mapping[str, object] | None,
    sweep: bool,
    max_configurations: int,
) -> list[RunPlan]:
    """What a submission runs: its chosen configuration, or with `sweep` every one."""
    if sweep:
        if configuration:
            raise SubmissionRejected(
                "Choose a configuration or ask for a sweep of all of them, not both.",
                field="configuration",
            )
        return [
            run_plan(spec, chosen)
            for chosen in sweep_configurations(spec, max_configurations=max_configurations)
        ]
    return [run_plan(spec, configuration or {})]


def spec_as_data(spec: PipelineSpec) -> dict[str, object]:
    """The checked pipeline as plain JSON, for the submission's page and the API."""
    return {
        "steps": [
            {
                "name": step.name,
                "inputs": list(step.inputs),
                "outputs": list(step.outputs),
                "run": str(step.run) if step.run else None,
                "alternatives": {name: str(target) for name, target in step.alternatives},
            }
            for step in spec.steps
        ]
    }
