"""Reproductions for tests: waiting for one to end, with the workers' logs when it
does not."""

from __future__ import annotations

from judging.models import Reproduction, ReproductionState
from tests.judge_platform import JudgePlatform
from tests.servers import wait_until

WAITING = (ReproductionState.QUEUED, ReproductionState.RUNNING)


def wait_until_reproduced(
    platform: JudgePlatform, reproduction: Reproduction, timeout: float = 90
) -> Reproduction:
    def ended() -> bool:
        reproduction.refresh_from_db()
        return reproduction.state not in WAITING

    try:
        wait_until(ended, timeout=timeout, what=f"reproduction {reproduction.pk} to end")
    except TimeoutError as error:
        raise TimeoutError(f"{error} ({reproduction.state})\n{platform.logs()}") from None
    return reproduction
