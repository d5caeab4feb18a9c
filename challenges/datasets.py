"""Reading and checking a teacher's dataset. Pure functions: no Django models.

Every problem is reported as a sentence that tells the teacher what to fix.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

import pandas as pd
import pyarrow as pa

from challenges.csv_sniffing import SAMPLE_BYTES, CsvDialect, NotCsvError, sniff_csv

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
CLASSIFICATION = "classification"
REGRESSION = "regression"


class DatasetError(ValueError):
    """The dataset cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class DatasetProblem:
    field: str
    message: str


def dataset_format(filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        raise DatasetError(
            f"'{PurePath(filename).name}' is neither a .csv nor a .parquet file: "
            "export the dataset as CSV (UTF-8, header row; comma, semicolon, tab or pipe "
            "separated) or Parquet."
        ) from None


def sha256_of(stream: IO[bytes], *, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    for chunk in iter(lambda: stream.read(chunk_size), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def read_dataset(source: str | IO[bytes], fmt: str) -> pd.DataFrame:
    """Parse a CSV or Parquet dataset, turning every parser failure into a DatasetError."""
    if hasattr(source, "seek"):
        source.seek(0)
    dialect = CsvDialect(",", ".")
    try:
        if fmt == "csv":
            dialect = _csv_dialect(source)
            frame = pd.read_csv(
                source, sep=dialect.separator, decimal=dialect.decimal, encoding="utf-8"
            )
        elif fmt == "parquet":
            frame = pd.read_parquet(source)
        else:
            raise DatasetError(f"unknown dataset format {fmt!r}")
    except pd.errors.EmptyDataError:
        raise DatasetError(
            "The file is empty: upload a dataset with a header row and data rows."
        ) from None
    except UnicodeDecodeError:
        raise DatasetError(
            "The file is not UTF-8 text: save the CSV as UTF-8 and upload it again."
        ) from None
    except (pd.errors.ParserError, csv.Error) as error:
        raise DatasetError(
            f"The CSV does not parse: {error}. Check the separators and quoting."
        ) from None
    except (pa.ArrowException, OSError) as error:
        raise DatasetError(f"The Parquet file does not parse: {error}.") from None
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    if frame.shape[1] == 0 or frame.empty:
        raise DatasetError(
            "The dataset has no data rows: upload a file with a header row and data rows."
        )
    header = (
        _csv_header(source, dialect) if fmt == "csv" else [str(column) for column in frame.columns]
    )
    # Nameless columns are left to pandas ("Unnamed: 3"), as before.
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise DatasetError(
            f"The header names column(s) {_names(repeated)} more than once: give each "
            "column its own name and upload the file again."
        )
    frame.columns = [str(column) for column in frame.columns]
    return frame


def _csv_dialect(source: str | IO[bytes]) -> CsvDialect:
    """The file's separator, from its first bytes; a file that is no CSV at all is
    named for what it looks like, before pandas answers with a tokenizer error."""
    if isinstance(source, str):
        with open(source, "rb") as handle:
            head = handle.read(SAMPLE_BYTES)
    else:
        head = source.read(SAMPLE_BYTES)
        source.seek(0)
    try:
        return sniff_csv(head)
    except NotCsvError as error:
        raise DatasetError(str(error)) from None


def _csv_header(source: str | IO[bytes], dialect: CsvDialect) -> list[str]:
    """The header row as written: pandas renames a repeated name ('a', 'a.1'),
    which would hide the repetition."""
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        row = pd.read_csv(
            source, sep=dialect.separator, header=None, nrows=1, dtype=str, encoding="utf-8"
        )
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    return ["" if pd.isna(value) else str(value) for value in row.iloc[0].tolist()]


def _names(columns: Iterable[Any]) -> str:
    return ", ".join(f"'{column}'" for column in columns)


def dataset_problems(
    frame: pd.DataFrame,
    *,
    target_column: str,
    id_column: str,
    task_type: str,
    min_rows: int,
) -> list[DatasetProblem]:
    """Everything wrong with a parsed dataset for the given configuration."""
    problems: list[DatasetProblem] = []
    columns = list(frame.columns)
    if len(frame) < min_rows:
        problems.append(
            DatasetProblem(
                "dataset",
                f"The dataset has {len(frame)} rows; a challenge needs at least {min_rows} "
                "to hold back a hidden test set and run cross-validation.",
            )
        )
    empty = [column for column in columns if frame[column].isna().all()]
    if empty:
        problems.append(
            DatasetProblem("dataset", f"Column(s) {_names(empty)} are entirely empty: remove them.")
        )
    if target_column not in columns:
        problems.append(
            DatasetProblem(
                "target_column",
                f"The dataset has no column '{target_column}'. Its columns are: {_names(columns)}.",
            )
        )
    else:
        if target_column not in empty:
            problems.extend(_target_problems(frame[target_column], task_type=task_type))
        features = [column for column in columns if column not in (target_column, id_column)]
        if not features:
            problems.append(
                DatasetProblem(
                    "dataset",
                    f"The dataset has no feature column, only {_names(columns)}: add the "
                    "columns students predict the target from.",
                )
            )
    if id_column:
        if id_column not in columns:
            problems.append(
                DatasetProblem(
                    "id_column",
                    f"The dataset has no column '{id_column}'. Its columns are: {_names(columns)}.",
                )
            )
        elif id_column == target_column:
            problems.append(
                DatasetProblem("id_column", "The id column cannot be the target column.")
            )
        elif not frame[id_column].is_unique or frame[id_column].isna().any():
            duplicated = frame[id_column][frame[id_column].duplicated()].head(3).tolist()
            problems.append(
                DatasetProblem(
                    "id_column",
                    f"The id column '{id_column}' must identify each row once; "
                    f"repeated or missing values, e.g. {duplicated}.",
                )
            )
    return problems


def _target_problems(target: pd.Series, *, task_type: str) -> list[DatasetProblem]:
    missing = int(target.isna().sum())
    if missing:
        return [
            DatasetProblem(
                "target_column",
                f"The target column '{target.name}' is empty in {missing} row(s): "
                "drop those rows or fill them in.",
            )
        ]
    if task_type == REGRESSION and not pd.api.types.is_numeric_dtype(target):
        return [
            DatasetProblem(
                "task_type",
                f"Regression needs a numeric target; '{target.name}' holds text "
                f"(e.g. {target.iloc[0]!r}). Choose classification, or a numeric target.",
            )
        ]
    if task_type == CLASSIFICATION:
        counts = target.value_counts()
        if len(counts) < 2:
            return [
                DatasetProblem(
                    "target_column",
                    f"The target '{target.name}' has a single class: "
                    "classification needs two or more.",
                )
            ]
        rare = counts[counts < 2]
        if len(rare):
            return [
                DatasetProblem(
                    "target_column",
                    f"Class(es) {_names(rare.index)} of '{target.name}' have a single row: "
                    "a stratified split needs at least two rows per class.",
                )
            ]
    return []
