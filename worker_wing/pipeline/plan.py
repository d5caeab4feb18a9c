"""Configurations of a pipeline (one alternative per step that has some) and the run plan.

The plan is what the judge runs: plain JSON, no Django, built from a checked
PipelineSpec. See worker_wing/pipeline/spec.py for what a step does at run time.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

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
    # A resource sweep's configuration (see resource_sweep_plans): the CPU cores its
    # sandbox is confined to, and the rows per inference batch. Absent: the worker's
    # threads, unconfined, and the job's batch size.
    cores: NotRequired[int]
    batch_size: NotRequired[int]


# What a teacher may offer in a resource sweep: far above any judge worker's cores
# (a worker runs what it has and says why it did not run the rest), and batches no
# larger than a test set's rows are worth.
MAX_SWEEP_CORES = 256
MAX_SWEEP_BATCH_SIZE = 1_000_000


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


def resource_choice(
    asked: Sequence[object] | None, allowed: Sequence[int], *, what: str, field: str
) -> list[int]:
    """The student's choice among the challenge's sweep values (all of them when they
    named none), in the challenge's order; SubmissionRejected naming any value the
    challenge does not offer. This is the trusted side's check: the judge confines a
    configuration to the cores named here, whatever the student's code does."""
    if not asked:
        return list(allowed)
    if not allowed:
        raise SubmissionRejected(
            f"This challenge does not allow sweeps over {what}: leave them out.", field=field
        )
    chosen: set[int] = set()
    refused: list[str] = []
    for value in asked:
        if isinstance(value, bool) or not isinstance(value, int | str):
            refused.append(repr(value))
            continue
        try:
            number = int(value)
        except ValueError:
            refused.append(repr(value))
            continue
        if number in allowed:
            chosen.add(number)
        else:
            refused.append(str(value))
    if refused:
        offered = ", ".join(str(value) for value in allowed)
        raise SubmissionRejected(
            f"This challenge offers {what} {offered} only; {', '.join(refused)} refused.",
            field=field,
        )
    return [value for value in allowed if value in chosen]


def resource_sweep_plans(
    spec: PipelineSpec,
    *,
    cores: Sequence[int],
    batch_sizes: Sequence[int],
    max_configurations: int,
) -> list[RunPlan]:
    """Every configuration of alternatives x cores x batch sizes, cores varying slowest
    (the judge runs the configurations of one core count in one confined run), then
    the alternatives, then the batch sizes; SubmissionRejected beyond the cap."""
    count = configuration_count(spec) * max(len(cores), 1) * max(len(batch_sizes), 1)
    if count > max_configurations:
        raise SubmissionRejected(
            f"The sweep has {count} configurations (alternatives x {len(cores) or 1} core "
            f"counts x {len(batch_sizes) or 1} batch sizes); this challenge allows at most "
            f"{max_configurations}: sweep over fewer core counts or batch sizes, or offer "
            "fewer alternatives.",
            field="configuration",
        )
    plans: list[RunPlan] = []
    for core_count in cores or [0]:
        for chosen in configurations(spec):
            for batch_size in batch_sizes or [-1]:
                plan = run_plan(spec, chosen)
                if core_count:
                    plan["cores"] = core_count
                if batch_size >= 0:
                    plan["batch_size"] = batch_size
                plans.append(plan)
    return plans


def submission_plans(
    spec: PipelineSpec,
    *,
    configuration: Mapping[str, object] | None,
    sweep: bool,
    max_configurations: int,
    cores: Sequence[int] = (),
    batch_sizes: Sequence[int] = (),
) -> list[RunPlan]:
    """What a submission runs: its chosen configuration, or with `sweep` every one (and,
    where the challenge allows a resource sweep, on each of `cores` and `batch_sizes`:
    already checked against the challenge's by resource_choice)."""
    if sweep:
        if configuration:
            raise SubmissionRejected(
                "Choose a configuration or ask for a sweep of all of them, not both.",
                field="configuration",
            )
        if cores or batch_sizes:
            return resource_sweep_plans(
                spec, cores=cores, batch_sizes=batch_sizes, max_configurations=max_configurations
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
