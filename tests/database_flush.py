"""How the test database is emptied after each transactional test (pytest-django's
`transactional_db`, Django's TransactionTestCase), cheaper than Django's flush and
to the same state: every table empty, then the rows post_migrate makes (content
types, permissions).

- DELETE instead of PostgreSQL's TRUNCATE. TRUNCATE gives each of the ~50 tables
  and their indexes new files and scans the shared buffers once per relation:
  measured here 1.5-3 s a test on a loaded machine, where DELETE from the same
  tables, nearly empty after a test, took 0.04-0.06 s. Django makes PostgreSQL's
  foreign keys DEFERRABLE INITIALLY DEFERRED, and they are deferred here anyway,
  so the order of the DELETEs does not matter: the constraints are checked at the
  commit, when no row is left.
- post_migrate's rows are kept when a test left them exactly as post_migrate made
  them (a checksum of each such table's rows), instead of being deleted and made
  again (0.5-2 s a test, loaded). Otherwise, Django's own flush runs, post_migrate
  included, and what it made is the new reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.operations import DatabaseOperations
from django.test import TransactionTestCase

_truncating_sql_flush = DatabaseOperations.sql_flush
_django_fixture_teardown = TransactionTestCase._fixture_teardown
# By database alias: the tables post_migrate fills, with their rows' checksum as
# post_migrate left them.
_made_by_post_migrate: dict[str, dict[str, str]] = {}


def _deleting_sql_flush(
    self: DatabaseOperations,
    style: Any,
    tables: Sequence[str],
    *,
    reset_sequences: bool = False,
    allow_cascade: bool = False,
) -> list[str]:
    if reset_sequences or allow_cascade or not tables:
        # Not what a test's flush asks for: left to Django.
        return _truncating_sql_flush(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    return [
        "SET CONSTRAINTS ALL DEFERRED;",
        # Table names from Django's introspection, quoted.
        *(f"DELETE FROM {self.quote_name(table)};" for table in tables),  # noqa: S608
    ]


def _checksums(connection: BaseDatabaseWrapper, tables: Sequence[str]) -> dict[str, str]:
    """Each table's rows, as one md5 (in a stable order); "" for an empty table."""
    if not tables:
        return {}
    quote = connection.ops.quote_name
    query = " UNION ALL ".join(
        # Table names from Django's introspection, quoted.
        f"SELECT %s, coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') "  # noqa: S608
        f"FROM {quote(table)} t"
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(query, list(tables))
        return dict(cursor.fetchall())


def _emptied(alias: str) -> None:
    connection = connections[alias]
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    reference = _made_by_post_migrate.get(alias)
    if (
        reference
        and set(reference) <= set(tables)
        and _checksums(connection, list(reference)) == reference
    ):
        others = [table for table in tables if table not in reference]
        connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), others))
        return
    call_command(
        "flush",
        verbosity=0,
        interactive=False,
        database=alias,
        reset_sequences=False,
        allow_cascade=False,
        inhibit_post_migrate=False,
    )
    filled = {table: rows for table, rows in _checksums(connection, tables).items() if rows}
    _made_by_post_migrate[alias] = filled


def _fixture_teardown(self: TransactionTestCase) -> None:
    if self.available_apps is not None or self.serialized_rollback:
        _django_fixture_teardown(self)  # flushes that keep or skip post_migrate: Django's own
        return
    for alias in self._databases_names(include_mirrors=False):  # type: ignore[attr-defined]
        _emptied(alias)


def flush_cheaply() -> None:
    """For this test process only: the platform's own `flush` is left as Django has it."""
    DatabaseOperations.sql_flush = _deleting_sql_flush  # type: ignore[method-assign]
    TransactionTestCase._fixture_teardown = _fixture_teardown  # type: ignore[method-assign]
