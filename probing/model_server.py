"""A small prediction server, the demo's endpoint and a starting point for
students: a scikit-learn model served in all three protocols ppipe probes.

It trains on every release file in a folder (`release-NNN.csv`, `.parquet` or
`.jsonl`, as ppipe delivers them), retrains when a new one arrives, and reports
the newest release it has seen as its data version, so freshness shows.

    python -m probing.model_server --releases var/releases/breast-cancer-demo \\
        --target diagnosis --id-column patient_id --port 8765

Columns: the target is learnt; the id column is not a feature (it names rows:
answers carry the request's ids next to the predictions). Without `--id-column`,
a column named `id` (any case) is the id, or else a text column whose values
all differ (one-hot encoding it would learn nothing that carries to new rows).
Text and categorical columns are one-hot encoded, numbers go in as they are.

Paths: `POST /invocations` (MLflow), `POST /v2/models/{name}/infer` (v2),
`POST /predict` (plain JSON); `GET /health`.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

RELEASE = re.compile(r"release-(\d+)\.(csv|parquet|jsonl)$")
TIMING_HEADER = "X-Server-Time-Ms"


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True)
    return pd.read_csv(path)


class ReleaseProblem(ValueError):
    """A release this server cannot learn from; the message says what to change."""


@dataclass
class Trained:
    version: str
    model: Pipeline
    columns: list[str]  # the features, in the order of a v2 tensor's columns
    id_column: str | None


def find_id_column(frame: pd.DataFrame, target: str, given: str | None) -> str | None:
    if given:
        if given not in frame.columns:
            raise ReleaseProblem(f"--id-column {given!r}: the releases have no such column")
        return given
    for name in frame.columns:
        if str(name).lower() == "id" and name != target:
            return str(name)
    if len(frame) < 2:
        return None
    text = frame.drop(columns=[target]).select_dtypes(exclude="number")
    # A text column with a different value on every row names the rows: as a
    # feature it would only add one column per training row.
    return next((str(c) for c in text.columns if frame[c].is_unique), None)


def build_model(features: pd.DataFrame, regression: bool) -> Pipeline:
    # pandas 3 reads text as `str`, not `object`: select by "not a number".
    text = list(features.select_dtypes(exclude="number").columns)
    encode = ColumnTransformer(
        # An unseen category at prediction time becomes all zeros, not an error.
        [("categories", OneHotEncoder(handle_unknown="ignore"), text)],
        remainder="passthrough",
    )
    forest = RandomForestRegressor if regression else RandomForestClassifier
    return Pipeline([("encode", encode), ("forest", forest(n_estimators=50, random_state=0))])


class ModelKeeper:
    """The model trained on every release in `folder` so far, retrained when one arrives."""

    def __init__(
        self,
        folder: Path,
        target: str,
        drop: list[str],
        regression: bool,
        id_column: str | None = None,
    ) -> None:
        self.folder, self.target, self.drop, self.regression = folder, target, drop, regression
        self.id_column = id_column
        self.current: Trained | None = None
        self.tried: str | None = None  # the newest release a training was started on
        self.problem = ""
        self._frames: dict[int, pd.DataFrame] = {}  # releases read so far, by number
        self._lock = threading.Lock()

    def releases(self) -> list[tuple[int, Path]]:
        found = []
        for path in self.folder.glob("release-*"):
            match = RELEASE.search(path.name)
            if match:
                found.append((int(match.group(1)), path))
        return sorted(found)

    def refresh(self) -> Trained | None:
        """Train on the releases if one arrived since the last try. Requests that come
        meanwhile get the previous model, and so do all if the new release is unusable
        (`problem` says why, and /health shows it): a bad file must not take the
        endpoint down."""
        releases = self.releases()
        if not releases or self.tried == str(releases[-1][0]):
            return self.current
        with self._lock:
            newest = str(releases[-1][0])
            if self.tried != newest:
                self.tried = newest
                try:
                    self.current, self.problem = self._train(releases), ""
                except ReleaseProblem as error:
                    self.problem = str(error)
        return self.current

    def _read_release(self, path: Path) -> pd.DataFrame:
        try:
            frame = _read(path)
        except (OSError, ValueError) as error:
            raise ReleaseProblem(f"{path.name} cannot be read: {error}") from error
        if self.target not in frame.columns:
            raise ReleaseProblem(
                f"--target {self.target!r}: {path.name} has no such column; "
                f"it has: {', '.join(map(str, frame.columns))}"
            )
        return frame

    def _train(self, releases: list[tuple[int, Path]]) -> Trained:
        for number, path in releases:
            if number not in self._frames:
                self._frames[number] = self._read_release(path)
        # Incremental releases each hold new rows: learn from all of them, in order.
        frame = pd.concat([self._frames[n] for n, _ in releases], ignore_index=True)
        id_column = find_id_column(frame, self.target, self.id_column)
        # Cumulative releases repeat earlier rows: keep each row once (the newest).
        frame = frame.drop_duplicates(subset=[id_column] if id_column else None, keep="last")
        unused = (self.target, id_column, *self.drop)
        x = frame.drop(columns=[c for c in frame.columns if c in unused])
        model = build_model(x, self.regression)
        try:
            model.fit(x, frame[self.target])
        except ValueError as error:  # e.g. an empty target cell: say so, keep serving
            raise ReleaseProblem(f"training failed: {error}") from error
        return Trained(str(releases[-1][0]), model, list(x.columns), id_column)


def _request_frame(path: str, payload: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    """The rows asked about, as sent: the features, and the id column if there is one."""
    if path == "/invocations":
        split = payload["dataframe_split"]
        return pd.DataFrame(split["data"], columns=split["columns"])
    if path == "/predict":
        return pd.DataFrame(payload["instances"])
    tensors = payload["inputs"]
    if len(tensors) == 1 and len(tensors[0]["shape"]) == 2:
        rows, width = tensors[0]["shape"]
        return pd.DataFrame(np.asarray(tensors[0]["data"]).reshape(rows, width), columns=columns)
    return pd.DataFrame({t["name"]: t["data"] for t in tensors})


def _features(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)} (the model needs {columns})")
    return frame[columns]


def _tensor(name: str, values: list[Any]) -> dict[str, Any]:
    if all(isinstance(v, float) for v in values):
        kind = "FP64"
    elif all(isinstance(v, int) for v in values):
        kind = "INT64"
    else:
        kind = "BYTES"  # class names, text ids
    return {"name": name, "shape": [len(values)], "datatype": kind, "data": values}


def _answer(
    path: str, predictions: list[Any], ids: list[Any] | None, version: str, model_name: str
) -> dict[str, Any]:
    """One prediction per row, in order (what probes read); with the rows' ids when
    the request sent them, so a client can key the predictions by id."""
    if path.startswith("/v2/"):
        outputs = [_tensor("predict", predictions)]
        if ids is not None:
            outputs.append(_tensor("id", ids))
        return {
            "model_name": model_name,
            "outputs": outputs,
            "parameters": {"data_version": version},
        }
    body: dict[str, Any] = {"predictions": predictions, "data_version": version}
    if ids is not None:
        body["ids"] = ids
    return body


def handler_for(keeper: ModelKeeper, model_name: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(
            self, status: int, body: dict[str, Any], started: float, version: str = ""
        ) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if version:
                self.send_header("X-Data-Version", version)
            self.send_header(TIMING_HEADER, f"{(time.perf_counter() - started) * 1000:.3f}")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            started = time.perf_counter()
            trained = keeper.current
            version = trained and trained.version
            ready = trained is not None
            self._send(
                200, {"ready": ready, "data_version": version, "problem": keeper.problem}, started
            )

        def do_POST(self) -> None:
            started = time.perf_counter()
            path = self.path.split("?")[0]
            known = path in ("/invocations", "/predict") or path == f"/v2/models/{model_name}/infer"
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}")
            if not known:
                self._send(404, {"error": f"no such path: {path}"}, started)
                return
            trained = keeper.refresh()
            if trained is None:
                problem = keeper.problem or "no release has arrived yet"
                self._send(503, {"error": problem}, started)
                return
            try:
                frame = _request_frame(path, payload, trained.columns)
                rows = _features(frame, trained.columns)
            except (KeyError, ValueError, TypeError) as error:
                self._send(400, {"error": f"bad request: {error}"}, started)
                return
            ids = frame[trained.id_column].tolist() if trained.id_column in frame else None
            predictions = trained.model.predict(rows).tolist()
            body = _answer(path, predictions, ids, trained.version, model_name)
            self._send(200, body, started, trained.version)

    return Handler


def serve(keeper: ModelKeeper, host: str, port: int, model_name: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), handler_for(keeper, model_name))
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--releases", type=Path, required=True, help="the folder releases land in")
    parser.add_argument("--target", required=True, help="the target column")
    parser.add_argument(
        "--id-column",
        help="the column naming each row (default: `id`, else an all-distinct text one)",
    )
    parser.add_argument("--drop", action="append", default=[], help="a column not to train on")
    parser.add_argument("--regression", action="store_true")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--model-name", default="model")
    args = parser.parse_args()
    keeper = ModelKeeper(args.releases, args.target, args.drop, args.regression, args.id_column)
    keeper.refresh()
    if keeper.problem:
        parser.error(keeper.problem)
    server = serve(keeper, args.host, args.port, args.model_name)
    print(f"serving on http://{args.host}:{args.port} (model {args.model_name!r})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
