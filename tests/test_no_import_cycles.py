"""No import cycles between ppipe's modules (issue 19): if module A imports B, however
indirectly, B imports nothing that leads back to A.

The graph is grimp's (what import-linter stands on): every import statement of the
project's packages, those inside functions and under TYPE_CHECKING included, since a
lazy import that closes a loop is a cycle hidden from the reader, not a cycle gone.
import-linter's own `acyclic_siblings` contract checks cycles between sibling
packages, not modules, and cannot see a loop across two top-level packages; hence
this test. A cycle is printed with its modules in order, so a developer sees what
to untangle.
"""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

import grimp

PACKAGES = (
    "worker_wing",
    "worker_node",
    "foundation",
    "ppipe_site",
    "challenges",
    "dispatch",
    "judging",
    "probing",
    "receipts",
    "grades",
    "notifications",
    "teams",
    "operations",
    "retention",
)


def _import_graph() -> dict[str, set[str]]:
    # No cache: the check reads the files as they are, and leaves nothing behind.
    # Migrations stay in: nothing imports them, so they close no loop today.
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    return {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}


def test_no_module_imports_itself_through_others() -> None:
    try:
        TopologicalSorter(_import_graph()).prepare()
    except CycleError as error:
        cycle = error.args[1]  # the modules of one cycle, the first repeated last
        raise AssertionError("an import cycle: " + " imports ".join(reversed(cycle))) from None
