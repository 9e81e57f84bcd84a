"""Row rules: who sees only some of a dataset's rows, decided in one place.

A rule says "people with role R (or person P) see only rows where column C equals a fixed
value | one of a list | their own user name | their display name". Several rules that apply to
one person widen what they see (OR); no rule means every row; the dataset's owner and people
with ``datasets.view_all`` always see every row. Rules never give access: they only narrow what
the dataset's sharing already gives.

:func:`restriction` is the one function that turns (dataset, person) into what they may see;
``web.access`` applies it to every connection it opens for them (``reading.restricted``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..audit_trail import record
from ..db import database
from ..models import Dataset, Role, RowRule, User
from ..permissions import has_permission
from ..prepared import Prepared
from ..sqlite_files import connect
from .catalog import columns_of, dataset_file
from .cleaning.rows import RowError, parse_value
from .storage import Column, column_index

KINDS = {
    "value": "equals",
    "one_of": "is one of",
    "user_name": "equals their own user name",
    "display_name": "equals their display name",
}
MAX_VALUES = 100
MAX_VALUE = 200


class RuleError(ValueError):
    """A rule that cannot be made; the message says why, for a person. Nothing changed."""


@dataclass(frozen=True)
class Restriction:
    """The rows a person may see: those where, for at least one clause, the column holds one
    of the values (as stored). No clause at all: no rows."""

    clauses: tuple[tuple[str, tuple[Any, ...]], ...]

    def sql(self) -> tuple[str, list]:
        """A WHERE condition (without the keyword) and its parameters."""
        parts, params = [], []
        for column, values in self.clauses:
            parts.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
        return (" OR ".join(parts) or "0"), params

    def allows(self, row: Mapping[str, Any]) -> bool:
        """Whether a row (values by column name, as stored) is one the person may see."""
        return any(row.get(column) in values for column, values in self.clauses)

    @cached_property
    def key(self) -> str:
        """Stable text naming this restriction, for cache keys (a person restricted to some
        rows must never get a count or profile worked out on all of them)."""
        text = json.dumps(self.clauses, default=str, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def rules_of(dataset: Dataset) -> list[RowRule]:
    return list(
        RowRule.select()
        .where(RowRule.dataset == dataset.id)
        .order_by(RowRule.role.is_null(False), RowRule.id)
    )


def sees_everything(dataset: Dataset, user: User) -> bool:
    return dataset.owner_id == user.id or has_permission(user, "datasets.view_all")


# The rules that apply to a person, with SQL built once (server/prepared.py): this runs for
# every request of a limited person, where Peewee's query building took 0.2-0.3 ms.
_rules_for = Prepared(
    RowRule,
    lambda dataset_id, user_id, role_id: (
        RowRule.select()
        .where(
            (RowRule.dataset == dataset_id)
            & ((RowRule.user == user_id) | (RowRule.role == role_id))
        )
        .order_by(RowRule.id)
    ),
    3,
)


def narrows(dataset: Dataset, user: User) -> bool:
    """Whether rules narrow what ``user`` sees of ``dataset``, asked outside any request (an
    import finishing in a worker thread: the role's permissions are read from the database)."""
    if dataset.owner_id == user.id or "datasets.view_all" in user.role.permission_names():
        return False
    return bool(_rules_for.all(dataset.id, user.id, user.role_id))


def restriction(dataset: Dataset, user: User) -> Restriction | None:
    """What ``user`` may see of ``dataset``'s rows: None for every row."""
    if sees_everything(dataset, user):
        return None
    rules = _rules_for.all(dataset.id, user.id, user.role_id)
    if not rules:
        return None
    columns = {c.name: c for c in columns_of(dataset)}
    clauses = []
    for rule in rules:
        column = column_of(rule, columns)
        if column is None:  # its column is gone or renamed: the rule still narrows, to nothing
            continue
        values = _stored(column, _wanted(rule, user))
        if values:
            clauses.append((column.name, values))
    return Restriction(tuple(clauses))


def column_of(rule: RowRule, columns: Mapping[str, Column]) -> Column | None:
    """The column ``rule`` narrows on, by identifier, if it still carries the label it had
    when the rule was made; else None (and the rule lets nobody see any row). An identifier
    alone can come to name another column (a dropped column's taken by a split's new one, a
    recipe's columns in another order); a rename cannot be told from that, so it closes the
    rule too, until the rule is made again."""
    column = columns.get(rule.column)
    if column is None or rule.label is None or column.label.casefold() != rule.label.casefold():
        return None
    return column


def _wanted(rule: RowRule, user: User) -> list[str]:
    if rule.kind == "user_name":
        return [user.login]
    if rule.kind == "display_name":
        return [user.display_name]
    return list(json.loads(rule.values))


def _stored(column: Column, texts: list[str]) -> tuple[Any, ...]:
    """The values as the column stores them (a value that cannot be stored matches nothing)."""
    out = []
    for text in texts:
        try:
            value = parse_value(column, text)
        except RowError:
            continue
        if value is not None and value not in out:
            out.append(value)
    return tuple(out)


def describe(rule: RowRule, columns: list[Column] | None = None) -> str:
    """The rule in words, as the sharing page and the audit log say it; with the dataset's
    ``columns``, it also says when its column was renamed or removed since (see
    :func:`column_of`)."""
    who = f"Everyone with the {rule.role.name} role" if rule.role_id else rule.user.display_name
    column = rule.label or rule.column
    values = json.loads(rule.values)
    if rule.kind == "value":
        what = f"equals “{values[0]}”"
    elif rule.kind == "one_of":
        what = "is one of " + ", ".join(f"“{v}”" for v in values)
    else:
        what = KINDS[rule.kind]
    sees = "sees" if not rule.role_id else "see"
    said = f"{who} {sees} only rows where {column} {what}"
    if columns is not None and column_of(rule, {c.name: c for c in columns}) is None:
        said += (
            f" (the column {column} was renamed or removed since: this rule lets them see "
            "no row until it is removed and made again on a column the dataset has)"
        )
    return said


def parse_values(kind: str, text: str) -> list[str]:
    """The values a person typed for a rule: one for "value", one a line (or separated by |)
    for "one_of", none for the name kinds."""
    if kind in ("user_name", "display_name"):
        return []
    pieces = [text] if kind == "value" else text.replace("|", "\n").splitlines()
    values = []
    for piece in pieces:
        piece = piece.strip()
        if piece and piece not in values:
            values.append(piece)
    return values


def add_rule(
    dataset: Dataset,
    *,
    column: str,
    kind: str,
    values: list[str],
    data_dir: Path,
    user: User | None = None,
    role: Role | None = None,
) -> RowRule:
    """Add a rule (audited) and index its column, so that the person's pages stay quick."""
    if (user is None) == (role is None):
        raise RuleError("Choose one role or one person for the rule.")
    if user is not None and user.id == dataset.owner_id:
        raise RuleError(f"{user.display_name} owns this dataset and always sees every row.")
    by_name = {c.name: c for c in columns_of(dataset)}
    if column not in by_name:
        raise RuleError("Choose one of the dataset's columns.")
    if kind not in KINDS:
        raise RuleError("Choose what the column must hold.")
    values = [] if kind in ("user_name", "display_name") else values
    if kind in ("value", "one_of") and not values:
        raise RuleError("Type the value the column must hold.")
    if kind == "value" and len(values) > 1:
        raise RuleError("Type one value, or choose “is one of” for several.")
    if len(values) > MAX_VALUES or any(len(v) > MAX_VALUE for v in values):
        raise RuleError(f"Use at most {MAX_VALUES} values of at most {MAX_VALUE} characters.")
    if any(not v.isprintable() for v in values):
        raise RuleError("Values cannot hold control characters such as tabs or line breaks.")
    for value in values:
        try:
            parse_value(by_name[column], value)
        except RowError as exc:
            raise RuleError(str(exc)) from None
    with database.atomic():
        rule = RowRule.create(
            dataset=dataset,
            user=user,
            role=role,
            column=column,
            label=by_name[column].label,
            kind=kind,
            values=json.dumps(values),
        )
        record(
            "dataset.row_rule_added",
            object_type="dataset",
            object_id=dataset.id,
            details={"rule": describe(rule, list(by_name.values()))},
        )
    index_column(dataset, column, data_dir)
    return rule


def index_column(dataset: Dataset, column: str, data_dir: Path) -> None:
    """The index a rule on ``column`` uses (the same one sorting by it uses)."""
    con = connect(dataset_file(data_dir, dataset.storage_key))
    try:
        con.execute(f"CREATE INDEX IF NOT EXISTS {column_index(column)} ON rows ({column})")
    finally:
        con.close()


def remove_rule(rule: RowRule) -> None:
    with database.atomic():
        record(
            "dataset.row_rule_removed",
            object_type="dataset",
            object_id=rule.dataset_id,
            details={"rule": describe(rule)},
        )
        rule.delete_instance()


def seen_count(dataset: Dataset, user: User, data_dir: Path) -> int:
    """How many rows ``user`` would see now (the sharing page's preview)."""
    limit = restriction(dataset, user)
    if limit is None:
        return dataset.row_count
    where, params = limit.sql()
    con = connect(dataset_file(data_dir, dataset.storage_key))
    try:
        sql = f"SELECT count(*) FROM rows WHERE {where}"  # noqa: S608 (c-names and ? only)
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()
