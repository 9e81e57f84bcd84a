"""Each dataset's rows live in a SQLite file of their own under ``datasets/`` in the data folder.

A file per dataset keeps a long import from ever holding the application database's write lock
(people keep signing in and browsing), makes an import all-or-nothing by construction (the
rows are written to a temporary file that only becomes a dataset when it is complete), and lets
the bulk load run with the journal off. This module is the file format; the bulk-load engine
that writes it is ``loading.bulk_load``, and opening and copying files is ``sqlite_files``.

Inside, the table is ``rows`` with columns ``c1`` … ``cN``: identifiers Sheaf makes, never
taken from the file. Values are bound exactly as read; SQLite converts them (column affinity and
a small expression per type), then one scan finds the values that did not fit.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ..importers.types import BOOLEAN_SPELLINGS, yes_or_no

STORAGE_TYPES = {
    "integer": "INTEGER",
    "real": "REAL",
    "boolean": "INTEGER",
    "date": "TEXT",
    "datetime": "TEXT",
    "text": "TEXT",
}


@dataclass(frozen=True)
class Column:
    name: str  # c1, c2, … (the SQL identifier)
    label: str  # what the file called it
    type: str  # one of importers.types.TYPES
    unit: str = ""  # what the numbers are in: "%", "€", "USD" (shown beside the label)

    def as_dict(self) -> dict:
        data = {"name": self.name, "label": self.label, "type": self.type}
        if self.unit:
            data["unit"] = self.unit
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Column:
        return cls(data["name"], data["label"], data["type"], data.get("unit", ""))


def make_columns(
    labels: list[str], types: list[str], units: list[str] | None = None
) -> list[Column]:
    units = units or [""] * len(labels)
    return [
        Column(f"c{i}", label, kind, unit if kind in ("integer", "real") else "")
        for i, (label, kind, unit) in enumerate(zip(labels, types, units, strict=True), 1)
    ]


def value_expression(p: str, kind: str, words: Sequence[str] = ()) -> str:
    """The SQL that stores ``p`` (a parameter or a column) as ``kind``.

    Only what column affinity cannot do is spelled out: empty text becomes NULL, yes/no words
    become 1/0, a date alone in a datetime column becomes its midnight. Values that do not fit
    are found afterwards by :func:`bad_value` (checking dates here instead made the load 20%
    slower than the scan after it). ``words``: the yes/no words a column is known to use,
    compared first (``ja`` and ``nein`` are the 11th and 12th of about a hundred).
    """
    if kind == "boolean":
        # The words as the bulk load reads them (importers.types): no word is there twice, so
        # their order changes nothing but how soon a word is found.
        first = [w for w in dict.fromkeys(words) if w in BOOLEAN_SPELLINGS]
        order = [*first, *(w for w in BOOLEAN_SPELLINGS if w not in first)]
        cases = " ".join(f"WHEN '{w}' THEN {BOOLEAN_SPELLINGS[w]}" for w in order)
        return f"CASE {p} {cases} WHEN '' THEN NULL ELSE {p} END"
    if kind == "datetime":  # a date alone is its midnight, stored as such so filters find it
        return (
            f"CASE length({p}) WHEN 10 THEN CASE WHEN date({p}, '+0 days') IS {p} "
            f"THEN {p} || ' 00:00:00' ELSE {p} END WHEN 0 THEN NULL ELSE {p} END"
        )
    if p.startswith("?"):
        # A bound value: the same as NULLIF(?n, ''), and a sixth of a plain CSV's insert time
        # less (a CASE is no function call; tests/datasets/test_value_expression.py holds them
        # equal). An expression stays in NULLIF, which reads it once.
        return f"CASE {p} WHEN '' THEN NULL ELSE {p} END"
    return f"NULLIF({p}, '')"


def bad_value(column: Column) -> str:
    """SQL that is true for a stored value that does not fit the column's type.

    A date is valid when SQLite's date() gives it back unchanged: date() takes 2024-02-30 as it
    is, but date(…, '+0 days') rolls it over to March, and a month 13 or a day 00 comes back as
    NULL. A datetime in the usual form is tested the same way; other ISO forms (with T, without
    seconds, with a fraction or an offset) must parse, and their own date part must be valid
    (an offset may move the moment to another day). Faster
    than matching GLOB patterns first (a quarter of the cost of a check of every column).
    """
    c = column.name
    return {
        "integer": f"typeof({c}) NOT IN ('integer', 'null')",
        "real": f"typeof({c}) NOT IN ('real', 'integer', 'null')",
        "boolean": f"({c} IS NOT NULL AND (typeof({c}) != 'integer' OR {c} NOT IN (0, 1)))",
        "date": f"date({c}, '+0 days') IS NOT {c}",
        "datetime": f"(datetime({c}, '+0 days') IS NOT {c} AND (datetime({c}) IS NULL OR "
        f"date(substr({c}, 1, 10), '+0 days') IS NOT substr({c}, 1, 10)))",
    }.get(column.type, "0")


def fits(column: Column) -> str:
    """SQL that is true for a value that fits the column (empty cells too): what sums, means,
    ranges and charts read, so a value kept as written but not fitting never counts as one."""
    return "1" if column.type == "text" else f"NOT ({bad_value(column)})"


INT64 = (-(2**63), 2**63 - 1)  # what SQLite stores as a whole number
WANTED = {
    "integer": "a whole number",
    "real": "a number",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date and time (YYYY-MM-DD HH:MM)",
    "boolean": "yes or no",
}


def typed_value(kind: str, text: str) -> object:
    """``text``, typed by a person (a cell, a row form, a filter's value), as a column of
    ``kind`` stores it: one reading wherever people type values. Spaces inside numbers are
    thousands separators. ValueError when it does not fit (say :data:`WANTED`), OverflowError
    for a whole number past what SQLite stores."""
    if kind == "integer":
        value = int(text.replace(" ", "").replace("\u00a0", ""))
        if not INT64[0] <= value <= INT64[1]:
            raise OverflowError(text)
        return value
    if kind == "real":
        number = float(text.replace(" ", "").replace("\u00a0", ""))
        if not math.isfinite(number):
            raise ValueError(text)
        return number
    if kind == "date":
        return date.fromisoformat(text).isoformat()
    if kind == "datetime":
        return datetime.fromisoformat(text).isoformat(sep=" ")
    if kind == "boolean":
        flag = yes_or_no(text)
        if flag is None:
            raise ValueError(text)
        return flag
    return text


TYPE_MESSAGES = {
    "integer": "is not a whole number",
    "real": "is not a number",
    "boolean": "is not yes/no (yes, no, true, false, 1, 0, ja, nein, oui, non…)",
    "date": "is not a date (YYYY-MM-DD)",
    "datetime": "is not a date and time (YYYY-MM-DD HH:MM:SS)",
}


#: Below this many rows the search index is built at once (well under a second); above it, the
#: dataset is browsable as soon as its rows are stored and the index is built afterwards, in
#: steps (:func:`build_search_index_step`), by ``datasets.indexing`` in the background.
INDEX_AT_ONCE = 50_000
#: Rows per step: about 50 ms of a million-row file's build, so the dataset's write lock the
#: step holds never keeps an edit waiting long.
INDEX_BATCH = 20_000
#: The build's state while it runs: one row, the highest rowid indexed so far. Kept in the
#: dataset file itself, so a copy of the file (a cleaning step, a backup) carries it and a
#: restart goes on from there. No table: the index is complete (or there is none).
PROGRESS_TABLE = "sheaf_index_progress"


def build_search_index(
    con: sqlite3.Connection, columns: list[Column], *, at_once: int | None = None
) -> None:
    """(Re)start the FTS5 index over the text columns (external content: the text is not
    stored twice). A file of at most ``at_once`` rows gets it complete now; a larger one gets
    it empty with its progress at 0, to be filled by :func:`build_search_index_step`
    (``at_once`` None: :data:`INDEX_AT_ONCE`)."""
    texts = [c.name for c in columns if c.type == "text"]
    con.execute("DROP TABLE IF EXISTS rows_fts")
    con.execute(f"DROP TABLE IF EXISTS {PROGRESS_TABLE}")
    if not texts:
        return
    con.execute(
        f"CREATE VIRTUAL TABLE rows_fts USING fts5({', '.join(texts)}, content='rows', "
        "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')"
    )
    large = con.execute(
        "SELECT 1 FROM rows LIMIT 1 OFFSET ?", (INDEX_AT_ONCE if at_once is None else at_once,)
    ).fetchone()
    if large:
        con.execute(f"CREATE TABLE {PROGRESS_TABLE} (built INTEGER NOT NULL)")
        con.execute(f"INSERT INTO {PROGRESS_TABLE} (built) VALUES (0)")
    else:
        con.execute("INSERT INTO rows_fts (rows_fts) VALUES ('rebuild')")


def index_built_to(con: sqlite3.Connection) -> int | None:
    """The highest rowid the search index holds while it is being built; None when it is
    complete (or there is none)."""
    try:
        row = con.execute(f"SELECT built FROM {PROGRESS_TABLE}").fetchone()
    except sqlite3.OperationalError:  # no such table: nothing being built
        return None
    return row[0] if row else None


def index_progress(con: sqlite3.Connection) -> int | None:
    """How far the search index's build has got, in per cent (0…99); None when there is no
    build under way. By rowid, which needs no count of a million rows."""
    built = index_built_to(con)
    if built is None:
        return None
    highest = con.execute("SELECT max(rowid) FROM rows").fetchone()[0] or 0
    return min(99, built * 100 // highest) if highest else 0


def indexed(con: sqlite3.Connection, row_id: int) -> bool:
    """Whether the search index holds (or should hold) row ``row_id``: every row once the
    index is complete, the rows up to the built mark while it is being built. A row edit keeps
    the index in step only for these; the build takes the others as it comes to them."""
    built = index_built_to(con)
    return built is None or row_id <= built


def build_search_index_step(con: sqlite3.Connection, batch: int = INDEX_BATCH) -> bool:
    """Index the next ``batch`` rows after the built mark, in one transaction; True when the
    index is complete. The caller holds the dataset's write lock (a row edit in between must
    see the mark this step leaves)."""
    con.execute("BEGIN IMMEDIATE")
    try:
        built = index_built_to(con)
        if built is None:
            con.execute("COMMIT")
            return True
        texts = [row[1] for row in con.execute("PRAGMA table_info(rows_fts)")]
        upper = con.execute(
            "SELECT rowid FROM rows WHERE rowid > ? ORDER BY rowid LIMIT 1 OFFSET ?",
            (built, batch - 1),
        ).fetchone()
        done = upper is None
        if done:
            upper = con.execute("SELECT max(rowid) FROM rows").fetchone()
        last = upper[0] if upper and upper[0] is not None else built
        if last > built:
            names = ", ".join(texts)
            con.execute(
                f"INSERT INTO rows_fts (rowid, {names}) SELECT rowid, {names} FROM rows "
                "WHERE rowid > ? AND rowid <= ?",
                (built, last),
            )
        if done:
            con.execute(f"DROP TABLE {PROGRESS_TABLE}")
        else:
            con.execute(f"UPDATE {PROGRESS_TABLE} SET built = ?", (last,))
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    return done


def drop_search_sets(con: sqlite3.Connection) -> None:
    """Forget the kept search results (see browse.search_set): a copy whose rows are about to
    change must not answer with the matches of the rows it came from."""
    names = [
        row[0]
        for row in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) = 'search_'"
        )
    ]
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS {name}")


def column_index(name: str) -> str:
    """The name of the index on one column (made on demand for sorting and filtering)."""
    return f"rows_by_{name}"


def pair_index(first: str, second: str) -> str:
    """The name of the index on two columns: a row rule's column, then a column that a person
    limited by the rule sorts or filters by (made on demand, see browse.ensure_rule_indexes)."""
    return f"{column_index(first)}_then_{second}"


def drop_indexes_on(con: sqlite3.Connection, name: str) -> None:
    """Drop every index that holds column ``name`` (before the column itself is dropped:
    SQLite refuses to drop an indexed column)."""
    for (index,) in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rows' "
        "AND sql IS NOT NULL"
    ).fetchall():
        held = [row[2] for row in con.execute(f'PRAGMA index_info("{index}")')]
        if name in held:
            con.execute(f'DROP INDEX "{index}"')


def drop_name_bound(con: sqlite3.Connection) -> None:
    """Drop what is named after the columns — the search index, its kept results and the column
    indexes — before columns are renamed; the search index is rebuilt after, the rest on demand."""
    drop_search_sets(con)
    con.execute("DROP TABLE IF EXISTS rows_fts")
    prefix = column_index("")
    for (index,) in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND substr(name, 1, ?) = ?",
        (len(prefix), prefix),
    ).fetchall():
        con.execute(f'DROP INDEX "{index}"')
