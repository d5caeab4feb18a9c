"""The leaderboard: one row per team and per participant not in a team, score and
cost side by side.

A team's row is named for it and its members ("owls (ada, grace)") and stands
for all of them: everything below said of a participant holds for a team with
all its members' submissions (their picks, their best score, their counts). Its
live columns are its best member endpoint's (by live score, then uptime), its
receipt score the mean of its members'. A team none of whose members has
submitted, registered an endpoint or been asked a question has no row.

A participant's picks are the submissions they selected (up to the challenge's
final_selections) and those their teacher promoted. Before the close the ranking
uses the public part of the hidden test set and a participant is represented by
their pick with the best public score, or with no pick their best public score.
After it, the private part: their pick with the best private score, or with no
pick the submission with the best public score (ranked by its private score,
which nobody chose it for); the private scores are shown. Equal scores: the
earliest. Three queries whatever the number of submissions and teams: each
participant's standing (their representative, their submission count, number of
picks and last upload; a team's representative is the best of its members'), the
participants (names, teams) and the endpoints; the charts' points are one more.
On PostgreSQL the standings are kept as submissions change (models.py
`LeaderboardStanding`, one row per participant and ranking, kept by triggers), so
a request reads a few hundred rows whatever the number of submissions; elsewhere
they come from one pass over the challenge's submissions (`standings_computed`,
what the kept ones must always equal). Live endpoints add four, whatever the number of
probes (their metrics are aggregated in SQL), and proof of receipt one.

On PostgreSQL a request first asks for digests of the kept standings and of the
participants (one query), and reuses the rows its web process built from the
same inputs (`board_rows`): two queries when nothing moved, five when the rows
are built (the digest is asked again after them, so that rows read while a
result was being recorded are not kept under the older digest). The history
chart's points are kept too (`LeaderboardImprovement`) and read only when their
digest is new (`points_version`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple, TypeVar, cast

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from challenges.models import Challenge, Participant
from foundation.kept_values import KeptValues
from foundation.live_fragments import fragment_version
from judging.models import (
    LeaderboardImprovement,
    LeaderboardStanding,
    Submission,
    SubmissionState,
)
from judging.sharing import Fork, challenge_forks, code_shared
from judging.standing_sql import SHOWN_COLUMNS, kept_by_triggers
from probing.selectors import EndpointMetrics, challenge_endpoint_metrics
from receipts.models import Question
from receipts.selectors import receipt_scores

T = TypeVar("T")

# The live endpoint's metrics over the probe window (shown when the challenge has endpoints).
ENDPOINT_COLUMNS = (
    "endpoint_uptime",
    "endpoint_p95_ms",
    "endpoint_sla",
    "endpoint_score",
    "endpoint_releases_behind",
)
# Columns a reader may sort by; the default is the rank.
SORTABLE = (
    "rank",
    "participant",
    "public_score",
    "private_score",
    "cv_mean",
    "cpu_seconds",
    "peak_memory_mb",
    "fit_seconds",
    "contributivity",
    "submissions",
    "last_submission_at",
    *ENDPOINT_COLUMNS,
    "receipt_score",
)


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int | None
    participant: str
    submission_id: int | None
    selected: bool
    public_score: float | None
    private_score: float | None
    cv_mean: float | None
    cv_std: float | None
    cpu_seconds: float | None
    peak_memory_mb: float | None
    fit_seconds: float | None
    submissions: int
    last_submission_at: datetime | None
    endpoint_registered: bool = False
    endpoint_uptime: float | None = None
    endpoint_p95_ms: float | None = None
    endpoint_sla: float | None = None
    endpoint_score: float | None = None
    endpoint_releases_behind: int | None = None
    # Proof of receipt: points over the questions judged (correct 1, partial 1/2).
    receipt_score: float | None = None
    # The representative was promoted by the teacher; how many scored picks
    # (selected or promoted) it was the best of.
    promoted: bool = False
    picks: int = 0
    # The representative's share of the challenge's greedy ensemble, in percent
    # (judging/blending.py); None until computed or when it was not blended.
    contributivity: float | None = None
    # A team's row: its name and its members' usernames; a participant alone: ""
    # and their username.
    team: str = ""
    members: tuple[str, ...] = ()
    # From the challenge's code sharing date (judging/sharing.py): the shared
    # submission the representative was built on and its author, and what the
    # row's people are credited from others' submissions built on theirs.
    built_on: int | None = None
    built_on_author: str = ""
    fork_credit: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class ScoredPoint(NamedTuple):
    """One scored submission, for the charts (a tuple: a page digests a thousand of
    them to know whether its cached chart still holds)."""

    participant: str
    created_at: datetime
    public_score: float
    cpu_seconds: float


@dataclass(frozen=True)
class Leaderboard:
    challenge: Challenge
    final: bool
    rows: list[LeaderboardRow]
    # The challenge shares its code (its rows show who built on whom).
    shared: bool = False
    # A digest that changes whenever the rows do (`board_rows`): what a poll
    # compares and what the rendered table is cached under.
    version: str = ""

    # Cached: the table asks for each of its rows (300 rows read 300 rows each,
    # a fifth of an uncached page in a profile at 10,000 submissions).
    @cached_property
    def has_endpoints(self) -> bool:
        return any(row.endpoint_registered for row in self.rows)

    @cached_property
    def has_receipts(self) -> bool:
        return self.challenge.receipt_rules.receipt_questions > 0

    @property
    def score_field(self) -> str:
        return "private_score" if self.final else "public_score"


_PICKED = Q(selected=True) | Q(promoted=True)

# Who a row stands for: ("team", team id) or ("participant", participant id).
Unit = tuple[str, int]


def _unit(participant_id: int, team_id: int | None) -> Unit:
    return ("team", team_id) if team_id is not None else ("participant", participant_id)


@dataclass(frozen=True, slots=True)
class Representative:
    """What the leaderboard shows of the submission that represents a participant."""

    id: int
    selected: bool
    promoted: bool
    created_at: datetime
    public_score: float | None
    private_score: float | None
    cv_mean: float | None
    cv_std: float | None
    cpu_seconds: float | None
    peak_memory_mb: float | None
    fit_seconds: float | None
    contributivity: float | None


# Representative's fields after its id, in order: what the kept standings copy
# (judging/standing_sql.py SHOWN_COLUMNS) and what the computation reads.
_SHOWN_FIELDS = SHOWN_COLUMNS


@dataclass(frozen=True)
class _Standing:
    """A participant's representative submission (None when none is eligible) and
    the counts their row shows."""

    best: Representative | None
    made: int
    last: datetime | None
    picked: int


def _best_first(final: bool) -> list[Any]:
    """The order in which a participant's submissions are considered to represent
    them (see the module's docstring): eligible (scored, with the ranking's score)
    first, then picks, then the score, the earliest, the first recorded."""
    score_field = "private_score" if final else "public_score"
    # With no pick, the final ranking still chooses by the public score.
    choose_by = (
        Case(When(_PICKED, then=F("private_score")), default=F("public_score"))
        if final
        else F("public_score")
    )
    eligible = Q(state=SubmissionState.SCORED, **{f"{score_field}__isnull": False})
    return [
        ExpressionWrapper(eligible, output_field=BooleanField()).desc(),
        ExpressionWrapper(_PICKED, output_field=BooleanField()).desc(),
        choose_by.desc(nulls_last=True),
        F("created_at").asc(),
        F("id").asc(),
    ]


def _standings(challenge: Challenge, final: bool) -> dict[int, _Standing]:
    """Each participant's standing, by participant id: read from the standings
    PostgreSQL keeps as submissions change (one row per participant), or on a
    database that keeps none computed from the submissions."""
    if kept_by_triggers(connection):
        return standings_kept(challenge, final)
    return standings_computed(challenge, final)


# A kept timestamp as UTC text whatever the session's DateStyle, parsed by
# datetime.fromisoformat: a twentieth of the cost of the driver's time-zone-aware
# loader (600 timestamps were half of reading 300 standings).
_UTC_TEXT = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
_KEPT_COLUMNS = ", ".join(
    [
        "participant_id",
        "made",
        _UTC_TEXT.format("last_at"),
        "picked",
        "submission_id",
        *(_UTC_TEXT.format(name) if name == "created_at" else name for name in _SHOWN_FIELDS),
    ]
)
_CREATED_AT = _SHOWN_FIELDS.index("created_at")


def _utc(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def standings_kept(challenge: Challenge, final: bool) -> dict[int, _Standing]:
    """The kept standings (judging/models.py `LeaderboardStanding`) of this ranking,
    in one query over one small table: a row per participant, their
    representative's figures in it (no submission read, no model built)."""
    table = LeaderboardStanding._meta.db_table
    with connection.cursor() as cursor:
        # Built from this module's constants only, never from input.
        cursor.execute(
            f"SELECT {_KEPT_COLUMNS} FROM {table} WHERE challenge_id = %s AND final = %s",  # noqa: S608
            [challenge.pk, final],
        )
        kept = cursor.fetchall()
    standings = {}
    for participant_id, made, last, picked, best_id, *shown in kept:
        if best_id is not None:
            shown[_CREATED_AT] = _utc(shown[_CREATED_AT])
        standings[participant_id] = _Standing(
            best=None if best_id is None else Representative(best_id, *shown),
            made=made,
            last=_utc(last),
            picked=picked,
        )
    return standings


def standings_computed(challenge: Challenge, final: bool) -> dict[int, _Standing]:
    """Each participant's standing, by participant id, in one query: windows over
    the challenge's submissions partitioned by participant (one scan and one sort,
    where the old query read every submission's participant through a join and
    aggregated them again in another) give the first submission in _best_first
    order and the counts beside it. What the kept standings must always equal."""
    score_field = "private_score" if final else "public_score"
    participant = [F("participant_id")]
    ranked = (
        Submission.objects.filter(challenge=challenge)
        .annotate(
            pick=Window(RowNumber(), order_by=_best_first(final), partition_by=participant),
            made=Window(
                Count("id", filter=~Q(state=SubmissionState.CANCELLED)), partition_by=participant
            ),
            last=Window(Max("created_at"), partition_by=participant),
            picked=Window(
                Count("id", filter=Q(state=SubmissionState.SCORED) & _PICKED),
                partition_by=participant,
            ),
        )
        .filter(pick=1)
        .order_by()
        .only("id", "participant_id", "state", *_SHOWN_FIELDS)
    )
    standings = {}
    for row in ranked:
        eligible = row.state == SubmissionState.SCORED and getattr(row, score_field) is not None
        best = Representative(row.id, *(getattr(row, name) for name in _SHOWN_FIELDS))
        standings[row.participant_id] = _Standing(
            best=best if eligible else None, made=row.made, last=row.last, picked=row.picked
        )
    return standings


def _better(final: bool) -> Callable[[Representative], tuple[bool, bool, float, datetime, int]]:
    """_best_first's order (among eligible submissions) as a key, smallest first: a
    team's representative is the first of its members' representatives."""

    def key(row: Representative) -> tuple[bool, bool, float, datetime, int]:
        picked = row.selected or row.promoted
        score = row.private_score if final and picked else row.public_score
        return (not picked, score is None, -(score or 0.0), row.created_at, row.id)

    return key


def _ranks(rows: dict[Unit, Representative], score_field: str) -> dict[Unit, int]:
    """Competition ranking ("1, 2, 2, 4"): equal scores share a rank."""
    ordered = sorted(rows.items(), key=lambda item: -getattr(item[1], score_field))
    ranks: dict[Unit, int] = {}
    previous: float | None = None
    for position, (unit, row) in enumerate(ordered, start=1):
        score = getattr(row, score_field)
        if score != previous:
            rank, previous = position, score
        ranks[unit] = rank
    return ranks


def _sort_key(column: str) -> Any:
    def key(row: LeaderboardRow) -> tuple[bool, Any]:
        value = getattr(row, column)
        # Missing values last, whichever the direction.
        return (value is None, value if value is not None else 0)

    return key


@dataclass
class _Members:
    """A row's people as the aggregate query gives them, one at a time."""

    team: str = ""
    ids: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    made: int = 0
    last: datetime | None = None
    picked: int = 0
    shown: bool = False

    def add(self, participant_id: int, name: str, made: int, last: Any, picked: int) -> None:
        self.ids.append(participant_id)
        self.names.append(name)
        self.made += made
        self.picked += picked
        if last is not None and (self.last is None or last > self.last):
            self.last = last

    @property
    def label(self) -> str:
        return f"{self.team} ({', '.join(self.names)})" if self.team else self.names[0]


def _best_endpoint(metrics: list[EndpointMetrics]) -> EndpointMetrics | None:
    def key(live: EndpointMetrics) -> tuple[bool, float, float]:
        return (live.score is not None, live.score or 0.0, live.uptime or 0.0)

    return max(metrics, key=key, default=None)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _credits(forks: list[Fork]) -> dict[Unit, float]:
    """What each row's people are credited from submissions built on theirs."""
    credits: dict[Unit, float] = {}
    for fork in forks:
        if (credit := fork.credit) is not None:
            unit = _unit(fork.parent_participant_id, fork.parent_team_id)
            credits[unit] = credits.get(unit, 0.0) + credit
    return credits


def _rows(
    challenge: Challenge,
    final: bool,
    endpoints: dict[int, EndpointMetrics],
    receipts: dict[int, float],
    forks: list[Fork] | None = None,
) -> list[LeaderboardRow]:
    score_field = "private_score" if final else "public_score"
    standings = _standings(challenge, final)
    people = (
        Participant.objects.filter(challenge=challenge)
        .annotate(answered=Exists(Question.objects.filter(participant=OuterRef("pk"))))
        .order_by("user__username")
        .values_list("id", "user__username", "answered", "team_id", "team__name")
    )
    units: dict[Unit, _Members] = {}
    bests: dict[Unit, list[Representative]] = {}
    for participant_id, username, answered, team_id, team_name in people:
        standing = standings.get(participant_id)
        made = standing.made if standing else 0
        if not (made or answered or team_id is not None or participant_id in endpoints):
            continue
        key = _unit(participant_id, team_id)
        unit = units.setdefault(key, _Members(team=team_name or ""))
        if standing:
            unit.add(participant_id, username, made, standing.last, standing.picked)
            if standing.best is not None:
                bests.setdefault(key, []).append(standing.best)
        else:
            unit.add(participant_id, username, 0, None, 0)
        unit.shown |= bool(made or answered or participant_id in endpoints)
    picks = {key: min(rows, key=_better(final)) for key, rows in bests.items()}
    ranks = _ranks({key: pick for key, pick in picks.items() if key in units}, score_field)
    parents = {fork.id: fork for fork in forks or []}
    credits = _credits(forks or [])
    rows = []
    for key, unit in units.items():
        if not unit.shown:
            continue
        pick = picks.get(key)
        live = _best_endpoint([endpoints[i] for i in unit.ids if i in endpoints])
        parent = parents.get(pick.id) if pick else None
        rows.append(
            LeaderboardRow(
                rank=ranks.get(key),
                participant=unit.label,
                submission_id=pick.id if pick else None,
                selected=bool(pick and pick.selected),
                public_score=pick.public_score if pick else None,
                private_score=pick.private_score if pick and final else None,
                cv_mean=pick.cv_mean if pick else None,
                cv_std=pick.cv_std if pick else None,
                cpu_seconds=pick.cpu_seconds if pick else None,
                peak_memory_mb=pick.peak_memory_mb if pick else None,
                fit_seconds=pick.fit_seconds if pick else None,
                submissions=unit.made,
                last_submission_at=unit.last,
                **(_endpoint_columns(live) if live else {}),
                receipt_score=_mean([receipts[i] for i in unit.ids if receipts.get(i) is not None]),
                promoted=bool(pick and pick.promoted),
                picks=unit.picked,
                contributivity=pick.contributivity if pick else None,
                team=unit.team,
                members=tuple(unit.names),
                built_on=parent.parent_id if parent else None,
                built_on_author=parent.parent_author if parent else "",
                fork_credit=credits.get(key),
            )
        )
    return rows


def _endpoint_columns(metrics: EndpointMetrics) -> dict[str, Any]:
    return {
        "endpoint_registered": True,
        "endpoint_uptime": metrics.uptime,
        "endpoint_p95_ms": metrics.latency_p95_ms,
        "endpoint_sla": metrics.sla_compliance,
        # The published live score, never the window's exact mean: differencing
        # two boards around one probe would give its score (probing/publication.py).
        "endpoint_score": metrics.score,
        "endpoint_releases_behind": metrics.freshness.releases_behind,
    }


def valid_order(order: str) -> str:
    """`order` if it names a SORTABLE column (with "-" for descending), else "rank"."""
    return order if order.lstrip("-") in SORTABLE and order.count("-") <= 1 else "rank"


def _sorted(rows: list[LeaderboardRow], order: str) -> list[LeaderboardRow]:
    rows = list(rows)
    order = valid_order(order)
    column = order.lstrip("-")
    rows.sort(key=lambda row: (row.participant,))
    rows.sort(key=_sort_key(column), reverse=order.startswith("-"))
    if order.startswith("-"):
        # Keep missing values last when descending too.
        rows.sort(key=lambda row: getattr(row, column) is None)
    return rows


# The participants, as the rows read them, in a digest: names, teams, whether
# they answered a question. With the kept standings' digest, what a request
# compares to reuse rows it built before. Built from constants only.
_INPUTS_SQL = """
SELECT
    (SELECT md5(coalesce(string_agg(kept::text, ',' ORDER BY kept.participant_id), ''))
     FROM {standings} AS kept
     WHERE kept.challenge_id = %(challenge)s AND kept.final = %(final)s),
    (SELECT md5(coalesce(string_agg(
         ROW(people.id, users.username, people.team_id, teams.name,
             EXISTS(SELECT 1 FROM {questions} AS asked WHERE asked.participant_id = people.id)
         )::text, ',' ORDER BY people.id), ''))
     FROM {participants} AS people
     JOIN {users} AS users ON users.id = people.user_id
     LEFT JOIN {teams} AS teams ON teams.id = people.team_id
     WHERE people.challenge_id = %(challenge)s)
"""


def _kept_inputs(challenge: Challenge, final: bool) -> tuple[str, str] | None:
    """Digests of the kept standings and of the participants, computed by
    PostgreSQL (two short strings instead of 300 rows); None where no standings
    are kept."""
    if not kept_by_triggers(connection):
        return None
    sql = _INPUTS_SQL.format(
        standings=LeaderboardStanding._meta.db_table,
        questions=Question._meta.db_table,
        participants=Participant._meta.db_table,
        users=Participant._meta.get_field("user").related_model._meta.db_table,  # type: ignore[union-attr]
        teams=Participant._meta.get_field("team").related_model._meta.db_table,  # type: ignore[union-attr]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"challenge": challenge.pk, "final": final})
        standings, people = cursor.fetchone()
    return standings, people


# Rows this web process built lately, by challenge and inputs' version: the same
# inputs give the same rows, so a request whose inputs have not moved since
# reuses them instead of building 300 rows again. Not a time cache: a change to
# any input is a new version.
_built: KeptValues[list[LeaderboardRow]] = KeptValues(size=16)


def rows_digest(final: bool, rows: list[LeaderboardRow]) -> str:
    """A digest of the rows themselves: the fields' values as tuples (a dataclass's
    repr costs several times as much for 300 rows)."""
    return fragment_version(final, [tuple(vars(row).values()) for row in rows])


def board_rows(
    challenge: Challenge, final: bool, shared: bool = False
) -> tuple[str, list[LeaderboardRow]]:
    """The ranking's rows (unsorted) and a version that changes whenever they do.

    Where the standings are kept, the version is a digest of what the rows are
    built from (the kept standings and the participants, digested by PostgreSQL;
    the live endpoints' metrics and the receipt scores, read each time since they
    move with the clock; once the challenge shares its code, its forks, read each
    time since a fork's contributivity moves its parent's credit), and rows built
    from the same inputs before are reused. Elsewhere the rows are built and the
    version is their own digest. Forks are read only while `shared` (from the code
    sharing date): before it the rows show no lineage and no credit, and the
    version moves with the date whenever the rows do."""
    endpoints = challenge_endpoint_metrics(challenge)
    questions = challenge.receipt_rules.receipt_questions
    receipts = receipt_scores(challenge) if questions else {}
    forks = challenge_forks(challenge) if shared else []
    inputs = _kept_inputs(challenge, final)
    if inputs is None:
        rows = _rows(challenge, final, endpoints, receipts, forks)
        return rows_digest(final, rows), rows
    version = fragment_version(
        final,
        inputs,
        questions,
        sorted(endpoints.items()),
        sorted(receipts.items()),
        [tuple(vars(fork).values()) for fork in forks],
    )
    kept = _built.get((challenge.pk, version))
    if kept is not None:
        return version, kept
    rows = _rows(challenge, final, endpoints, receipts, forks)
    # Kept only if nothing moved while they were read (the standings and the
    # participants are read by statements of their own).
    if _kept_inputs(challenge, final) == inputs:
        _built.put((challenge.pk, version), rows)
    return version, rows


def leaderboard(
    challenge: Challenge, *, order: str = "rank", now: datetime | None = None
) -> Leaderboard:
    """The challenge's leaderboard sorted by `order` (a SORTABLE column, "-" for
    descending); private scores only once the challenge has closed, who built on
    whom only once it shares its code."""
    now = now or timezone.now()
    final, shared = now >= challenge.closes_at, code_shared(challenge, now)
    version, rows = board_rows(challenge, final, shared)
    return Leaderboard(
        challenge=challenge, final=final, rows=_sorted(rows, order), shared=shared, version=version
    )


def leaderboard_cache(key: str, compute: Callable[[], T]) -> T:
    """compute() once per PPIPE_LEADERBOARD_CACHE_SECONDS per web process, under `key`."""
    seconds = settings.PPIPE_LEADERBOARD_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return cast(T, value)


# A few orders and versions of a few challenges; a ranking that moved leaves its
# old text behind until newer ones push it out.
_rendered: KeptValues[Any] = KeptValues(size=48)


def leaderboard_rendered(key: str, compute: Callable[[], T]) -> T:
    """compute() once per web process while `key` is asked for. The key must name
    a digest of everything the value shows (a board's version, an order, a time
    zone): a change is then a new key, nothing stale is served, and the value is
    kept whatever PPIPE_LEADERBOARD_CACHE_SECONDS says (that setting bounds how
    old the ranking itself may be; with 0 every request reads it again and renders
    only what it has not rendered before)."""
    return cast(T, _rendered.get_or_make(key, compute))


def leaderboard_cached(challenge: Challenge, *, order: str = "rank") -> Leaderboard:
    """leaderboard() for pages and the API, computed at most once per
    PPIPE_LEADERBOARD_CACHE_SECONDS per web process: near a deadline a whole class
    reloads it, and a few seconds' delay costs nobody anything (a student's own
    submissions are never cached)."""
    now = timezone.now()
    # Both moments in the key: the rows before the close or the code sharing date
    # are never served after it, however recently they were cached.
    final, shared = now >= challenge.closes_at, code_shared(challenge, now)
    version, rows = leaderboard_cache(
        f"ppipe:leaderboard:{challenge.pk}:{final}:{shared}",
        lambda: board_rows(challenge, final, shared),
    )
    return Leaderboard(
        challenge=challenge, final=final, rows=_sorted(rows, order), shared=shared, version=version
    )


def leaderboard_points(challenge: Challenge) -> list[ScoredPoint]:
    """The scored submissions that improved their author's public score, oldest
    first: how each participant progressed, a few points each rather than every
    submission of the term. Read from the points PostgreSQL keeps as submissions
    change (one small indexed read), or computed where none are kept."""
    if kept_by_triggers(connection):
        return points_kept(challenge)
    return points_computed(challenge)


def points_version(challenge: Challenge) -> str | None:
    """A digest that changes whenever the challenge's points do, computed by
    PostgreSQL from the kept points (a kept point is deleted and inserted anew,
    never updated, so its id names its values) and their authors' names; None
    where no points are kept. A page reads the points only when it has not drawn
    this version yet."""
    if not kept_by_triggers(connection):
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), md5(coalesce(string_agg(
                kept.id::text || ':' || users.username, ',' ORDER BY kept.id), ''))
            FROM judging_leaderboardimprovement AS kept
            JOIN challenges_participant AS people ON people.id = kept.participant_id
            JOIN auth_user AS users ON users.id = people.user_id
            WHERE kept.challenge_id = %s
            """,
            [challenge.pk],
        )
        count, digest = cursor.fetchone()
    return f"{count}-{digest}"


def points_kept(challenge: Challenge) -> list[ScoredPoint]:
    """The kept points (judging/models.py `LeaderboardImprovement`), in one query."""
    kept = (
        LeaderboardImprovement.objects.filter(challenge=challenge)
        .order_by("created_at", "submission_id")
        .values_list("participant__user__username", "created_at", "public_score", "cpu_seconds")
    )
    return [ScoredPoint(*point) for point in kept]


def points_computed(challenge: Challenge) -> list[ScoredPoint]:
    """The points from a window over the challenge's scored submissions: what the
    kept points must always equal."""
    improving = (
        Submission.objects.filter(
            challenge=challenge,
            state=SubmissionState.SCORED,
            public_score__isnull=False,
            cpu_seconds__isnull=False,
        )
        .annotate(
            best_so_far=Window(
                Max("public_score"),
                partition_by=[F("participant_id")],
                order_by=[F("created_at"), F("id")],
            )
        )
        .filter(public_score__gte=F("best_so_far"))
        .order_by("created_at", "id")
    )
    return [
        ScoredPoint(name, at, score or 0.0, cpu or 0.0)
        for name, at, score, cpu in improving.values_list(
            "participant__user__username", "created_at", "public_score", "cpu_seconds"
        )
    ]
