"""A connection to a dataset file that can only see some of its rows (row rules).

Reading code always names the table ``rows`` without a schema. On a restricted connection a
temporary view called ``rows`` shadows the real table (SQLite looks names up in ``temp``
before ``main``), so every query, whatever it is, reads only the allowed rows: nothing has to
remember to add a condition. As a second line, an authorizer refuses any read of the real
table except through that view, any read of the search index's stored text, and any attempt
to drop or replace the view. The search index (``rows_fts``) still answers MATCH with row ids,
which queries join back to the view's rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

VIEW = "rows"
VALUES_TABLE = "rule_values"
# What the search index may be asked on a restricted connection: row ids, MATCH, rank.
FTS_COLUMNS_READABLE = {"rowid", "rows_fts", "rank"}
_REFUSED = {
    sqlite3.SQLITE_ALTER_TABLE,
    sqlite3.SQLITE_ATTACH,
    sqlite3.SQLITE_CREATE_TEMP_TABLE,
    sqlite3.SQLITE_CREATE_TEMP_TRIGGER,
    sqlite3.SQLITE_CREATE_TEMP_VIEW,
    sqlite3.SQLITE_CREATE_TRIGGER,
    sqlite3.SQLITE_CREATE_VIEW,
    sqlite3.SQLITE_CREATE_VTABLE,
    sqlite3.SQLITE_DROP_TEMP_TABLE,
    sqlite3.SQLITE_DROP_TEMP_TRIGGER,
    sqlite3.SQLITE_DROP_TEMP_VIEW,
    sqlite3.SQLITE_DROP_TRIGGER,
    sqlite3.SQLITE_DROP_VIEW,
    sqlite3.SQLITE_DROP_VTABLE,
}
_WRITES = {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE}
_PROTECTED = {"rows", VALUES_TABLE}


def _protected(table: str | None) -> bool:
    return table is not None and (table in _PROTECTED or table.startswith("rows_fts"))


class _Authorizer:
    """Refuses what a restricted connection must not do (see the module's docstring).

    Creating an index on the table (a sort's index) reads its columns to build it, which
    returns nothing to the reader: those reads are let through until the next statement."""

    def __init__(self) -> None:
        self.indexing = False

    def __call__(
        self, action: int, arg1: str | None, arg2: str | None, db: str | None, inner: str | None
    ) -> int:
        if action == sqlite3.SQLITE_CREATE_INDEX:
            self.indexing = arg2 == "rows" and db == "main"
            return sqlite3.SQLITE_OK
        if action != sqlite3.SQLITE_READ:
            self.indexing = False
        if action in _REFUSED:
            return sqlite3.SQLITE_DENY
        if action in _WRITES or action == sqlite3.SQLITE_DROP_TABLE:
            return sqlite3.SQLITE_DENY if _protected(arg1) else sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() == "writable_schema":
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_READ and db == "main":
            if arg1 == "rows" and inner != VIEW and not self.indexing:
                return sqlite3.SQLITE_DENY  # the real table, read other than through the view
            if arg1 == "rows_fts" and (arg2 or "").lower() not in FTS_COLUMNS_READABLE:
                return sqlite3.SQLITE_DENY  # the index's copy of the text (and snippets of it)
        return sqlite3.SQLITE_OK


def restrict(
    con: sqlite3.Connection,
    clauses: Sequence[tuple[str, Sequence[object]]],
    indexed: bool = True,
) -> None:
    """Make ``con`` see only rows where, for at least one clause, the column holds one of the
    values (no clause: no rows). Column names must be the dataset's own (c1, c2, …).

    ``indexed`` False keeps SQLite from finding the rows through the clauses' columns' indexes
    (for someone who sees many rows, walking the table in a page's order finds its rows in a
    few thousand steps, where the index would collect and sort all of theirs first).

    A clause with one value is written ``column = (that value)``, not ``IN``: SQLite then
    knows that the column's index hands over the rows in rowid order, so a page in table
    order walks it and stops after its rows instead of collecting and sorting all of them."""
    for column, _ in clauses:
        if not (column[:1] == "c" and column[1:].isdigit()):
            raise ValueError(f"not a dataset column: {column!r}")
    con.execute(
        f"CREATE TEMP TABLE {VALUES_TABLE} (clause INTEGER NOT NULL, name TEXT NOT NULL, value)"
    )
    con.executemany(
        f"INSERT INTO temp.{VALUES_TABLE} VALUES (?, ?, ?)",
        [
            (n, column, value)
            for n, (column, values) in enumerate(clauses)
            for value in dict.fromkeys(values)
        ],
    )
    condition = " OR ".join(
        f"{'' if indexed else '+'}{column} "
        f"{'=' if len(set(values)) == 1 else 'IN'} "
        f"(SELECT value FROM temp.{VALUES_TABLE} WHERE clause = {n})"
        for n, (column, values) in enumerate(clauses)
    )
    if not condition:  # no clause, no row
        # A condition SQLite cannot fold away: a constant one ("0") leaves queries that read
        # no column of the view (a count, row ids) reading the table itself, which the
        # authorizer rightly refuses. This one reads a column, through the view, and holds
        # for no row.
        first = con.execute("PRAGMA main.table_info(rows)").fetchone()[1]
        if not (first[:1] == "c" and first[1:].isdigit()):
            raise ValueError(f"not a dataset column: {first!r}")
        condition = f"{first} IN (SELECT value FROM temp.{VALUES_TABLE} WHERE clause = -1)"
    con.execute(
        f"CREATE TEMP VIEW {VIEW} AS SELECT rowid AS rowid, * FROM main.rows WHERE {condition}"
    )
    con.set_authorizer(_Authorizer())


def rule_clauses(con: sqlite3.Connection) -> list[tuple[str, tuple[object, ...]]] | None:
    """The clauses ``con`` was restricted to (column, values), read back from the connection
    itself; None when it sees every row. For planning only: the view enforces them."""
    if not is_restricted(con):
        return None
    clauses: dict[int, tuple[str, list]] = {}
    for clause, column, value in con.execute(
        f"SELECT clause, name, value FROM temp.{VALUES_TABLE} ORDER BY clause, rowid"
    ):
        clauses.setdefault(clause, (column, []))[1].append(value)
    return [(column, tuple(values)) for column, values in clauses.values()]


def is_restricted(con: sqlite3.Connection) -> bool:
    """Whether ``con`` sees only some rows (a restricted view shadows the table)."""
    return (
        con.execute(
            "SELECT 1 FROM temp.sqlite_master WHERE type = 'view' AND name = ?", (VIEW,)
        ).fetchone()
        is not None
    )
