"""The PostgreSQL triggers that keep judging_leaderboardstanding (models.py
`LeaderboardStanding`) equal to what judging/leaderboard.py `_standings` computes.

A statement that inserts, deletes or changes submissions recomputes the standing
of each participant it touched, from that participant's own submissions (a few
dozen rows through the index on participant), in its own transaction. An update
that changes none of the columns the ranking reads (a lease, a log tail, a
contributivity) recomputes nothing.

Two writers changing one participant's submissions at once would each compute
from a snapshot without the other's change, and the later upsert would win with a
stale standing: a transaction-scoped advisory lock per participant, taken before
computing, makes the second wait for the first to commit and then see it.

Migration judging 0009 runs `create_triggers` from here, so a fresh database gets
this text as it is at 0009's point in the schema: the SQL must keep working on
0009's tables. A change that needs later columns goes in a module of its own
(`standing_sql_v2.py`, say) run by the migration that adds them, and leaves this
one as it is. Migration judging 0012 did so for the UPDATE trigger's function:
its current text is judging/standing_state_sql.py's (state changes that move no
standing recompute nothing).
"""

from __future__ import annotations

from typing import Any

# The advisory locks' first key: this table's own space (pg_advisory_xact_lock(int, int)).
STANDING_LOCK_SPACE = 2209

# What the leaderboard shows of a representative, copied into its standing.
SHOWN_COLUMNS = (
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

# What the leaderboard reads of a submission: a change to any of them moves a standing.
READ_COLUMNS = ("challenge_id", "participant_id", "state", *SHOWN_COLUMNS)

_CHANGED = " OR ".join(f"o.{column} IS DISTINCT FROM n.{column}" for column in READ_COLUMNS)
_SHOWN = ", ".join(SHOWN_COLUMNS)
_BEST_SHOWN = ", ".join(f"best.{column}" for column in SHOWN_COLUMNS)
_SET = ",\n        ".join(
    f"{column} = EXCLUDED.{column}"
    for column in ("made", "last_at", "picked", "submission_id", *SHOWN_COLUMNS)
)

# The representative's order is judging/leaderboard.py `_best_first` among the
# eligible submissions (scored, with the ranking's score): picks first, then the
# score (a pick's private score in the final ranking, otherwise the public one),
# the earliest, the first recorded.
# Built from this module's constants only, never from input.
CREATE = f"""
CREATE OR REPLACE FUNCTION judging_standing_refresh(touched bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    who bigint;
BEGIN
    FOR who IN SELECT DISTINCT t FROM unnest(touched) AS t WHERE t IS NOT NULL ORDER BY t LOOP
        PERFORM pg_advisory_xact_lock({STANDING_LOCK_SPACE}, (who % 2147483647)::int);
    END LOOP;
    DELETE FROM judging_leaderboardstanding AS kept
    WHERE kept.participant_id = ANY(touched)
      AND NOT EXISTS (
          SELECT 1 FROM judging_submission AS s
          WHERE s.participant_id = kept.participant_id AND s.challenge_id = kept.challenge_id
      );
    INSERT INTO judging_leaderboardstanding
        (challenge_id, participant_id, final, made, last_at, picked, submission_id, {_SHOWN})
    SELECT
        counts.challenge_id, counts.participant_id, ranking.final,
        counts.made, counts.last_at, counts.picked, best.id, {_BEST_SHOWN}
    FROM (
        SELECT
            s.challenge_id,
            s.participant_id,
            count(*) FILTER (WHERE s.state <> 'cancelled') AS made,
            max(s.created_at) AS last_at,
            count(*) FILTER (WHERE s.state = 'scored' AND (s.selected OR s.promoted)) AS picked
        FROM judging_submission AS s
        WHERE s.participant_id = ANY(touched)
        GROUP BY s.challenge_id, s.participant_id
    ) AS counts
    CROSS JOIN (VALUES (false), (true)) AS ranking(final)
    LEFT JOIN LATERAL (
        SELECT b.id, {", ".join(f"b.{column}" for column in SHOWN_COLUMNS)}
        FROM judging_submission AS b
        WHERE b.participant_id = counts.participant_id
          AND b.challenge_id = counts.challenge_id
          AND b.state = 'scored'
          AND CASE WHEN ranking.final THEN b.private_score ELSE b.public_score END IS NOT NULL
        ORDER BY
            (b.selected OR b.promoted) DESC,
            CASE WHEN ranking.final AND (b.selected OR b.promoted) THEN b.private_score
                 ELSE b.public_score END DESC NULLS LAST,
            b.created_at,
            b.id
        LIMIT 1
    ) AS best ON true
    ON CONFLICT (challenge_id, final, participant_id) DO UPDATE SET
        {_SET};
END
$$;

CREATE OR REPLACE FUNCTION judging_standing_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM judging_standing_refresh(ARRAY(SELECT DISTINCT participant_id FROM new_rows));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION judging_standing_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM judging_standing_refresh(ARRAY(SELECT DISTINCT participant_id FROM old_rows));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION judging_standing_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM judging_standing_refresh(ARRAY(
        SELECT o.participant_id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE {_CHANGED}
        UNION
        SELECT n.participant_id FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE {_CHANGED}
    ));
    RETURN NULL;
END
$$;

CREATE TRIGGER judging_standing_insert AFTER INSERT ON judging_submission
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION judging_standing_inserted();
CREATE TRIGGER judging_standing_delete AFTER DELETE ON judging_submission
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION judging_standing_deleted();
CREATE TRIGGER judging_standing_update AFTER UPDATE ON judging_submission
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION judging_standing_updated();
"""  # noqa: S608

# Every standing from the submissions already there (the migration's backfill).
BACKFILL = """
SELECT judging_standing_refresh(
    ARRAY(SELECT DISTINCT participant_id FROM judging_submission)
);
"""

DROP = """
DROP TRIGGER IF EXISTS judging_standing_insert ON judging_submission;
DROP TRIGGER IF EXISTS judging_standing_delete ON judging_submission;
DROP TRIGGER IF EXISTS judging_standing_update ON judging_submission;
DROP FUNCTION IF EXISTS judging_standing_inserted();
DROP FUNCTION IF EXISTS judging_standing_deleted();
DROP FUNCTION IF EXISTS judging_standing_updated();
DROP FUNCTION IF EXISTS judging_standing_refresh(bigint[]);
"""


def kept_by_triggers(connection: Any) -> bool:
    """Whether this database keeps the standings (PostgreSQL does; SQLite does not)."""
    return bool(connection.vendor == "postgresql")


def create_triggers(apps: Any, schema_editor: Any) -> None:
    if kept_by_triggers(schema_editor.connection):
        # Without parameters: several statements, and a "%" that is SQL's modulo.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(CREATE)
            cursor.execute(BACKFILL)


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    if kept_by_triggers(schema_editor.connection):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)
