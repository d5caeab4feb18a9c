"""The data flow of a pipeline: which step feeds which, and whether it can finish.

Pure Python on names only (no files, no Django), so the upload check and the
judge read the same answer. A step is seen as its wiring: the names it takes
and the names it produces. A wiring whose inputs or outputs could not be read
(the document had an error there, reported elsewhere) is None, and the checks
that would need it stay quiet rather than pile guesses on top of that error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

FEATURES_INPUT = "X"
TARGET_INPUT = "y"
CHALLENGE_INPUTS = (FEATURES_INPUT, TARGET_INPUT)
FINAL_OUTPUT = "predictions"


@dataclass(frozen=True)
class StepWiring:
    """One step as the graph sees it; `label` is how messages name it ("step model")."""

    label: str
    inputs: tuple[str, ...] | None
    outputs: tuple[str, ...] | None


def _quoted_names(names: Sequence[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _producers(
    steps: Sequence[StepWiring], errors: list[str], second_producers: set[int]
) -> dict[str, int]:
    """Output name -> index of the step producing it; a second producer is an error."""
    producer_of: dict[str, int] = {}
    for index, step in enumerate(steps):
        for output in step.outputs or ():
            if output in producer_of:
                second_producers.add(index)
                first = steps[producer_of[output]].label
                errors.append(
                    f"output '{output}' is produced by two steps, {first} and {step.label}: "
                    "each name must come from exactly one step"
                )
            else:
                producer_of[output] = index
    return producer_of


def _feeds(steps: Sequence[StepWiring], producer_of: dict[str, int]) -> list[set[int]]:
    """For each step, the steps that take one of its outputs (self-loops left out)."""
    feeds: list[set[int]] = [set() for _ in steps]
    for index, step in enumerate(steps):
        for name in step.inputs or ():
            source = producer_of.get(name)
            if source is not None and source != index:
                feeds[source].add(index)
    return feeds


def _cycles(feeds: list[set[int]]) -> list[list[int]]:
    """One cycle (as a closed path of step indexes) per strongly connected group.

    Tarjan's algorithm, iterative: the number of steps is capped, but a recursion
    limit is not a failure mode worth having in an upload check.
    """
    counter = 0
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    groups: list[list[int]] = []
    for root in range(len(feeds)):
        if root in order:
            continue
        work: list[tuple[int, list[int]]] = [(root, sorted(feeds[root]))]
        order[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                successor = pending.pop(0)
                if successor not in order:
                    order[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, sorted(feeds[successor])))
                elif successor in on_stack:
                    low[node] = min(low[node], order[successor])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == order[node]:
                group: list[int] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    return [_closed_path(sorted(group), feeds) for group in groups]


def _closed_path(group: list[int], feeds: list[set[int]]) -> list[int]:
    """A path start -> ... -> start inside one strongly connected group (breadth first)."""
    members = set(group)
    start = group[0]
    came_from: dict[int, int] = {}
    frontier = [start]
    while frontier:
        following: list[int] = []
        for node in frontier:
            for successor in sorted(feeds[node] & members):
                if successor == start:
                    path = [start]
                    while node != start:
                        path.append(node)
                        node = came_from[node]
                    return [start, *reversed(path[1:]), start]
                if successor not in came_from:
                    came_from[successor] = node
                    following.append(successor)
        frontier = following
    return [start, start]  # unreachable for a group Tarjan found


def graph_problems(steps: Sequence[StepWiring]) -> list[str]:
    """Every reason the steps cannot run to `predictions`, one sentence each."""
    errors: list[str] = []
    # A second producer of a name feeds nobody in this graph; its error is enough.
    second_producers: set[int] = set()
    producer_of = _producers(steps, errors, second_producers)
    every_output_known = all(step.outputs is not None for step in steps)
    every_input_known = all(step.inputs is not None for step in steps)
    for index, step in enumerate(steps):
        for name in step.inputs or ():
            if producer_of.get(name) == index:
                errors.append(f"{step.label} lists its own output '{name}' as an input")
            elif name not in producer_of and name not in CHALLENGE_INPUTS and every_output_known:
                errors.append(
                    f"{step.label}: missing input '{name}' (no step produces it, and the "
                    f"challenge gives only {FEATURES_INPUT} and {TARGET_INPUT})"
                )
    feeds = _feeds(steps, producer_of)
    in_a_cycle: set[int] = set()
    for path in _cycles(feeds):
        in_a_cycle.update(path)
        errors.append(
            "steps "
            + " → ".join(steps[i].label.removeprefix("step ") for i in path)
            + " form a cycle"
        )
    final = producer_of.get(FINAL_OUTPUT)
    if final is None:
        if every_output_known:
            errors.append(
                f"no step produces '{FINAL_OUTPUT}': the last step must have "
                f"outputs: [{FINAL_OUTPUT}]"
            )
        return errors
    others = [name for name in steps[final].outputs or () if name != FINAL_OUTPUT]
    if others:
        errors.append(
            f"{steps[final].label} produces {FINAL_OUTPUT} and also {_quoted_names(others)}: "
            f"the step producing {FINAL_OUTPUT} produces nothing else"
        )
    if every_input_known:
        errors.extend(_dead_end_problems(steps, feeds, final, skip=in_a_cycle | second_producers))
    return errors


def _dead_end_problems(
    steps: Sequence[StepWiring], feeds: list[set[int]], final: int, *, skip: set[int]
) -> list[str]:
    """Steps none of whose outputs reach the final step (cycles are reported on their own)."""
    useful = {final}
    frontier = [final]
    while frontier:
        target = frontier.pop()
        for source, consumers in enumerate(feeds):
            if target in consumers and source not in useful:
                useful.add(source)
                frontier.append(source)
    errors: list[str] = []
    for index, step in enumerate(steps):
        if index in useful or index in skip or not step.outputs:
            continue
        if not feeds[index]:
            errors.append(f"{step.label} leads nowhere: no step uses {_quoted_names(step.outputs)}")
        else:
            users = ", ".join(steps[i].label.removeprefix("step ") for i in sorted(feeds[index]))
            errors.append(
                f"{step.label} leads nowhere: its outputs go only to steps that lead nowhere "
                f"({users})"
            )
    return errors


def step_levels(steps: Sequence[StepWiring]) -> list[int]:
    """For each step, 0 if it takes only challenge inputs, else one more than its deepest source.

    Steps of the same level never depend on each other, so the judge may run them
    concurrently. Meaningful only for steps `graph_problems` found nothing wrong with.
    """
    producer_of = {name: i for i, step in enumerate(steps) for name in step.outputs or ()}
    levels: dict[int, int] = {}
    remaining = set(range(len(steps)))
    while remaining:
        ready = [
            index
            for index in sorted(remaining)
            if all(
                producer_of.get(name) in levels or name not in producer_of
                for name in steps[index].inputs or ()
            )
        ]
        if not ready:
            raise ValueError("the steps form a cycle; check them with graph_problems first")
        for index in ready:
            sources = [producer_of[n] for n in steps[index].inputs or () if n in producer_of]
            levels[index] = 1 + max((levels[s] for s in sources), default=-1)
            remaining.discard(index)
    return [levels[index] for index in range(len(steps))]
