"""The PostgreSQL triggers that keep judging_leaderboardimprovement (models.py
`LeaderboardImprovement`) equal to what judging/leaderboard.py `points_computed`
gives: each participant's scored submissions that improved their public score.

The leaderboard page's history chart read them with a window over every scored
submission of the challenge (10,000 rows sorted by participant and time, about
20 ms of PostgreSQL's CPU for each uncached page); kept, a page reads the
challenge's few points per participant through an index.

As for the standings (judging/standing_sql.py, whose design this follows): a
statement that inserts, deletes or changes submissions recomputes the points of
each participant it touched, from that participant's own submissions, in its
own transaction; an update of no column the chart reads recomputes nothing; the
same advisory lock per participant (re-entrant in a transaction, taken in the
same order) makes two writers of one participant take turns. Rows are deleted
and inserted, never updated: a point's id is never reused, so the set of ids
names the chart's content (`leaderboard.points_kept` relies on it).

Migration judging 0010 runs `create_triggers` from here: the SQL must keep
working on 0010's tables (a later change goes in a module and migration of its
own: migration 0012's judging/standing_state_sql.py holds the UPDATE trigger's
current function).
"""

from __future__ import annotations

from typing import Any

from judging.standing_sql import STANDING_LOCK_SPACE

# What the chart reads of a submission: a change to any of them can move a point.
READ_COLUMNS = (
    "challenge_id",
    "participant_id",
    "state",
    "created_at",
    "public_score",
    "cpu_seconds",
)

_CHANGED = " OR ".join(f"o.{column} IS DISTINCT FROM n.{column}" for column in READ_COLUMNS)


def _refresh_from(name: str, rows: str) -> str:
    """The trigger function refreshing every participant of a statement's `rows`
    (called with this module's constants only, never with input)."""
    return f"""CREATE OR REPLACE FUNCTION judging_improvement_{name}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM judging_improvement_refresh(ARRAY(SELECT DISTINCT participant_id FROM {rows}));
    RETURN NULL;
END
$$;
"""  # noqa: S608


# The order and the test are judging/leaderboard.py `points_computed`'s: the best
# public score so far by (created_at, id), the row included, ties counting as an
# improvement. Built from this module's constants only, never from input.
CREATE = f"""
CREATE OR REPLACE FUNCTION judging_improvement_refresh(touched bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    who bigint;
BEGIN
    FOR who IN SELECT DISTINCT t FROM unnest(touched) AS t WHERE t IS NOT NULL ORDER BY t LOOP
        PERFORM pg_advisory_xact_lock({STANDING_LOCK_SPACE}, (who % 2147483647)::int);
    END LOOP;
    DELETE FROM judging_leaderboardimprovement WHERE participant_id = ANY(touched);
    INSERT INTO judging_leaderboardimprovement
        (challenge_id, participant_id, submission_id, created_at, public_score, cpu_seconds)
    SELECT ranked.challenge_id, ranked.participant_id, ranked.id, ranked.created_at,
           ranked.public_score, ranked.cpu_seconds
    FROM (
        SELECT s.challenge_id, s.participant_id, s.id, s.created_at, s.public_score,
               s.cpu_seconds,
               max(s.public_score) OVER (
                   PARTITION BY s.participant_id ORDER BY s.created_at, s.id
               ) AS best_so_far
        FROM judging_submission AS s
        WHERE s.participant_id = ANY(touched)
          AND s.state = 'scored'
          AND s.public_score IS NOT NULL
          AND s.cpu_seconds IS NOT NULL
    ) AS ranked
    WHERE ranked.public_score >= ranked.best_so_far;
END
$$;

{_refresh_from("inserted", "new_rows")}
{_refresh_from("deleted", "old_rows")}
CREATE OR REPLACE FUNCTION judging_improvement_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM judging_improvement_refresh(ARRAY(
        SELECT o.participant_id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE {_CHANGED}
        UNION
        SELECT n.participant_id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE {_CHANGED}
    ));
    RETURN NULL;
END
$$;

CREATE TRIGGER judging_improvement_insert AFTER INSERT ON judging_submission
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION judging_improvement_inserted();
CREATE TRIGGER judging_improvement_delete AFTER DELETE ON judging_submission
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION judging_improvement_deleted();
CREATE TRIGGER judging_improvement_update AFTER UPDATE ON judging_submission
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION judging_improvement_updated();
"""  # noqa: S608

# Every participant's points from the submissions already there (the migration's backfill).
BACKFILL = """
SELECT judging_improvement_refresh(
    ARRAY(SELECT DISTINCT participant_id FROM judging_submission)
);
"""

DROP = """
DROP TRIGGER IF EXISTS judging_improvement_insert ON judging_submission;
DROP TRIGGER IF EXISTS judging_improvement_delete ON judging_submission;
DROP TRIGGER IF EXISTS judging_improvement_update ON judging_submission;
DROP FUNCTION IF EXISTS judging_improvement_inserted();
DROP FUNCTION IF EXISTS judging_improvement_deleted();
DROP FUNCTION IF EXISTS judging_improvement_updated();
DROP FUNCTION IF EXISTS judging_improvement_refresh(bigint[]);
"""


def create_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        # Without parameters: several statements, and a "%" that is SQL's modulo.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(CREATE)
            cursor.execute(BACKFILL)


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)
