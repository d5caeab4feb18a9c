"""A small prediction server, the demo's endpoint and a starting point for
students: a scikit-learn model served in all three protocols ppipe probes.

It trains on the newest release file in a folder (`release-NNN.csv`, `.parquet`
or `.jsonl`, as ppipe delivers them), retrains when a newer one arrives, and
reports the release it was trained on as its data version, so freshness shows.

    python -m probing.model_server --releases var/releases/breast-cancer-demo \\
        --target target --port 8765

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
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.pipeline import Pipeline, make_pipeline

RELEASE = re.compile(r"release-(\d+)\.(csv|parquet|jsonl)$")
TIMING_HEADER = "X-Server-Time-Ms"


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True)
    return pd.read_csv(path)


@dataclass
class Trained:
    version: str
    model: Pipeline
    columns: list[str]


class ModelKeeper:
    """The model trained on the newest release in `folder`, retrained on demand."""

    def __init__(self, folder: Path, target: str, drop: list[str], regression: bool) -> None:
        self.folder, self.target, self.drop, self.regression = folder, target, drop, regression
        self.current: Trained | None = None
        self._lock = threading.Lock()

    def newest_release(self) -> tuple[int, Path] | None:
        found = []
        for path in self.folder.glob("release-*"):
            match = RELEASE.search(path.name)
            if match:
                found.append((int(match.group(1)), path))
        return max(found) if found else None

    def refresh(self) -> Trained | None:
        newest = self.newest_release()
        if newest is None or (self.current and self.current.version == str(newest[0])):
            return self.current
        with self._lock:
            frame = _read(newest[1])
            x = frame.drop(columns=[c for c in (self.target, *self.drop) if c in frame.columns])
            forest = RandomForestRegressor if self.regression else RandomForestClassifier
            model = make_pipeline(forest(n_estimators=50, random_state=0))
            model.fit(x, frame[self.target])
            self.current = Trained(str(newest[0]), model, list(x.columns))
        return self.current


def _rows_of(path: str, payload: dict[str, Any], columns: list[str]) -> pd.DataFrame:
    if path == "/invocations":
        split = payload["dataframe_split"]
        return pd.DataFrame(split["data"], columns=split["columns"])[columns]
    if path == "/predict":
        return pd.DataFrame(payload["instances"])[columns]
    tensors = payload["inputs"]
    if len(tensors) == 1 and len(tensors[0]["shape"]) == 2:
        rows, width = tensors[0]["shape"]
        return pd.DataFrame(np.asarray(tensors[0]["data"]).reshape(rows, width), columns=columns)
    return pd.DataFrame({t["name"]: t["data"] for t in tensors})[columns]


def _answer(path: str, predictions: list[Any], version: str, model_name: str) -> dict[str, Any]:
    if path.startswith("/v2/"):
        kind = "FP64" if all(isinstance(p, float) for p in predictions) else "INT64"
        output = {"name": "predict", "shape": [len(predictions)], "datatype": kind}
        return {
            "model_name": model_name,
            "outputs": [{**output, "data": predictions}],
            "parameters": {"data_version": version},
        }
    return {"predictions": predictions, "data_version": version}


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
            self._send(
                200,
                {"ready": trained is not None, "data_version": trained and trained.version},
                started,
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
                self._send(503, {"error": "no release has arrived yet"}, started)
                return
            try:
                rows = _rows_of(path, payload, trained.columns)
            except (KeyError, ValueError, TypeError) as error:
                self._send(400, {"error": f"bad request: {error}"}, started)
                return
            predictions = trained.model.predict(rows).tolist()
            body = _answer(path, predictions, trained.version, model_name)
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
    parser.add_argument("--drop", action="append", default=[], help="a column not to train on")
    parser.add_argument("--regression", action="store_true")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--model-name", default="model")
    args = parser.parse_args()
    keeper = ModelKeeper(args.releases, args.target, args.drop, args.regression)
    keeper.refresh()
    server = serve(keeper, args.host, args.port, args.model_name)
    print(f"serving on http://{args.host}:{args.port} (model {args.model_name!r})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
