"""Grades as CSV and JSON, the same columns in both (for the admin's downloads
and the API)."""

from __future__ import annotations

import csv
import io
from typing import Any

from foundation.spreadsheet_cells import spreadsheet_text
from grades.marks import HIGHER_IS_BETTER
from grades.models import COMPONENTS
from grades.selectors import GradeRow, Grades

# The CSV's columns in order; the JSON rows have the same keys, with the
# questions and components as the same flat keys.
COLUMNS = (
    "rank",
    "participant",
    "team",
    "mark",
    "final",
    "submission_id",
    "represented_by",
    "public_score",
    "private_score",
    "cpu_seconds",
    "peak_memory_mb",
    "submissions",
    "endpoint_registered",
    "endpoint_uptime",
    "endpoint_sla",
    "endpoint_releases_behind",
    "questions_posed",
    "questions_answered",
    "questions_correct",
    "questions_partial",
    "questions_missed",
    "questions_open",
    "receipt_score",
    "missing",
    *(f"component_{key}" for key, _ in COMPONENTS),
)


def grade_record(row: GradeRow, *, final: bool) -> dict[str, Any]:
    """One student's row as plain values, keyed by COLUMNS (`missing` a list)."""
    questions = row.questions
    return {
        "rank": row.rank,
        "participant": row.participant,
        "team": row.team,
        "mark": row.mark,
        "final": final,
        "submission_id": row.submission_id,
        "represented_by": row.represented_by,
        "public_score": row.public_score,
        "private_score": row.private_score,
        "cpu_seconds": row.cpu_seconds,
        "peak_memory_mb": row.peak_memory_mb,
        "submissions": row.submissions,
        "endpoint_registered": row.endpoint_registered,
        "endpoint_uptime": row.endpoint_uptime,
        "endpoint_sla": row.endpoint_sla,
        "endpoint_releases_behind": row.endpoint_releases_behind,
        "questions_posed": questions.posed,
        "questions_answered": questions.answered,
        "questions_correct": questions.correct,
        "questions_partial": questions.partial,
        "questions_missed": questions.missed,
        "questions_open": questions.open,
        "receipt_score": row.receipt_score,
        "missing": list(row.missing),
        **{f"component_{key}": row.components.get(key) for key, _ in COMPONENTS},
    }


def scaling_record(grades: Grades) -> dict[str, dict[str, Any]]:
    """How the score and each cost were scaled (tolerances in %, costs only)."""
    record: dict[str, dict[str, Any]] = {}
    for key, scaling in grades.scalings.items():
        record[key] = {
            "scaling": scaling.kind,
            "worth_0": scaling.worth_zero,
            "worth_1": scaling.worth_one,
        }
        if key not in HIGHER_IS_BETTER:
            record[key]["tolerance_percent"] = round(scaling.tolerance * 100, 6)
    return record


def grades_json(grades: Grades) -> dict[str, Any]:
    return {
        "challenge": grades.challenge.slug,
        "final": grades.final,
        "note": grades.note,
        "score_used": "private_score" if grades.final else "public_score",
        "weights": grades.weights,
        "out_of": grades.out_of,
        "scaling": scaling_record(grades),
        "formula": grades.formula,
        "rows": [grade_record(row, final=grades.final) for row in grades.rows],
    }


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return spreadsheet_text(";".join(value))
    return spreadsheet_text(value)


def grades_csv(grades: Grades) -> str:
    """One header line, then one line per student; `final` on every line says
    whether the marks are final or provisional, `missing` lists flags joined by ";"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in grades.rows:
        record = grade_record(row, final=grades.final)
        writer.writerow([_cell(record[column]) for column in COLUMNS])
    return buffer.getvalue()


def grades_filename(grades: Grades, extension: str) -> str:
    status = "final" if grades.final else "provisional"
    return f"grades-{grades.challenge.slug}-{status}.{extension}"
