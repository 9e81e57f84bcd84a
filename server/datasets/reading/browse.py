"""Reading a dataset's rows as a person asks: filtered, searched, sorted, a page at a time.

Pages are found by keyset (the sort value and rowid of the row before), never by OFFSET, so
the last page of a million rows is as quick as the first. Sorting by a column creates its
index the first time. Column names come from the dataset's own list (``c1 … cN``) and every
value is a bound parameter: nothing typed by a person becomes SQL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ...lru import LRUCache
from ..storage import (
    INT64,
    WANTED,
    Column,
    bad_value,
    column_index,
    fits,
    index_progress,
    pair_index,
    typed_value,
)
from .restricted import rule_clauses

Rules = list[tuple[str, tuple[object, ...]]]  # a restricted connection's (column, values)

OPERATORS = {
    "eq": "is",
    "contains": "contains",
    "min": "at least",
    "max": "at most",
    "in": "one of",
    "empty": "is empty",
    "notempty": "is not empty",
    "misfit": "does not fit the column's type",
}
OPERATORS_BY_TYPE = {
    "text": ("contains", "eq", "in", "empty", "notempty"),
    "integer": ("eq", "min", "max", "in", "empty", "notempty", "misfit"),
    "real": ("eq", "min", "max", "empty", "notempty", "misfit"),
    "date": ("eq", "min", "max", "empty", "notempty", "misfit"),
    "datetime": ("min", "max", "empty", "notempty", "misfit"),
    "boolean": ("eq", "empty", "notempty", "misfit"),
}
# What to type for each operator, by column type: shown beside the filter's value.
HINTS = {
    "contains": "part of the text",
    "eq": "the exact value",
    "in": "values separated by |, e.g. a|b|c",
    "min": "the smallest value to keep",
    "max": "the largest value to keep",
}
TYPE_HINTS = {
    "integer": "a whole number",
    "real": "a number",
    "date": "a date",
    "datetime": "a date and time",
    "boolean": "yes or no",
}
NO_VALUE = ("empty", "notempty", "misfit")  # operators that take no value


def hint(kind: str, op: str) -> str:
    """What a person should type for ``op`` on a column of type ``kind`` ("" for none)."""
    if op in NO_VALUE:
        return ""
    if op == "in":
        return HINTS["in"] if kind == "text" else "numbers separated by |, e.g. 1|2|3"
    if kind in TYPE_HINTS and op != "contains":
        return {"eq": "", "min": "at least ", "max": "at most "}[op] + TYPE_HINTS[kind]
    return HINTS[op]


_ARG = re.compile(r"^(c\d{1,4})\.(eq|contains|min|max|in|empty|notempty|misfit)$")
MAX_VALUE = 500


class BadView(ValueError):
    """A filter or search that cannot be applied; the message says why, for a person."""


class IndexBuilding(BadView):
    """A search asked of a dataset whose search index is still being built (after a large
    import): not an error, a wait of a minute at most."""

    RETRY_SECONDS = 5

    def __init__(self, percent: int) -> None:
        super().__init__(
            f"The search index is being built ({percent}%) — search will work in a moment."
        )
        self.percent = percent


def require_search_index(con: sqlite3.Connection, view: View) -> None:
    """Raise :class:`IndexBuilding` when ``view`` searches and the index is not complete yet
    (filters, sorting and paging need no index and work meanwhile)."""
    if view.search and fts_query(view.search):
        percent = index_progress(con)
        if percent is not None:
            raise IndexBuilding(percent)


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: str = ""

    def one_of(self) -> list[str]:
        """The values of a "one of" filter (``a|b|c``): blanks dropped, at most 100."""
        return [v.strip() for v in self.value.split("|") if v.strip()][:100]


@dataclass(frozen=True)
class View:
    """What a person asked to see; it lives in the URL so a view can be bookmarked."""

    search: str = ""
    sort: str | None = None
    descending: bool = False
    filters: tuple[Filter, ...] = field(default_factory=tuple)

    @classmethod
    def from_args(cls, args: Mapping[str, str], columns: list[Column]) -> View:
        names = {c.name for c in columns}
        sort = args.get("sort") if args.get("sort") in names else None
        filters = []
        for key in sorted(args):
            match = _ARG.match(key)
            if match and match.group(1) in names:
                value = str(args[key])[:MAX_VALUE]
                if match.group(2) in ("empty", "notempty", "misfit") or value.strip():
                    filters.append(Filter(match.group(1), match.group(2), value.strip()))
        return cls(
            search=str(args.get("q", ""))[:MAX_VALUE].strip(),
            sort=sort,
            descending=args.get("dir") == "desc",
            filters=tuple(filters),
        )

    def args(self, **changes) -> dict[str, str]:
        """The query-string arguments of this view (with ``changes``), for links."""
        out: dict[str, str] = {}
        if self.search:
            out["q"] = self.search
        if self.sort:
            out["sort"] = self.sort
            if self.descending:
                out["dir"] = "desc"
        for f in self.filters:
            out[f"{f.column}.{f.op}"] = f.value or "1"
        out.update({k: v for k, v in changes.items() if v is not None})
        return {k: v for k, v in out.items() if v != ""}

    def without(self, removed: Filter) -> View:
        """This view less one filter: the link behind a filter chip's remove button."""
        return replace(self, filters=tuple(f for f in self.filters if f != removed))

    @property
    def narrowed(self) -> bool:
        return bool(self.search or self.filters)


def _convert(column: Column, raw: str) -> object:
    """A filter value as the column stores it, or BadView."""
    try:
        return typed_value(column.type, raw)
    except OverflowError:
        raise BadView(f"{column.label}: “{raw[:40]}” is beyond any whole number stored.") from None
    except ValueError:
        raise BadView(f"{column.label}: “{raw[:40]}” is not {WANTED[column.type]}.") from None


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_query(text: str) -> str:
    """Words as FTS5 prefix terms, each quoted: the person's text is never FTS syntax."""
    words = re.findall(r"\w+", text, flags=re.UNICODE)
    return " ".join(f'"{w}"*' for w in words[:20])


def _rule_values(rules: Rules | None) -> dict[str, set]:
    """The values a person limited by ``rules`` may see in the rules' column, when every
    clause is on the same column (then no row outside them exists for that person)."""
    if not rules or len({column for column, _ in rules}) != 1:
        return {}
    return {rules[0][0]: {value for _, values in rules for value in values}}


def _outside_rules(f: Filter, column: Column, allowed: dict[str, set]) -> bool:
    """Whether filter ``f`` asks only for values of the rules' column that the rules leave
    out: then it keeps no row, and the page says so without reading any."""
    if column.name not in allowed:
        return False
    if f.op == "empty":
        return True  # a rule never lets an empty cell through
    if f.op == "eq":
        return _convert(column, f.value) not in allowed[column.name]
    if f.op == "in":
        values = f.one_of()
        return not any(_convert(column, v) in allowed[column.name] for v in values)
    return False


def where(
    view: View, columns: list[Column], searchable: bool, rules: Rules | None = None
) -> tuple[str, list]:
    """The WHERE clause (without the keyword) and its parameters; "1" when nothing narrows.

    ``rules``: the row rules the connection is restricted to (see :func:`rule_clauses`); a
    filter on their column for values they leave out becomes "0" (SQLite would otherwise
    read every row the rules allow to find none)."""
    by_name = {c.name: c for c in columns}
    allowed = _rule_values(rules)
    parts, params = [], []
    for f in view.filters:
        column = by_name[f.column]
        if f.op not in OPERATORS_BY_TYPE[column.type]:
            raise BadView(f"{column.label}: “{OPERATORS[f.op]}” does not apply to this column.")
        c = column.name
        if _outside_rules(f, column, allowed):
            parts.append("0")
        elif f.op == "empty":
            parts.append(f"{c} IS NULL")
        elif f.op == "notempty":
            parts.append(f"{c} IS NOT NULL")
        elif f.op == "misfit":  # values kept as written that do not fit the type
            parts.append(bad_value(column))
        elif f.op == "contains":
            parts.append(f"{c} LIKE ? ESCAPE '\\'")
            params.append(_like_pattern(f.value))
        elif f.op == "in":
            values = f.one_of()
            parts.append(f"{c} IN ({', '.join('?' * len(values))})")
            params.extend(_convert(column, v) for v in values)
        else:
            # A value kept as written but not fitting (text in a number column) never counts
            # as a number or date: SQLite would rank text above every number.
            compare = f"{c} {({'eq': '=', 'min': '>=', 'max': '<='})[f.op]} ?"
            parts.append(compare if f.op == "eq" else f"({compare} AND {fits(column)})")
            params.append(_convert(column, f.value))
    if view.search:
        query = fts_query(view.search)
        if not searchable:
            raise BadView("This dataset has no text columns to search.")
        if query:
            parts.append("rowid IN (SELECT rowid FROM rows_fts WHERE rows_fts MATCH ?)")
            params.append(query)
    return (" AND ".join(parts) or "1"), params


def encode_cursor(value: object, rowid: int) -> str:
    raw = json.dumps([value, rowid], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str | None) -> tuple[object, int] | None:
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value, rowid = json.loads(raw)
    except (ValueError, binascii.Error, TypeError):
        raise BadView("That page link is damaged; start again from the first page.") from None
    numbers = [n for n in (value, rowid) if isinstance(n, int)]
    if (
        not isinstance(rowid, int)
        or not isinstance(value, str | int | float | type(None))
        or not all(INT64[0] <= n <= INT64[1] for n in numbers)
    ):
        raise BadView("That page link is damaged; start again from the first page.")
    return value, rowid


def _beyond(column: str | None, cursor: tuple[object, int], ascending: bool) -> tuple[str, list]:
    """Rows after ``cursor`` in the order (column, rowid), ascending or not; SQLite puts NULLs
    first when ascending and last when descending."""
    value, rowid = cursor
    if column is None:
        return ("rowid > ?" if ascending else "rowid < ?"), [rowid]
    if ascending:
        if value is None:
            return f"(({column} IS NULL AND rowid > ?) OR {column} IS NOT NULL)", [rowid]
        return f"({column}, rowid) > (?, ?)", [value, rowid]
    if value is None:
        return f"({column} IS NULL AND rowid < ?)", [rowid]
    return f"(({column}, rowid) < (?, ?) OR {column} IS NULL)", [value, rowid]


SEARCH_SETS_KEPT = 20


def search_set(con: sqlite3.Connection, query: str) -> tuple[str, int]:
    """A table of the rowids matching ``query``, made once per query and dataset file (the
    file changes whenever the data does), and how many there are.

    Paging a sorted search then checks each row against this table's primary key instead of
    collecting every match from the full-text index again for every page.
    """
    name = "search_" + hashlib.sha256(query.encode()).hexdigest()[:20]
    found = con.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    if not found:
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute(f"CREATE TABLE IF NOT EXISTS {name} (id INTEGER PRIMARY KEY)")
            con.execute(
                f"INSERT OR IGNORE INTO {name} SELECT rowid FROM rows_fts WHERE rows_fts MATCH ?",
                (query,),
            )
            stale = [
                row[0]
                for row in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND substr(name, 1, 7) = 'search_' AND name != ? "
                    "ORDER BY rowid DESC LIMIT -1 OFFSET ?",
                    (name, SEARCH_SETS_KEPT - 1),
                )
            ]
            for table in stale:
                con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:  # SQLite rolls back by itself on a full disk
                con.execute("ROLLBACK")
            raise
    return name, con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]


def _search_only(view: View) -> bool:
    return bool(view.search) and not view.filters and not view.sort


def count_query(
    view: View,
    columns: list[Column],
    searchable: bool,
    from_index: bool = True,
    rules: Rules | None = None,
) -> tuple[str, list]:
    """SQL counting the view's rows: straight from the search index for a plain search
    (unless not ``from_index``: the index counts every row, and a person limited by row rules
    sees only some; ``rules`` are theirs, as :func:`where` takes them)."""
    if from_index and _search_only(view) and searchable and fts_query(view.search):
        return "SELECT count(*) FROM rows_fts WHERE rows_fts MATCH ?", [fts_query(view.search)]
    clause, params = where(view, columns, searchable, rules)
    return f"SELECT count(*) FROM rows WHERE {clause}", params


@dataclass
class Page:
    rows: list[tuple]  # (rowid, value, value, …)
    has_next: bool
    has_prev: bool
    next_cursor: str | None
    prev_cursor: str | None


def _highest_rowid(con: sqlite3.Connection) -> int:
    return con.execute("SELECT max(rowid) FROM rows").fetchone()[0] or 1


def ensure_sort_index(con: sqlite3.Connection, column: str) -> None:
    # main.: on a connection limited by row rules, "rows" alone names the limiting view.
    con.execute(f"CREATE INDEX IF NOT EXISTS main.{column_index(column)} ON rows ({column})")


PAIRED_OPS = ("eq", "min", "max", "in")  # filters an index on (rule column, column) answers


def ensure_rule_indexes(con: sqlite3.Connection, rules: Rules, view: View) -> None:
    """For a person limited by rules on one column: the index on (that column, X) for the
    column X the view sorts by and each X it filters by value, made the first time (like a
    sort's own index). With it their page walks just their rows in the page's order; without
    it SQLite must choose between the rules' index (every row of theirs read to check the
    filter, or sorted) and the sort's (stepping over everyone else's rows)."""
    ruled = {column for column, _ in rules}
    if len(ruled) != 1:
        return
    (rule_column,) = ruled
    wanted = [view.sort] if view.sort else []
    wanted += [f.column for f in view.filters if f.op in PAIRED_OPS]
    for column in dict.fromkeys(wanted):
        if column != rule_column:
            con.execute(
                f"CREATE INDEX IF NOT EXISTS main.{pair_index(rule_column, column)} "
                f"ON rows ({rule_column}, {column})"
            )


def page(
    con: sqlite3.Connection,
    columns: list[Column],
    view: View,
    size: int,
    *,
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
    searchable: bool = True,
    shown: list[Column] | None = None,
    offset: int = 0,
) -> Page:
    """One page of the view: the first, the one after/before a cursor, the last, or the one
    ``offset`` rows in (a jump to a page by its number: OFFSET, so only for jumps; next and
    previous stay keyset). Rows are (rowid, value, …) with the values of ``shown`` (the columns
    the person shows, in their order; all ``columns`` by default)."""
    sort = view.sort
    if sort:
        ensure_sort_index(con, sort)
    # Limited by row rules, "rows" is a view: the index's page of matches may hold rows the
    # person does not see, and a view cannot be walked INDEXED BY.
    rules = rule_clauses(con)
    limited = rules is not None
    if rules:
        ensure_rule_indexes(con, rules, view)
    outer_offset = offset  # where the OFFSET goes: the outer query, or the search's own
    selected = [c.name for c in (columns if shown is None else shown)]
    # Sorted by a hidden column: its value is read for the cursor, then dropped from the rows.
    sort_hidden = sort is not None and sort not in selected
    if sort_hidden:
        selected.append(sort)
    index = selected.index(sort) + 1 if sort else None
    backwards = bool(before) or last
    cursor = decode_cursor(before if before else after)
    ascending = (not view.descending) != backwards
    direction = "ASC" if ascending else "DESC"
    source = "rows"
    query = fts_query(view.search) if searchable else ""
    if _search_only(view) and query and not limited:
        # A plain search in row order: let the index hand over just this page's matches, in
        # order, instead of collecting every match first (30 ms → 4 ms on a million rows).
        bound = ("rowid > ?" if ascending else "rowid < ?") if cursor is not None else "1"
        conditions = [
            f"rowid IN (SELECT rowid FROM rows_fts WHERE rows_fts MATCH ? AND {bound} "
            f"ORDER BY rowid {direction} LIMIT ? OFFSET ?)"
        ]
        values = [query, *([cursor[1]] if cursor else []), size + 1, offset]
        outer_offset = 0
        keyset = False
    else:
        keyset = True
        if (sort or limited) and query:
            # Limited by row rules, a search pages through its kept set of matches too: the
            # index's own pages would have to be collected whole for every page.
            table, matches = search_set(con, query)
            clause, params = where(replace(view, search=""), columns, searchable, rules)
            # Sorted and limited: "+rowid" keeps the matches from driving the query (every
            # match looked up, then sorted), so SQLite walks the sort's index or the rule's.
            plus = "+" if sort and limited else ""
            clause = f"{clause} AND {plus}rowid IN (SELECT id FROM {table})"
            if sort and not limited and matches * 50 > _highest_rowid(con):
                # Many rows match: walk the sort's index, keeping the matches, rather than
                # sort every match.
                source = f"rows INDEXED BY {column_index(sort)}"
        else:
            clause, params = where(view, columns, searchable, rules)
        conditions, values = [clause], list(params)
    if keyset and cursor is not None:
        extra, extra_values = _beyond(sort, cursor, ascending)
        conditions.append(extra)
        values.extend(extra_values)
    order = f"{sort} {direction}, rowid {direction}" if sort else f"rowid {direction}"
    names = ", ".join(selected)
    rows = con.execute(
        f"SELECT rowid, {names} FROM {source} WHERE {' AND '.join(conditions)} "
        f"ORDER BY {order} LIMIT ? OFFSET ?",
        [*values, size + 1, outer_offset],
    ).fetchall()
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    key = (lambda row: row[index]) if index else (lambda row: None)
    first_key = encode_cursor(key(rows[0]), rows[0][0]) if rows else None
    last_key = encode_cursor(key(rows[-1]), rows[-1][0]) if rows else None
    if sort_hidden:
        rows = [row[:-1] for row in rows]
    if backwards:
        return Page(
            rows, has_next=bool(before), has_prev=more, next_cursor=last_key, prev_cursor=first_key
        )
    return Page(
        rows,
        has_next=more,
        has_prev=cursor is not None or offset > 0,
        next_cursor=last_key,
        prev_cursor=first_key,
    )


MAX_PAGE_DIGITS = 18  # past any page count: a longer number is only "too far"


def page_count(rows: int, size: int) -> int:
    return max(1, -(-rows // size))


def page_number(raw: str | None, pages: int) -> int | None:
    """The page a person asked for by number (``page=N``), checked against ``pages``; None
    when they did not ask. Raises :class:`BadView` with a sentence for anything else."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if re.fullmatch(r"-\d+", text, flags=re.ASCII):
        raise BadView("Page numbers start at 1.")
    if not re.fullmatch(r"\d+", text, flags=re.ASCII):
        raise BadView(f"“{text[:20]}” is not a page number: type a number from 1 to {pages:,}.")
    number = int(text) if len(text) <= MAX_PAGE_DIGITS else pages + 1
    if number < 1:
        raise BadView("Page numbers start at 1.")
    if number > pages:
        there = "is only one page" if pages == 1 else f"are only {pages:,} pages"
        raise BadView(f"There {there} in this view: choose a page from 1 to {pages:,}.")
    return number


def page_links(current: int | None, pages: int, around: int = 2) -> list[int | None]:
    """Page numbers to link to: the first, the last and a few around ``current``; None marks
    a gap (shown as …)."""
    wanted = {1, pages}
    if current is not None:
        wanted.update(range(max(1, current - around), min(pages, current + around) + 1))
    else:
        wanted.update(range(1, min(pages, 1 + around) + 1))
    out: list[int | None] = []
    for number in sorted(wanted):
        if out and out[-1] is not None and number > out[-1] + 1:
            out.append(None)
        out.append(number)
    return out


class CountCache:
    """Filtered row counts, kept until the dataset changes, so paging does not recount."""

    def __init__(self, size: int = 256) -> None:
        self._cache: LRUCache[int] = LRUCache(size)

    def count(self, con: sqlite3.Connection, version: str, sql: str, params: list) -> int:
        key = (version, sql, tuple(params))
        return self._cache.get(key, lambda: con.execute(sql, params).fetchone()[0])[0]


def has_search_index(con: sqlite3.Connection) -> bool:
    """Whether the dataset can be searched now: it has text columns and their index is
    complete (see :func:`require_search_index` for the index still being built)."""
    return (
        con.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rows_fts'"
        ).fetchone()
        is not None
        and index_progress(con) is None
    )
