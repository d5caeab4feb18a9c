"""The demo model server, started as a student starts it, learns from a CSV with a
string id column and a categorical feature: the id is not a feature (named, or
found because every value differs), categories are one-hot encoded, answers are
keyed by the ids sent, and probes (which send no id) get predictions in order."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd

from tests.probe_servers import model_server_process


def customers_release(folder: Path) -> Path:
    """The colour decides the answer; size is noise; every customer has an id like C0007."""
    folder.mkdir(parents=True)
    colours = ["red", "green", "blue"] * 20
    frame = pd.DataFrame(
        {
            "customer": [f"C{number:04d}" for number in range(len(colours))],
            "colour": colours,
            "size": [(number * 7) % 10 for number in range(len(colours))],
            "buys": ["yes" if colour == "red" else "no" for colour in colours],
        }
    )
    frame.to_csv(folder / "release-001.csv", index=False)
    return folder


def _predict(url: str, instances: list[dict[str, object]]) -> dict[str, object]:
    response = httpx.post(f"{url}/predict", json={"instances": instances}, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_answers_are_keyed_by_a_string_id_found_on_its_own(tmp_path: Path) -> None:
    releases = customers_release(tmp_path / "releases")
    asked = [
        {"customer": "N-1", "colour": "red", "size": 3},
        {"customer": "N-2", "colour": "blue", "size": 3},
        {"customer": "N-3", "colour": "purple", "size": 9},  # a colour never seen
    ]

    with model_server_process(releases, "--target", "buys") as url:
        body = _predict(url, asked)

    keyed = dict(zip(body["ids"], body["predictions"], strict=True))  # type: ignore[call-overload]
    assert keyed["N-1"] == "yes"
    assert keyed["N-2"] == "no"
    assert keyed["N-3"] in {"yes", "no"}
    assert body["data_version"] == "1"


def test_a_named_id_column_is_not_needed_to_predict(tmp_path: Path) -> None:
    releases = customers_release(tmp_path / "releases")
    # Probes send the features only, as MLflow's dataframe_split.
    split = {"columns": ["colour", "size"], "data": [["green", 1], ["red", 1]]}

    with model_server_process(releases, "--target", "buys", "--id-column", "customer") as url:
        response = httpx.post(f"{url}/invocations", json={"dataframe_split": split}, timeout=30)

    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == ["no", "yes"]
    assert "ids" not in response.json()
