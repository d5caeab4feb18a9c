"""A pipeline submission's `pipeline.yaml`, read into typed steps and checked.

The format, at the root of the zip:

    steps:
      - name: featurize                  # [a-z][a-z0-9_]{0,39}, unique
        run: features.py:make_featurizer # "<file in the zip>:<top-level callable>"
        inputs: [X]                      # X, y, or outputs of other steps
        outputs: [features]
      - name: model
        inputs: [features, y]
        outputs: [predictions]           # the final output; its step produces nothing else
        alternatives:                    # instead of `run`: a configuration picks one
          logistic: model.py:logistic
          forest: model.py:forest

What the judge does with it, per cross-validation fold and in dependency order:
`obj = callable()`; `obj.fit(*inputs_but_y, y)` when `y` is among the step's
inputs, else `obj.fit(*inputs)`; then the step's output is
`obj.transform(*inputs_but_y)` (a tuple when it has several outputs), or
`obj.predict(*inputs_but_y)` for the step producing `predictions`. `y` exists
only while fitting. Steps that do not depend on each other run concurrently.

This module never parses YAML or Python: it takes the plain data and the facts
about each Python file that the upload check's child process read (see
worker_wing/pipeline/check.py), so it is safe to run in the web process on the
bytes of a hostile upload. No Django here either.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from worker_wing.pipeline.code_check import SubmissionRejected
from worker_wing.pipeline.graph import (
    CHALLENGE_INPUTS,
    FINAL_OUTPUT,
    TARGET_INPUT,
    StepWiring,
    graph_problems,
)

# Classroom pipelines have a handful of steps; the caps keep a hostile document's
# checks and error list small.
MAX_STEPS = 50
MAX_ALTERNATIVES = 20
MAX_NAMES_PER_LIST = 20

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_RUN = re.compile(r"(?P<file>[^:\s]+\.py):(?P<callable>[A-Za-z_][A-Za-z0-9_]*)")
_NAME_RULE = "lower-case letters, digits and _, starting with a letter, at most 40 characters"
_STEP_KEYS = ("name", "run", "alternatives", "inputs", "outputs")


@dataclass(frozen=True)
class RunTarget:
    """`features.py:make_featurizer`: a file of the zip and a callable defined at its top level."""

    file: str
    callable_name: str

    def __str__(self) -> str:
        return f"{self.file}:{self.callable_name}"


@dataclass(frozen=True)
class PipelineStep:
    """One step; exactly one of `run` and `alternatives` is set (alternatives in file order)."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    run: RunTarget | None = None
    alternatives: tuple[tuple[str, RunTarget], ...] = ()

    def target(self, alternative: str | None = None) -> RunTarget:
        """What runs for this step: `run`, or the named alternative (the first when None)."""
        if self.run is not None:
            return self.run
        if alternative is None:
            return self.alternatives[0][1]
        return dict(self.alternatives)[alternative]


@dataclass(frozen=True)
class PipelineSpec:
    """A checked pipeline: names valid and unique, every callable found, the graph sound."""

    steps: tuple[PipelineStep, ...]

    def step(self, name: str) -> PipelineStep:
        return next(step for step in self.steps if step.name == name)


@dataclass(frozen=True)
class PythonModuleFacts:
    """What the child process read in one .py file of the zip.

    `defined_names` holds only the top-level names the pipeline refers to (so the
    child's answer stays small); `problem` completes "<file> ..." ("does not parse:
    line 3: invalid syntax") when the file could not be read.
    """

    defined_names: frozenset[str] = frozenset()
    star_import: bool = False
    problem: str | None = None


class PipelineRejected(SubmissionRejected):
    """A SubmissionRejected that also keeps each problem apart, for a page to list them."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = tuple(dict.fromkeys(errors))
        if len(self.errors) == 1:
            message = f"The pipeline was refused: {self.errors[0]}."
        else:
            # Numbered: a problem's own sentence may hold a semicolon.
            numbered = " ".join(f"{n}) {error}." for n, error in enumerate(self.errors, 1))
            message = f"The pipeline was refused ({len(self.errors)} problems): {numbered}"
        super().__init__(message)


def estimator_pipeline() -> PipelineSpec:
    """A plain estimator.py as a pipeline: one step fitting on X and y, predicting from X."""
    return PipelineSpec(
        steps=(
            PipelineStep(
                name="estimator",
                inputs=CHALLENGE_INPUTS,
                outputs=(FINAL_OUTPUT,),
                run=RunTarget(file="estimator.py", callable_name="get_estimator"),
            ),
        )
    )


def _shown(value: object) -> str:
    """A value of the student's document, quoted and cut short for a message."""
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 50 else text[:47] + "..."


@dataclass
class _DraftStep:
    """A step as far as it could be read; None where the document had an error."""

    label: str
    name: str | None
    inputs: tuple[str, ...] | None
    outputs: tuple[str, ...] | None
    run: RunTarget | None
    alternatives: tuple[tuple[str, RunTarget], ...] | None


def _run_target(value: object, where: str, errors: list[str]) -> RunTarget | None:
    match = _RUN.fullmatch(value) if isinstance(value, str) else None
    if match is None or keyword.iskeyword(match["callable"]):
        errors.append(
            f"{where}: {_shown(value)} must look like file.py:callable "
            "(for example features.py:make_featurizer)"
        )
        return None
    return RunTarget(file=match["file"], callable_name=match["callable"])


def _name_list(
    step: Mapping[str, object], key: str, label: str, errors: list[str]
) -> tuple[str, ...] | None:
    value = step.get(key)
    if not isinstance(value, list) or not value:
        example = "X" if key == "inputs" else "features"
        errors.append(f"{label} needs {key}: a list of names, such as [{example}]")
        return None
    if len(value) > MAX_NAMES_PER_LIST:
        errors.append(f"{label} has {len(value)} {key}; at most {MAX_NAMES_PER_LIST} are accepted")
        return None
    names: list[str] = []
    valid = True
    for name in value:
        if not isinstance(name, str) or not (_NAME.fullmatch(name) or name in CHALLENGE_INPUTS):
            errors.append(f"{label}: {key[:-1]} {_shown(name)} is not a valid name ({_NAME_RULE})")
            valid = False
        elif name in names:
            errors.append(f"{label} lists {key[:-1]} '{name}' twice")
            valid = False
        else:
            names.append(name)
    if key == "outputs":
        for name in names:
            if name in CHALLENGE_INPUTS:
                errors.append(f"{label}: '{name}' is a challenge input and cannot be an output")
                valid = False
    else:
        if FINAL_OUTPUT in names:
            errors.append(f"{label}: '{FINAL_OUTPUT}' is the final output and cannot be an input")
            valid = False
        if valid and names == [TARGET_INPUT]:
            errors.append(
                f"{label} needs an input besides {TARGET_INPUT} ({TARGET_INPUT} exists only "
                "while fitting; transform and predict get the other inputs)"
            )
            valid = False
    return tuple(names) if valid else None


def _alternatives(
    value: object, label: str, errors: list[str]
) -> tuple[tuple[str, RunTarget], ...] | None:
    if not isinstance(value, dict) or not value:
        what = "is empty" if isinstance(value, dict) or not value else "must be a mapping"
        errors.append(
            f"{label}: alternatives {what}; give named choices such as forest: model.py:forest"
        )
        return None
    if len(value) > MAX_ALTERNATIVES:
        errors.append(
            f"{label} has {len(value)} alternatives; at most {MAX_ALTERNATIVES} are accepted"
        )
        return None
    choices: list[tuple[str, RunTarget]] = []
    valid = True
    for name, run in value.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            errors.append(f"{label}: alternative name {_shown(name)} is not valid ({_NAME_RULE})")
            valid = False
            continue
        target = _run_target(run, f"{label}, alternative {name}", errors)
        if target is None:
            valid = False
        else:
            choices.append((name, target))
    return tuple(choices) if valid else None


def _draft_step(position: int, step: object, seen: dict[str, int], errors: list[str]) -> _DraftStep:
    label = f"step {position}"
    if not isinstance(step, dict):
        errors.append(
            f"{label} is not a mapping: write name:, run:, inputs: and outputs: under its dash"
        )
        return _DraftStep(label, None, None, None, None, None)
    name = step.get("name")
    if name is None:
        errors.append(f"{label} has no name")
    elif not isinstance(name, str) or not _NAME.fullmatch(name):
        errors.append(f"{label}: name {_shown(name)} is not valid ({_NAME_RULE})")
        name = None
    else:
        label = f"step {name}"
        if name in seen:
            errors.append(
                f"steps {seen[name]} and {position} are both named {name}; names must be unique"
            )
        seen.setdefault(name, position)
    unknown = [key for key in step if key not in _STEP_KEYS]
    if unknown:
        keys = ", ".join(_shown(key) for key in unknown)
        errors.append(
            f"{label}: unknown key {keys} (a step has name, run or alternatives, inputs, outputs)"
        )
    run: RunTarget | None = None
    alternatives: tuple[tuple[str, RunTarget], ...] | None = ()
    if ("run" in step) == ("alternatives" in step):
        both = "both run and alternatives" if "run" in step else "neither run nor alternatives"
        errors.append(f"{label} has {both}: give exactly one")
        alternatives = None
    elif "run" in step:
        run = _run_target(step["run"], label, errors)
    else:
        alternatives = _alternatives(step["alternatives"], label, errors)
    return _DraftStep(
        label=label,
        name=name,
        inputs=_name_list(step, "inputs", label, errors),
        outputs=_name_list(step, "outputs", label, errors),
        run=run,
        alternatives=alternatives,
    )


def _draft_steps(document: object, errors: list[str]) -> list[_DraftStep]:
    if not isinstance(document, dict):
        errors.append("pipeline.yaml must be a mapping with one key, steps: a list of steps")
        return []
    unknown = [key for key in document if key != "steps"]
    if unknown:
        keys = ", ".join(_shown(key) for key in unknown)
        errors.append(f"pipeline.yaml: unknown key {keys} (the file has one key, steps)")
    steps = document.get("steps")
    if not isinstance(steps, list) or not steps:
        errors.append(
            "pipeline.yaml has no steps list: write steps: followed by one - name: ... per step"
        )
        return []
    if len(steps) > MAX_STEPS:
        errors.append(f"pipeline.yaml has {len(steps)} steps; at most {MAX_STEPS} are accepted")
        return []
    seen: dict[str, int] = {}
    return [_draft_step(position, step, seen, errors) for position, step in enumerate(steps, 1)]


def _reference_problems(
    drafts: Sequence[_DraftStep], python_modules: Mapping[str, PythonModuleFacts]
) -> list[str]:
    errors: list[str] = []
    # A file missing or broken is one problem however many steps use it: said once.
    users: dict[str, list[str]] = {}
    for draft in drafts:
        named = [(draft.label, draft.run)] if draft.run else []
        named += [(f"{draft.label} (alternative {n})", t) for n, t in draft.alternatives or ()]
        for where, target in named:
            facts = python_modules.get(target.file)
            if facts is None or facts.problem is not None:
                labels = users.setdefault(target.file, [])
                if draft.label not in labels:
                    labels.append(draft.label)
            elif target.callable_name not in facts.defined_names and not facts.star_import:
                errors.append(
                    f"{where}: {target.file} defines no {target.callable_name} at its top level "
                    "(a def, class, assignment or import of that name)"
                )
    for file, labels in users.items():
        facts = python_modules.get(file)
        problem = "is not in the zip" if facts is None else facts.problem
        steps = (
            labels[0]
            if len(labels) == 1
            else "steps " + ", ".join(label.removeprefix("step ") for label in labels)
        )
        errors.append(f"{steps}: {file} {problem}")
    for file, facts in sorted(python_modules.items()):
        if facts.problem is not None and file not in users:
            errors.append(f"{file} {facts.problem}")
    return errors


def pipeline_spec_from_document(
    document: object, *, python_modules: Mapping[str, PythonModuleFacts]
) -> PipelineSpec:
    """The checked spec of a parsed pipeline.yaml, or PipelineRejected with every problem.

    `python_modules` maps each .py file of the zip to what the child read in it.
    """
    errors: list[str] = []
    drafts = _draft_steps(document, errors)
    errors += _reference_problems(drafts, python_modules)
    if drafts:  # with no steps read, the graph would only repeat that
        errors += graph_problems([StepWiring(d.label, d.inputs, d.outputs) for d in drafts])
    if errors:
        raise PipelineRejected(errors)
    return PipelineSpec(
        steps=tuple(
            PipelineStep(
                name=draft.name or "",
                inputs=draft.inputs or (),
                outputs=draft.outputs or (),
                run=draft.run,
                alternatives=draft.alternatives or (),
            )
            for draft in drafts
        )
    )


def python_file_problems(python_modules: Mapping[str, PythonModuleFacts]) -> list[str]:
    """Problems of the zip's Python files alone, for when pipeline.yaml itself could not be read."""
    return [
        f"{file} {facts.problem}" for file, facts in sorted(python_modules.items()) if facts.problem
    ]
