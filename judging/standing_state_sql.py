"""The UPDATE trigger functions of the kept standings (judging/standing_sql.py) and
the history chart's points (judging/improvement_sql.py), narrowed to the state
changes that can move them.

Both used to recompute a participant whenever a submission's `state` changed at
all. The standings read the state only as "cancelled or not" (what a participant
made) and "scored or not" (who may represent them); the points only as "scored or
not". So the claim (new -> queued), the start (queued -> running), a retry
(running -> new) and a failure (running -> failed) recompute neither: two of a
judged submission's three UPDATEs no longer recompute anything. A statement that
touches no participant also skips the refresh's statements (advisory locks, the
DELETE, the INSERT ... SELECT), which ran with an empty list before.

The trigger stays FOR EACH STATEMENT with transition tables (PostgreSQL refuses a
column list, `UPDATE OF`, on such a trigger, and a row trigger would recompute a
participant once per row of a bulk update, as contributivity's is).

Migration judging 0012 replaces the two functions with these; its reverse puts
back the ones of 0009 and 0010 (this module keeps their columns, so a later change to
those modules does not change what applying or reversing 0012 does).
"""

from __future__ import annotations

from typing import Any

# The columns each reads, as at 0009 and 0010 (standing_sql.py's and
# improvement_sql.py's READ_COLUMNS), written out so this migration's text is fixed.
STANDING_READ_COLUMNS = (
    "challenge_id",
    "participant_id",
    "state",
    "selected",
    "promoted",
    "created_at",
    "public_score",
    "private_score",
    "cv_mean",
    "cv_std",
    "cpu_seconds",
    "peak_memory_mb",
    "fit_seconds",
    "contributivity",
)
IMPROVEMENT_READ_COLUMNS = (
    "challenge_id",
    "participant_id",
    "state",
    "created_at",
    "public_score",
    "cpu_seconds",
)


def _distinct(columns: tuple[str, ...]) -> list[str]:
    return [f"o.{column} IS DISTINCT FROM n.{column}" for column in columns]


def _state_is(state: str) -> str:
    return f"(o.state = '{state}') IS DISTINCT FROM (n.state = '{state}')"


# What can move a standing: every column it reads but the state, and the two
# questions it asks of the state.
STANDING_CHANGED = " OR ".join(
    [
        *_distinct(tuple(c for c in STANDING_READ_COLUMNS if c != "state")),
        _state_is("cancelled"),
        _state_is("scored"),
    ]
)
IMPROVEMENT_CHANGED = " OR ".join(
    [*_distinct(tuple(c for c in IMPROVEMENT_READ_COLUMNS if c != "state")), _state_is("scored")]
)


def _updated(name: str, changed: str) -> str:
    """The UPDATE trigger function of judging_{name}_refresh: the participants (old
    and new) of the rows where `changed` holds, refreshed only if there are any.
    Called with this module's constants only, never with input."""
    return f"""CREATE OR REPLACE FUNCTION judging_{name}_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    touched := ARRAY(
        SELECT DISTINCT moved.participant_id
        FROM old_rows AS o
        JOIN new_rows AS n ON n.id = o.id
        CROSS JOIN LATERAL (VALUES (o.participant_id), (n.participant_id)) AS moved(participant_id)
        WHERE {changed}
    );
    IF cardinality(touched) > 0 THEN
        PERFORM judging_{name}_refresh(touched);
    END IF;
    RETURN NULL;
END
$$;
"""  # noqa: S608


def _updated_as_before(name: str, columns: tuple[str, ...]) -> str:
    # The text of 0009's and 0010's functions (standing_sql.py, improvement_sql.py).
    changed = " OR ".join(_distinct(columns))
    return f"""CREATE OR REPLACE FUNCTION judging_{name}_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM judging_{name}_refresh(ARRAY(
        SELECT o.participant_id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE {changed}
        UNION
        SELECT n.participant_id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE {changed}
    ));
    RETURN NULL;
END
$$;
"""  # noqa: S608


NARROWED = _updated("standing", STANDING_CHANGED) + _updated("improvement", IMPROVEMENT_CHANGED)
AS_BEFORE = _updated_as_before("standing", STANDING_READ_COLUMNS) + _updated_as_before(
    "improvement", IMPROVEMENT_READ_COLUMNS
)


def _run(schema_editor: Any, sql: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        # Without parameters: several statements in one string.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


def narrow_update_triggers(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, NARROWED)


def widen_update_triggers(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, AS_BEFORE)
