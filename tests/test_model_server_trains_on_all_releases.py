"""With incremental releases, the demo model server learns from every release it
has received so far, not the newest alone: after a second release holding only
another class, it still predicts the first class where the first release said so."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd

from tests.probe_servers import model_server_process


def write_release(folder: Path, sequence: int, label: str, start: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        {"id": range(sequence * 100, sequence * 100 + 30), "x": [start + i / 3 for i in range(30)]}
    )
    frame["label"] = label
    frame.to_csv(folder / f"release-{sequence:03d}.csv", index=False)


def _predict(url: str, xs: list[float]) -> dict[str, object]:
    instances = [{"x": x} for x in xs]
    response = httpx.post(f"{url}/predict", json={"instances": instances}, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_after_the_second_release_both_classes_are_predicted(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    write_release(releases, 1, "low", start=0)

    with model_server_process(releases, "--target", "label") as url:
        first = _predict(url, [5, 105])
        write_release(releases, 2, "high", start=100)
        second = _predict(url, [5, 105])

    assert first == {"predictions": ["low", "low"], "data_version": "1"}
    assert second == {"predictions": ["low", "high"], "data_version": "2"}
