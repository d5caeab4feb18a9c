"""The nursery's imports (about a second of CPU) are charged to its own cgroup,
never to a job: a box's first job costs what its second does, for the first
participant (who waited for the nursery to warm) and for the next."""

from __future__ import annotations

from pathlib import Path

from tests.judge_kits import judge
from tests.test_sandbox_figures_are_measured_from_outside import HONEST
from worker_wing.judge import sandbox
from worker_wing.judge.sandbox import SandboxConfig

# Well under the nursery's import CPU (asserted below) and well over what two
# runs of one tiny job differ by.
MARGIN_SECONDS = 0.4


def test_a_boxs_first_job_costs_what_its_second_does(tmp_path: Path) -> None:
    config = SandboxConfig(prewarm=False, work_root=str(tmp_path))
    cpu = {}
    for participant in ("participant-1", "participant-2"):
        for job in ("first", "second"):
            result = judge(tmp_path, HONEST, sandbox=config, participant=participant)
            assert result["ok"] is True, result["reason"]
            cpu[participant, job] = result["cpu_seconds"]
    nursery = sandbox._nursery
    assert nursery is not None

    imports = nursery.cgroup.cpu_seconds()
    assert imports > 2 * MARGIN_SECONDS, (imports, cpu)
    for participant in ("participant-1", "participant-2"):
        first, second = cpu[participant, "first"], cpu[participant, "second"]
        assert abs(first - second) < MARGIN_SECONDS, (participant, cpu, imports)
