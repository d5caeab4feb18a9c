"""The entry point of a starting kit's `ppipe_test.py`: a submission run on the
student's rows with the judge's own folds, contract and metric.

This module's source is copied verbatim into every kit's `ppipe_test.py`
(judging/starting_kit.py), after the judge's modules it needs, embedded as text:
worker_wing/judge/runner_fold.py runs each fold exactly as the sandbox's fold
process does (the same `_run_fold`, in a forked child with a fresh import of the
submission), worker_wing/judge/predictions.py reads the predictions back, and
worker_wing/judge/metrics.py scores them. Nothing of the judge is written twice,
so the local score cannot drift from the platform's.

It runs on a student's machine: the standard library at the top, then only what
the judge itself uses (numpy, pandas, scikit-learn, PyYAML for pipelines).
Nothing here imports Django or the rest of ppipe.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

# A release file as a destination receives it: release-003.csv.
RELEASE_NAME = re.compile(r"^release-(\d+)\.(csv|parquet|jsonl)$")
# Locally, any sweep runs (the challenge's own cap applies on upload).
MAX_SWEEP = 10_000


class KitError(Exception):
    """Something the student can fix; the message says what."""


def unpack_judge(sources: dict[str, str], folder: Path) -> None:
    """The judge's modules as files (their checks run some as scripts), importable."""
    for name, text in sources.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    sys.path.insert(0, str(folder))


def _read_release(path: Path) -> Any:
    import pandas as pd

    if path.suffix == ".csv":
        # round_trip: the floats read back are the bits the platform wrote.
        return pd.read_csv(path, float_precision="round_trip")
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True)
    return pd.read_parquet(path)


def fetched_rows(data: Path, releases: list[dict[str, Any]]) -> tuple[Any, list[int]]:
    """Rows the student fetched (release files, or a folder of them) and their
    positions among the training rows, each position once."""
    import pandas as pd

    known = {int(release["sequence"]): release for release in releases}
    files = sorted(data.iterdir()) if data.is_dir() else [data]
    parts: list[Any] = []
    positions: list[int] = []
    seen: set[int] = set()
    for path in files:
        matched = RELEASE_NAME.match(path.name)
        if matched is None:
            if not data.is_dir():
                raise KitError(f"{path.name} is not a release file (release-NNN.csv|parquet|jsonl)")
            continue
        release = known.get(int(matched.group(1)))
        if release is None:
            raise KitError(
                f"{path.name} is newer than this kit: download the kit again to get its folds"
            )
        frame = _read_release(path)
        start, stop = int(release["row_start"]), int(release["row_stop"])
        if len(frame) != stop - start:
            raise KitError(f"{path.name} has {len(frame)} rows; the release had {stop - start}")
        keep = [i for i in range(len(frame)) if start + i not in seen]
        seen.update(start + i for i in keep)
        parts.append(frame.iloc[keep])
        positions += [start + i for i in keep]
    if not parts:
        raise KitError(f"no release files (release-NNN.csv|parquet|jsonl) in {data}")
    rows = pd.concat(parts, ignore_index=True)
    order = sorted(range(len(positions)), key=positions.__getitem__)
    return rows.iloc[order].reset_index(drop=True), [positions[i] for i in order]


def kit_rows(kit: Path, data: Path | None, challenge: dict[str, Any]) -> tuple[Any, list[int]]:
    """The rows to run on, in training-row order, and their positions."""
    import pandas as pd

    if data is not None:
        return fetched_rows(data, challenge["releases"])
    train = kit / "data" / "train.parquet"
    if not train.exists():
        raise KitError(
            "this kit holds no rows (the challenge does not allow downloads): fetch the "
            "releases from where they arrive (see README.md) and run "
            "`python ppipe_test.py estimator.py --data FOLDER`"
        )
    folds = pd.read_csv(kit / "data" / "folds.csv")
    return pd.read_parquet(train), [int(row) for row in folds["row"]]


def fold_of_rows(kit: Path, positions: list[int]) -> Any:
    """Each row's fold, as the judge assigns it on all the training rows."""
    import numpy as np
    import pandas as pd

    table = pd.read_csv(kit / "data" / "folds.csv")
    folds = dict(zip(table["row"].tolist(), table["fold"].tolist(), strict=True))
    missing = [row for row in positions if row not in folds]
    if missing:
        raise KitError(
            f"{len(missing)} rows have no fold in this kit (first: row {missing[0]}): "
            "download the kit again after the latest release"
        )
    return np.asarray([folds[row] for row in positions], dtype=np.int16)


def submission_plans(
    submission: Path, configuration: str, sweep: bool, judge_dir: Path
) -> tuple[str, list[Any]]:
    """The submission checked as the upload checks it, its files where the runner
    reads them, and the run plan of its configuration (with `sweep`, of each one)."""
    check = importlib.import_module("worker_wing.pipeline.check")
    plan = importlib.import_module("worker_wing.pipeline.plan")
    code_check = importlib.import_module("worker_wing.pipeline.code_check")
    content = submission.read_bytes()
    try:
        spec = check.submission_pipeline_check(
            content, filename=submission.name, max_source_bytes=len(content) + 1
        )
        chosen = plan.configuration_from_text(configuration)
        plans = plan.submission_plans(
            spec, configuration=chosen, sweep=sweep, max_configurations=MAX_SWEEP
        )
    except code_check.SubmissionRejected as error:
        raise KitError(f"{submission.name} would be refused: {error}") from None
    folder = judge_dir / "input" / "submission"
    folder.mkdir(parents=True)
    is_pipeline = submission.name.lower().endswith(".zip")
    if is_pipeline:
        check.extract_pipeline_archive(content, folder)
    else:
        (folder / "estimator.py").write_bytes(content)
    return ("pipeline" if is_pipeline else "estimator"), list(plans)


def stage(judge_dir: Path, rows: Any, positions: list[int], fold_of: Any, target: str) -> Any:
    """The sandbox's /job/input: features without labels, an empty test set, the folds."""
    import numpy as np
    import pandas as pd

    features = rows.drop(columns=[target])
    if positions == list(range(len(positions))):
        features.index = pd.RangeIndex(len(positions))
    else:
        features.index = pd.Index(positions)
    folder = judge_dir / "input"
    features.to_parquet(folder / "features.parquet")
    features.iloc[:0].to_parquet(folder / "test.parquet")
    np.save(folder / "folds.npy", fold_of)
    y = rows[target].copy()
    y.index = features.index
    return y


def run_fold(spec: dict[str, Any], plan: dict[str, Any], fold: int, y: Any, out: Path) -> Any:
    """One fold as the judge's fold process runs it; its validation predictions."""
    import numpy as np

    runner_fold = importlib.import_module("worker_wing.judge.runner_fold")
    files = importlib.import_module("worker_wing.judge.runner_files")
    predictions = importlib.import_module("worker_wing.judge.predictions")
    runner_labels = importlib.import_module("worker_wing.judge.runner_labels")
    out.mkdir(parents=True)
    files_in = Path(files.PLACES.input)
    mask = np.load(files_in / "folds.npy") == fold
    labels = out / "labels"  # as the judge's worker writes a fold's labels
    labels.mkdir()
    runner_labels.write_fold_labels(y[~mask], labels)
    inputs = runner_fold.read_inputs(spec)

    def open_files() -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        files.FOLD_FILES.phase = os.open(out / "phase", flags, 0o600)
        files.FOLD_FILES.result = os.open(out / "fold.json", flags, 0o600)
        files.FOLD_FILES.predictions = os.open(out / "predictions.npy", flags, 0o600)
        files.FOLD_FILES.models = os.open(out / "models", flags, 0o600)

    if hasattr(os, "fork"):
        # A fresh process per fold, as on the judge: nothing one fold's import of the
        # submission did (a global seed, a cache) reaches the next.
        child = os.fork()
        if child == 0:
            status = 1
            try:
                open_files()
                status = runner_fold._run_fold(spec, plan, fold, inputs, str(labels))
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        _, wait_status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(wait_status)
    else:
        open_files()
        code = runner_fold._run_fold(spec, plan, fold, inputs, str(labels))
    phase = (out / "phase").read_text() if (out / "phase").exists() else ""
    if code != 0:
        raise KitError(f"fold {fold} failed (exit {code}) during: {phase or 'start-up'}")
    data = (out / "predictions.npy").read_bytes()
    try:
        read = predictions.read_fold_predictions(data, [int(mask.sum())], 0, spec["task_type"])
    except predictions.PredictionsError as error:
        raise KitError(str(error)) from None
    return read[0].validation, json.loads((out / "fold.json").read_text())


def score_plan(
    spec: dict[str, Any], plan: dict[str, Any], y: Any, fold_of: Any, out: Path, metric: Any
) -> dict[str, Any]:
    """One configuration on every fold that holds rows, scored as the judge scores it."""
    import numpy as np

    scores = []
    for fold in range(int(spec["cv_folds"])):
        validation = np.flatnonzero(fold_of == fold)
        if len(validation) == 0:
            print(f"fold {fold}: no rows of yours are in it yet, skipped", flush=True)
            continue
        predicted, figures = run_fold(spec, plan, fold, y, out / str(fold))
        score = metric.score(y.iloc[validation].to_numpy(), predicted)
        scores.append({"index": fold, "score": score, "rows": len(validation)})
        print(
            f"fold {fold}: {metric.name} {score:.6f} on {len(validation)} rows "
            f"(fit {figures['fit_seconds']:.2f} s, predict {figures['predict_seconds']:.2f} s)",
            flush=True,
        )
    values = [fold["score"] for fold in scores]
    return {
        "cv_mean": float(np.mean(values)),
        "cv_std": float(np.std(values)),
        "folds": scores,
        "configuration": plan.get("configuration") or {},
    }


def evaluate(
    args: argparse.Namespace, challenge: dict[str, Any], judge_dir: Path
) -> dict[str, Any]:
    metrics = importlib.import_module("worker_wing.judge.metrics")
    files = importlib.import_module("worker_wing.judge.runner_files")
    kit = Path(args.kit)
    rows, positions = kit_rows(kit, Path(args.data) if args.data else None, challenge)
    fold_of = fold_of_rows(kit, positions)
    kind, plans = submission_plans(Path(args.submission), args.configuration, args.sweep, judge_dir)
    y = stage(judge_dir, rows, positions, fold_of, challenge["target_column"])
    files.PLACES.input = str(judge_dir / "input")
    spec = {
        "id_column": challenge["id_column"],
        "kind": kind,
        "batch_size": challenge["batch_size"],
        "last_fold": False,
        "task_type": challenge["task_type"],
        "cv_folds": challenge["cv_folds"],
    }
    metric = metrics.get_metric(challenge["metric"])
    print(f"{len(rows)} rows, {challenge['cv_folds']} folds, metric {metric.name}", flush=True)
    results = []
    for index, plan in enumerate(plans):
        if len(plans) > 1:
            print(f"configuration {index + 1} of {len(plans)}: {plan['configuration']}")
        results.append(score_plan(spec, plan, y, fold_of, judge_dir / "out" / str(index), metric))
    # As the judge chooses a sweep's result: the best by cross-validation, the first on ties.
    chosen = max(range(len(results)), key=lambda k: (results[k]["cv_mean"], -k))
    best = dict(results[chosen])
    if len(results) > 1:
        best["configurations"] = [
            {key: result[key] for key in ("configuration", "cv_mean", "cv_std")}
            for result in results
        ]
    return best


def main(argv: list[str], challenge: dict[str, Any], sources: dict[str, str]) -> int:
    parser = argparse.ArgumentParser(
        prog="ppipe_test.py",
        description=f"Run a submission to '{challenge['slug']}' locally as the judge does.",
    )
    parser.add_argument("submission", help="estimator.py, or a pipeline zip")
    parser.add_argument(
        "--configuration", default="", help="a pipeline's configuration, e.g. model=forest"
    )
    parser.add_argument(
        "--sweep", action="store_true", help="run every configuration of a pipeline"
    )
    parser.add_argument(
        "--data",
        default="",
        help="release files you fetched yourself (a folder, or one release-NNN file) "
        "instead of the kit's data/train.parquet",
    )
    parser.add_argument(
        "--kit", default=str(Path(__file__).resolve().parent), help="the kit's folder"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ppipe-test-") as folder:
        unpack_judge(sources, Path(folder) / "judge")
        try:
            result = evaluate(args, challenge, Path(folder) / "run")
        except KitError as error:
            print(f"ppipe_test.py: {error}", file=sys.stderr)
            return 2
    print(json.dumps(result))
    return 0
