"""A release the demo model server cannot learn from (here: no target column)
does not take the endpoint down: the previous model keeps answering, and
/health says what is wrong with the release."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd

from tests.probe_servers import model_server_process


def test_the_previous_model_answers_and_health_names_the_problem(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    releases.mkdir()
    good = pd.DataFrame({"x": [0, 1, 2, 3], "label": ["a", "a", "b", "b"]})
    good.to_csv(releases / "release-001.csv", index=False)
    instances = {"instances": [{"x": 0}, {"x": 3}]}

    with model_server_process(releases, "--target", "label") as url:
        good.rename(columns={"label": "class"}).to_csv(releases / "release-002.csv", index=False)
        answer = httpx.post(f"{url}/predict", json=instances, timeout=30)
        health = httpx.get(f"{url}/health", timeout=30).json()

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": ["a", "b"], "data_version": "1"}
    assert health["data_version"] == "1"
    assert "--target 'label': release-002.csv has no such column" in health["problem"]
