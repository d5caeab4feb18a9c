"""No import cycles between ppipe's modules (issue 19): if module A imports B, however
indirectly, B imports nothing that leads back to A.

The graph is grimp's (what import-linter stands on): every import statement of the
project's packages, those inside functions and under TYPE_CHECKING included, since a
lazy import that closes a loop is a cycle hidden from the reader, not a cycle gone.
import-linter's own `acyclic_siblings` contract checks cycles between sibling
packages, not modules, and cannot see a loop across two top-level packages; hence
this test. Each cycle is printed with its modules, so a developer sees what to
untangle.
"""

from __future__ import annotations

import grimp
import pytest

PACKAGES = (
    "worker_wing",
    "ppipe_site",
    "challenges",
    "dispatch",
    "judging",
    "probing",
    "receipts",
    "grades",
    "notifications",
)


def _import_graph() -> dict[str, set[str]]:
    # No cache: the check reads the files as they are, and leaves nothing behind.
    # Migrations stay in: nothing imports them, so they close no loop today.
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    return {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}


def _cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm,
    without recursion: a long import chain would pass Python's recursion limit)."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(imports):
        if root in index:
            continue
        work = [(root, iter(sorted(imports[root])))]
        index[root] = lowest[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = lowest[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(imports[target]))))
                elif target in on_stack:
                    lowest[module] = min(lowest[module], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowest[parent] = min(lowest[parent], lowest[module])
            if lowest[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def test_the_cycle_finder_finds_a_loop_and_only_the_loop() -> None:
    imports = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}

    assert _cycles(imports) == [["a", "b", "c"]]


@pytest.mark.xfail(
    strict=True,
    reason="issue 19: import cycles remain (services lazily import their own tasks, and "
    "more); remove this mark once they are untangled",
)
def test_no_module_imports_itself_through_others() -> None:
    imports = _import_graph()
    cycles = _cycles(imports)

    described = [
        " <-> ".join(cycle)
        + "".join(
            f"\n    {module} imports {target}"
            for module in cycle
            for target in sorted(imports[module] & set(cycle))
        )
        for cycle in cycles
    ]
    assert not cycles, "import cycles, each with the imports that close it:\n" + "\n".join(
        described
    )
