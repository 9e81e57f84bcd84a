"""Every change is a version, checked against a model: random sequences of cleaning steps,
appends and replaces (through the import jobs), cell edits, rows added and deleted, undo, redo
and go-back, by two people, some of them made on an out-of-date version, against a plain-Python
reference of the table and of its history.

After every operation the dataset's file holds exactly the model's rows and columns (value by
value, typed, in row id order), its search index finds exactly the model's words, the history
and its undo/redo stacks are the model's, every file a version needs is on disk and nothing
else is left in the datasets folder. A refused operation must be refused for the reason the
model predicts and change nothing (the model does not change, and the checks above run).

The imports run in this process: ``helper_load.load_file`` (the same load in a helper process,
same arguments and results) is replaced by ``pipeline.load_file`` itself.

What the model found is tested on its own at the end, through the pages where it can be.
"""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from server.datasets import versions
from server.datasets.catalog import (
    columns_of,
    dataset_file,
    datasets_dir,
    editable_datasets,
    kept_files,
)
from server.datasets.cleaning import rows as row_edits
from server.datasets.cleaning import steps
from server.datasets.loading import helper_load, jobs, pipeline
from server.db import database
from server.importers import Limits, Meter, ReadOptions
from server.models import Dataset, DatasetShare
from server.sqlite_files import connect
from tests.datasets.helpers import run_import, stored
from tests.helpers import make_app, make_dataset, make_user, signed_in

# 20 sequences of up to 40 operations: 20 to 35 s on the two-core development machine (most of
# it the dataset files' copies and syncs).
SETTINGS = settings(
    max_examples=20,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

PEOPLE = ("ann", "bob")  # ann imports the dataset and shares it with bob, who may edit it
FIRST_LABELS = ["name", "n", "ok"]
FIRST_TYPES = ["text", "integer", "boolean"]
TEXTS = ["ab", " ab", "Ab c ", "AB", "b", " "]
WORDS = ["ab", "b", "c", "zz"]  # every word the text values and fills can hold
CSV_OPTIONS = ReadOptions(format="delimited", encoding="utf-8", delimiter=",", header_row=1)

VALUES = {
    "text": st.none() | st.sampled_from(TEXTS),
    "integer": st.none() | st.integers(-2, 3),
    "boolean": st.sampled_from([None, 0, 1]),
}
TYPED = {  # what a person types in a cell or a form field, good and bad
    "text": st.sampled_from(["", *TEXTS]),
    "integer": st.sampled_from(["", "0", "3", " -2 ", "x"]),
    "boolean": st.sampled_from(["", "yes", "no", "maybe"]),
}
FILLS = {
    "text": st.sampled_from(["zz", " zz ", ""]),
    "integer": st.sampled_from(["7", " -1 ", "x", ""]),
    "boolean": st.sampled_from(["yes", "no", "maybe"]),
}
FILTER_VALUES = {
    "text": st.sampled_from(["ab", "b", "AB"]),
    "integer": st.sampled_from(["0", "2", "x"]),
    "boolean": st.sampled_from(["yes", "no"]),
}
FILTER_OPS = ("eq", "contains", "min", "max", "empty", "notempty")
OPS_BY_TYPE = {
    "text": {"eq", "contains", "empty", "notempty"},
    "integer": {"eq", "min", "max", "empty", "notempty"},
    "boolean": {"eq", "empty", "notempty"},
}
YES_NO = {"yes": 1, "no": 0}


class Refused(Exception):
    """The model's way to say an operation must be refused."""


# --- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    name: str  # c1, c2… as the server names it
    label: str
    type: str


@dataclass
class Table:
    columns: list[Col]
    rows: list[tuple[int, dict]]  # (row id, {label: value}), in row id order

    def copy(self) -> Table:
        return Table(list(self.columns), [(rid, dict(values)) for rid, values in self.rows])

    def ids(self) -> list[int]:
        return [rid for rid, _ in self.rows]


@dataclass
class Version:
    number: int
    kind: str
    who: str
    whole_file: bool
    touched: frozenset[int]  # the rows a row-level version changed
    table: Table  # the state after it


@dataclass
class PendingImport:
    job_id: int
    who: str
    mode: str
    labels: list[str]
    values: list[list]
    base: int


def parse_typed(kind: str, raw: str):
    """What rows.parse_value makes of text typed in a cell (Refused when it does not fit)."""
    text = raw if kind == "text" else raw.strip()
    if text == "":
        return None
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise Refused from None
    if kind == "boolean":
        if text not in YES_NO:
            raise Refused
        return YES_NO[text]
    return text


def cell_text(kind: str, value) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return "yes" if value else "no"
    return str(value)


def filter_value(kind: str, raw: str):
    """A filter's value as the column holds it (Refused when it cannot)."""
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise Refused from None
    return YES_NO[raw] if kind == "boolean" else raw


def matches(kind: str, op: str, target, value) -> bool:
    """The model of one filter of the step "Delete the rows the filter shows"."""
    if op == "empty":
        return value is None
    if op == "notempty":
        return value is not None
    if value is None:
        return False
    if op == "contains":
        return target.lower() in value.lower()  # LIKE ignores the case of ASCII letters
    return {"eq": value == target, "min": value >= target, "max": value <= target}[op]


def typed(value) -> tuple[str, object]:
    """A value with its Python type, so 1, 1.0 and True never compare equal by accident."""
    return (type(value).__name__, value)


# --- the machine -------------------------------------------------------------------------------


class VersionsModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="sheaf-model-"))
        self.data_dir = self.tmp / "data"
        self.app = make_app(self.data_dir)  # binds server.db.database to this folder
        self.people = {login: make_user(login, "editor") for login in PEOPLE}
        self.versions: list[Version] = []
        self.done: list[int] = []
        self.undone: list[int] = []
        self.pending: list[PendingImport] = []
        self.dataset_id = 0
        self.files = 0

    def teardown(self) -> None:
        if not database.is_closed():
            database.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers ---

    @property
    def table(self) -> Table:
        return self.versions[-1].table

    @property
    def number(self) -> int:
        return len(self.versions)

    def dataset(self) -> Dataset:
        return Dataset.get_by_id(self.dataset_id)

    def add_version(
        self, kind: str, who: str, table: Table, *, whole_file: bool, touched=(), change=True
    ) -> None:
        number = self.number + 1
        self.versions.append(Version(number, kind, who, whole_file, frozenset(touched), table))
        if change:  # undo and redo move between the stacks themselves
            self.done.append(number)
            self.undone.clear()

    def base(self, data) -> int:
        """Mostly the current version; sometimes an older one (a page left open)."""
        if self.number > 1 and data.draw(st.integers(0, 3), label="out of date") == 0:
            return data.draw(st.integers(1, self.number - 1), label="base")
        return self.number

    def row_conflict(self, base: int, row_ids) -> bool:
        """A row edit made on ``base`` is refused when a later version changed every row (a
        whole-file one) or one of its rows."""
        later = self.versions[base:]
        return any(v.whole_file or v.touched & set(row_ids) for v in later)

    def attempt(self, op: str, expected: type[Exception] | None, call):
        """Run ``call``; it must raise exactly ``expected``, or succeed when that is None."""
        try:
            result = call()
        except (versions.VersionError, row_edits.RowError, steps.StepError) as exc:
            assert expected is not None, f"{op} was refused: {exc!r}"
            assert type(exc) is expected, f"{op}: expected {expected.__name__}, got {exc!r}"
            event(f"{op}: refused ({expected.__name__})")
            return None
        assert expected is None, f"{op}: expected {expected.__name__}, but it was applied"
        event(f"{op}: applied")
        return result

    def write_csv(self, labels: list[str], kinds: list[str], values: list[list]) -> Path:
        self.files += 1
        path = self.tmp / f"file{self.files}.csv"
        with open(path, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(labels)
            for row in values:
                writer.writerow([cell_text(k, v) for k, v in zip(kinds, row, strict=True)])
        return path

    def plan_import(self, who: str, path: Path, mode: str, labels: list[str], types, target):
        """Receive the file, preview it and check the plan, as the preview page does."""
        user = self.people[who]
        job = jobs.receive_path(path, self.data_dir, user)
        sample = jobs.preview(job, self.data_dir, CSV_OPTIONS, Limits())
        assert sample.labels == labels
        options = sample.options
        names = ("format", "encoding", "delimiter", "header_row", "sheet")
        plan = jobs.Plan(
            options={name: getattr(options, name) for name in names},
            labels=sample.labels,
            types=types,
            name="People",
            mode=mode,
            target_id=target,
        )
        try:
            with self.app.app_context():  # a request's: permissions are cached in flask.g
                jobs.check_plan(plan, user, editable_datasets(user))
        except jobs.ImportRefused:
            jobs.abandon(job, self.data_dir)
            raise
        jobs.queue(job, plan)
        return job

    def run_import(self, job_id: int):
        return jobs.run(job_id, self.data_dir, Limits(), Meter(), lambda: False)

    # --- the dataset ---

    @initialize(
        values=st.lists(
            st.tuples(*(VALUES[k] for k in FIRST_TYPES)).map(list), min_size=1, max_size=6
        )
    )
    def import_dataset(self, values):
        path = self.write_csv(FIRST_LABELS, FIRST_TYPES, values)
        job = self.plan_import("ann", path, "new", FIRST_LABELS, list(FIRST_TYPES), None)
        job = self.run_import(job.id)
        assert job.status == "done", job.message
        self.dataset_id = job.dataset_id
        DatasetShare.create(dataset=self.dataset_id, user=self.people["bob"], can_edit=True)
        columns = [
            Col(f"c{i}", label, kind)
            for i, (label, kind) in enumerate(zip(FIRST_LABELS, FIRST_TYPES, strict=True), 1)
        ]
        rows = [(i, dict(zip(FIRST_LABELS, row, strict=True))) for i, row in enumerate(values, 1)]
        self.add_version("import", "ann", Table(columns, rows), whole_file=True)

    # --- cleaning steps: whole-file versions ---

    def step(self, op, who, base, kind, params, change):
        """Apply a step; ``change(table)`` is the model's new table, or raises Refused."""
        new = self.table.copy()
        expected = None
        if base != self.number:
            expected = versions.Stale
        else:
            try:
                change(new)
            except Refused:
                expected = steps.StepError
        done = self.attempt(
            op,
            expected,
            lambda: steps.apply_step(
                self.dataset(), kind, params, self.people[who], self.data_dir, base
            ),
        )
        if done is not None:
            self.add_version("step", who, new, whole_file=True)

    @rule(who=st.sampled_from(PEOPLE), data=st.data())
    def trim_or_change_case(self, who, data):
        column = data.draw(st.sampled_from(self.table.columns), label="column")
        mode = data.draw(st.sampled_from(["trim", "upper", "lower", "title"]), label="mode")
        base = self.base(data)

        def change(table: Table) -> None:
            if column.type != "text":
                raise Refused
            for _rid, values in table.rows:
                value = values[column.label]
                if value is None:
                    continue
                if mode == "trim":
                    values[column.label] = value.strip(" ") or None
                else:
                    values[column.label] = getattr(str, mode)(value)

        if mode == "trim":
            self.step("trim", who, base, "trim", {"column": column.name}, change)
        else:
            params = {"column": column.name, "mode": mode}
            self.step("case", who, base, "case", params, change)

    @rule(who=st.sampled_from(PEOPLE), data=st.data())
    def fill_empty_cells(self, who, data):
        column = data.draw(st.sampled_from(self.table.columns), label="column")
        raw = data.draw(FILLS[column.type], label="value")
        base = self.base(data)

        def change(table: Table) -> None:
            text = raw.strip()
            if not text:
                raise Refused
            value = parse_typed(column.type, text)
            for _rid, values in table.rows:
                if values[column.label] is None:
                    values[column.label] = value

        self.step("fill", who, base, "fill", {"column": column.name, "value": raw}, change)

    @rule(who=st.sampled_from(PEOPLE), data=st.data())
    def delete_rows_matching_a_filter(self, who, data):
        column = data.draw(st.sampled_from(self.table.columns), label="column")
        op = data.draw(st.sampled_from(FILTER_OPS), label="op")
        raw = "1" if op in ("empty", "notempty") else data.draw(FILTER_VALUES[column.type])
        base = self.base(data)

        def change(table: Table) -> None:
            if op not in OPS_BY_TYPE[column.type]:
                raise Refused
            target = raw if op in ("empty", "notempty") else filter_value(column.type, raw)
            table.rows = [
                (rid, values)
                for rid, values in table.rows
                if not matches(column.type, op, target, values[column.label])
            ]

        params = {"view": {f"{column.name}.{op}": raw}}
        self.step("delete_rows", who, base, "delete_rows", params, change)

    @rule(who=st.sampled_from(PEOPLE), data=st.data())
    def remove_duplicates(self, who, data):
        by = data.draw(st.none() | st.sampled_from(self.table.columns), label="by")
        base = self.base(data)

        def change(table: Table) -> None:
            labels = [c.label for c in table.columns] if by is None else [by.label]
            seen, kept = set(), []
            for rid, values in table.rows:
                key = tuple(typed(values[label]) for label in labels)
                if key not in seen:
                    seen.add(key)
                    kept.append((rid, values))
            table.rows = kept

        params = {} if by is None else {"columns": [by.name]}
        self.step("dedupe", who, base, "dedupe", params, change)

    @rule(who=st.sampled_from(PEOPLE), data=st.data())
    def rename_a_column(self, who, data):
        column = data.draw(st.sampled_from(self.table.columns), label="column")
        label = data.draw(st.sampled_from(["name", "Name", "n", "ok", "note", "N2"]))
        base = self.base(data)

        def change(table: Table) -> None:
            others = [c for c in table.columns if c.name != column.name]
            if any(c.label.casefold() == label.casefold() for c in others):
                raise Refused
            table.columns = [
                Col(c.name, label, c.type) if c.name == column.name else c for c in table.columns
            ]
            table.rows = [
                (rid, {(label if k == column.label else k): v for k, v in values.items()})
                for rid, values in table.rows
            ]

        params = {"column": column.name, "label": label}
        self.step("rename", who, base, "rename", params, change)

    @rule(who=st.sampled_from(PEOPLE), data=st.data())
    def drop_a_column(self, who, data):
        column = data.draw(st.sampled_from(self.table.columns), label="column")
        base = self.base(data)

        def change(table: Table) -> None:
            if len(table.columns) == 1:
                raise Refused
            table.columns = [c for c in table.columns if c.name != column.name]
            for _rid, values in table.rows:
                del values[column.label]

        self.step("drop", who, base, "drop", {"column": column.name}, change)

    # --- appends and replaces, through the import jobs ---

    @rule(
        who=st.sampled_from(PEOPLE),
        mode=st.sampled_from(["append", "replace"]),
        header=st.sampled_from(["same", "same", "upper", "first"]),
        later=st.integers(0, 3),
        data=st.data(),
    )
    def import_rows(self, who, mode, header, later, data):
        """Plan an append or a replace; run it now, or leave it queued while other changes are
        made (it must then be refused when it runs)."""
        columns = list(self.table.columns)
        labels = {
            "same": [c.label for c in columns],
            "upper": [c.label.upper() for c in columns],
            "first": FIRST_LABELS,
        }[header]
        kinds = [c.type for c in columns]
        values = data.draw(
            st.lists(st.tuples(*(VALUES[k] for k in kinds)).map(list), max_size=4), label="rows"
        )
        if len(labels) != len(kinds):
            kinds = ["text"] * len(labels)
            values = [[None] * len(labels) for _ in values]
        path = self.write_csv(labels, kinds, values)
        refused = [x.casefold() for x in labels] != [c.label.casefold() for c in columns]
        try:
            job = self.plan_import(who, path, mode, labels, kinds, self.dataset_id)
        except jobs.ImportRefused:
            assert refused, "the import was refused although its columns match"
            event("import: refused (its columns do not match)")
            return
        assert not refused, "an import whose columns do not match was accepted"
        pending = PendingImport(job.id, who, mode, labels, values, self.number)
        if later == 0 and len(self.pending) < 2:
            self.pending.append(pending)
            event("import: left queued")
        else:
            self.finish_import(pending)

    @rule(data=st.data())
    def run_a_queued_import(self, data):
        if not self.pending:
            return
        index = data.draw(st.integers(0, len(self.pending) - 1), label="queued import")
        self.finish_import(self.pending.pop(index))

    def finish_import(self, pending: PendingImport) -> None:
        stale = pending.base != self.number
        job = self.run_import(pending.job_id)
        if stale:
            assert job.status == "failed", "an import planned on an older version was applied"
            assert "changed this dataset after you opened it" in job.message, job.message
            event(f"{pending.mode}: refused (out of date)")
            return
        assert job.status == "done", f"{pending.mode} failed: {job.message}"
        event(f"{pending.mode}: applied")
        table = self.table.copy()
        if pending.mode == "append":
            # As the server does it, not as versions._next_row_id promises ("above every row id
            # the dataset ever had"): appended rows, and a replace's rows (1…n), may take the ids
            # of rows a row-level version recorded, whose row history then shows two rows.
            start = max(table.ids(), default=0) + 1
            labels = [c.label for c in table.columns]
            table.rows += [
                (start + i, dict(zip(labels, row, strict=True)))
                for i, row in enumerate(pending.values)
            ]
            assert job.rows == len(pending.values)
        else:
            table.columns = [
                Col(f"c{i}", label, c.type)
                for i, (label, c) in enumerate(zip(pending.labels, table.columns, strict=True), 1)
            ]
            table.rows = [
                (i, dict(zip(pending.labels, row, strict=True)))
                for i, row in enumerate(pending.values, 1)
            ]
        self.add_version(pending.mode, pending.who, table, whole_file=True)

    # --- row-level changes ---

    def some_row(self, data) -> int:
        """A row of the table, mostly; sometimes one that is not there (any more)."""
        ids = self.table.ids()
        if ids and data.draw(st.integers(0, 5), label="missing row") > 0:
            return data.draw(st.sampled_from(ids), label="row")
        return data.draw(st.integers(1, max(ids, default=0) + 2), label="row id")

    def next_row_id(self) -> int:
        """Above every row id in the file and every one a row-level version recorded."""
        touched = [rid for v in self.versions for rid in v.touched]
        return max([*self.table.ids(), *touched], default=0) + 1

    @rule(who=st.sampled_from(PEOPLE), data=st.data())
    def edit_cells(self, who, data):
        row_id = self.some_row(data)
        chosen = data.draw(
            st.lists(st.sampled_from(self.table.columns), min_size=1, max_size=3, unique=True),
            label="columns",
        )
        raw = {c.name: data.draw(TYPED[c.type], label=c.label) for c in chosen}
        base = self.base(data)
        table = self.table.copy()
        expected = None
        try:
            if self.row_conflict(base, [row_id]):
                expected = versions.Stale
            else:
                expected = row_edits.RowError
                parsed = {c.label: parse_typed(c.type, raw[c.name]) for c in chosen}
                expected = versions.VersionError
                values = dict(table.rows)[row_id]
                values.update(parsed)
                expected = None
        except (Refused, KeyError):
            pass
        done = self.attempt(
            "edit",
            expected,
            lambda: row_edits.edit_row(
                self.dataset_id, base, row_id, raw, self.people[who], self.data_dir
            ),
        )
        if done is not None:
            self.add_version("edit", who, table, whole_file=False, touched=[row_id])

    @rule(who=st.sampled_from(PEOPLE), data=st.data())
    def add_a_row(self, who, data):
        chosen = data.draw(
            st.lists(st.sampled_from(self.table.columns), max_size=3, unique=True),
            label="columns",
        )
        raw = {c.name: data.draw(TYPED[c.type], label=c.label) for c in chosen}
        unknown = data.draw(st.integers(0, 9), label="unknown column") == 0
        if unknown:
            raw["c99"] = "x"
        base = self.base(data)  # changes since do not matter, unless they removed a column
        table = self.table.copy()
        expected = None
        row_id = self.next_row_id()
        try:
            if unknown:
                raise Refused
            parsed = {c.label: parse_typed(c.type, raw[c.name]) for c in chosen}
            table.rows.append((row_id, {c.label: parsed.get(c.label) for c in table.columns}))
        except Refused:
            expected = row_edits.RowError
        done = self.attempt(
            "add",
            expected,
            lambda: row_edits.add_row(self.dataset_id, base, raw, self.people[who], self.data_dir),
        )
        if done is not None:
            self.add_version("add", who, table, whole_file=False, touched=[row_id])

    @rule(who=st.sampled_from(PEOPLE), data=st.data())
    def delete_some_rows(self, who, data):
        chosen = sorted({self.some_row(data) for _ in range(data.draw(st.integers(1, 3)))})
        base = self.base(data)
        table = self.table.copy()
        expected = None
        if self.row_conflict(base, chosen):
            expected = versions.Stale
        elif not set(chosen) <= set(table.ids()):
            expected = versions.VersionError
        else:
            table.rows = [(rid, values) for rid, values in table.rows if rid not in chosen]
        done = self.attempt(
            "delete",
            expected,
            lambda: row_edits.delete_rows(
                self.dataset_id, base, chosen, self.people[who], self.data_dir
            ),
        )
        if done is not None:
            self.add_version("delete", who, table, whole_file=False, touched=chosen)

    # --- undo, redo, go back ---

    @rule(
        moves=st.lists(
            st.tuples(st.sampled_from(["undo", "redo"]), st.sampled_from(PEOPLE)),
            min_size=1,
            max_size=4,
        ),
        data=st.data(),
    )
    def undo_and_redo(self, moves, data):
        """A few undos and redos in a row (one at a time they would seldom meet): each one an
        operation of its own, checked like every other."""
        for i, (move, who) in enumerate(moves):
            if i:  # the invariants run after the rule, and here between its moves
                self.check_everything()
            getattr(self, move)(who, data)

    def undo(self, who, data):
        base = self.base(data)
        expected = None
        if base != self.number:
            expected = versions.Stale
        elif len(self.done) < 2:
            expected = versions.VersionError
        done = self.attempt(
            "undo",
            expected,
            lambda: versions.undo(self.dataset_id, base, self.people[who], self.data_dir),
        )
        if done is not None:
            target = self.versions[self.done.pop() - 1]
            self.undone.append(target.number)
            before = self.versions[self.done[-1] - 1].table.copy()
            self.add_version(
                "undo",
                who,
                before,
                whole_file=target.whole_file,
                touched=target.touched,
                change=False,
            )

    def redo(self, who, data):
        base = self.base(data)
        expected = None
        if base != self.number:
            expected = versions.Stale
        elif not self.undone:
            expected = versions.VersionError
        done = self.attempt(
            "redo",
            expected,
            lambda: versions.redo(self.dataset_id, base, self.people[who], self.data_dir),
        )
        if done is not None:
            target = self.versions[self.undone.pop() - 1]
            self.done.append(target.number)
            self.add_version(
                "redo",
                who,
                target.table.copy(),
                whole_file=target.whole_file,
                touched=target.touched,
                change=False,
            )

    @rule(who=st.sampled_from(PEOPLE), data=st.data())
    def go_back(self, who, data):
        number = data.draw(st.integers(1, self.number), label="to version")
        base = self.base(data)
        expected = None
        if base != self.number:
            expected = versions.Stale
        elif number >= self.number:
            expected = versions.VersionError
        done = self.attempt(
            "go_back",
            expected,
            lambda: versions.go_back(
                self.dataset_id, base, number, self.people[who], self.data_dir
            ),
        )
        if done is not None:
            self.add_version(
                "go_back", who, self.versions[number - 1].table.copy(), whole_file=True
            )

    @rule(data=st.data())
    def rows_of_an_earlier_version(self, data):
        """What go-back would write (it changes nothing): exactly that version's rows."""
        number = data.draw(st.integers(1, self.number), label="version")
        dest = self.tmp / "rows_at.sqlite"
        versions.rows_at(self.dataset(), number, self.data_dir, dest)
        try:
            self.assert_file_holds(dest, self.versions[number - 1].table)
        finally:
            for suffix in ("", "-wal", "-shm"):
                dest.with_name(dest.name + suffix).unlink(missing_ok=True)

    # --- what must hold after every operation ---

    def assert_file_holds(self, path: Path, table: Table) -> None:
        names = [c.name for c in table.columns]
        con = connect(path)
        try:
            held = con.execute(
                f"SELECT rowid, {', '.join(names)} FROM rows ORDER BY rowid"
            ).fetchall()
            physical = [row[1] for row in con.execute("PRAGMA table_info(rows)")]
            searchable = con.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'rows_fts'"
            ).fetchone()
            found = {
                word: [
                    r[0]
                    for r in con.execute(
                        "SELECT rowid FROM rows_fts WHERE rows_fts MATCH ? ORDER BY rowid",
                        (f'"{word}"',),
                    )
                ]
                for word in (WORDS if searchable else [])
            }
        finally:
            con.close()
        assert sorted(physical) == sorted(names)  # in the dataset's order or not (a cast moves one)
        expected = [(rid, *(values[c.label] for c in table.columns)) for rid, values in table.rows]
        assert [tuple(map(typed, r)) for r in held] == [tuple(map(typed, r)) for r in expected]
        texts = [c.label for c in table.columns if c.type == "text"]
        assert bool(searchable) == bool(texts), "a search index iff there are text columns"
        for word, rowids in found.items():
            holding = [
                rid
                for rid, values in table.rows
                if any(word in re.findall(r"\w+", (values[label] or "").lower()) for label in texts)
            ]
            assert rowids == holding, f"the search for {word!r} finds other rows"

    def check_everything(self) -> None:
        self.dataset_matches_the_model()
        self.history_matches_the_model()
        self.every_file_a_version_needs_is_there_and_nothing_else()

    @invariant()
    def dataset_matches_the_model(self):
        dataset = self.dataset()
        table = self.table
        assert [(c.name, c.label, c.type) for c in columns_of(dataset)] == [
            (c.name, c.label, c.type) for c in table.columns
        ]
        assert dataset.version == self.number and dataset.row_count == len(table.rows)
        self.assert_file_holds(dataset_file(self.data_dir, dataset.storage_key), table)

    @invariant()
    def history_matches_the_model(self):
        dataset = self.dataset()
        history = versions.history(dataset)[::-1]
        assert [(v.number, v.kind, v.user.login) for v in history] == [
            (v.number, v.kind, v.who) for v in self.versions
        ]
        assert [v.whole_file for v in history] == [v.whole_file for v in self.versions]
        latest = history[-1]
        assert (latest.row_count, latest.columns) == (dataset.row_count, dataset.columns)
        done, undone = versions.stacks(dataset)
        assert [v.number for v in done] == self.done
        assert [v.number for v in undone] == self.undone

    @invariant()
    def every_file_a_version_needs_is_there_and_nothing_else(self):
        dataset = self.dataset()
        needed = kept_files(dataset) | {dataset.storage_key}
        for key in needed:
            assert dataset_file(self.data_dir, key).exists(), f"version file {key} is missing"
        present = {p.name.split(".", 1)[0] for p in datasets_dir(self.data_dir).iterdir()}
        assert present <= needed, f"files left behind: {sorted(present - needed)}"


def test_versions_match_the_model(monkeypatch):
    # The imports' helper process runs pipeline.load_file with the same arguments; started
    # with spawn for each of some hundred imports, it would be most of the test's time.
    monkeypatch.setattr(helper_load, "load_file", pipeline.load_file)
    run_state_machine_as_test(VersionsModel, settings=SETTINGS)


# --- what the model found, each on its own --------------------------------------------------


def _post(client, dataset, path, **fields):
    data = {"version": Dataset.get_by_id(dataset.id).version, **fields}
    return client.post_form(f"/datasets/{dataset.id}{path}", data)


def test_a_cell_of_a_row_deleted_meanwhile_is_refused_not_made_again(app, editor_client, people):
    """The model found it: editing a cell of a row id the dataset does not have inserted a new
    row with that id, its other cells empty. The table page gets there: it takes the version
    each cell edit answers as its own, so a row another person deleted meanwhile passes the
    check that the row did not change since."""
    dataset = make_dataset(app, people["editor"], "name,city\nAda,Oslo\nGrace,Lima\n")
    opened = Dataset.get_by_id(dataset.id).version
    admin = signed_in(app, "ada")
    assert _post(admin, dataset, "/rows/delete", row="1").status_code == 302
    cell = f"/datasets/{dataset.id}/rows/{{}}/cell"
    other = editor_client.post_form(
        cell.format(2), {"column": "c2", "value": "Cusco", "version": opened}
    )
    assert other.status_code == 200  # another row: it goes through, and answers its version
    response = editor_client.post_form(
        cell.format(1), {"column": "c2", "value": "Bergen", "version": other.json["version"]}
    )
    assert response.status_code == 400 and "does not exist" in response.json["error"]
    assert stored(app, Dataset.get_by_id(dataset.id)) == [("Grace", "Cusco")]


def test_rows_appended_after_a_column_was_dropped_land_in_their_columns(app, editor_client, people):
    """The model found it: an append after a column other than the last was dropped failed
    ("no such column"), since the rows were loaded under the names c1…cN, not the dataset's."""
    dataset = make_dataset(app, people["editor"], "id,note,name\n1,x,Ada\n", name="Staff")
    _post(editor_client, dataset, "/clean", kind="drop", column="c2")
    job = run_import(
        app, editor_client, b"id,name\n2,Grace\n", "more.csv", mode="append", target=str(dataset.id)
    )
    assert job.status == "done", job.message
    assert stored(app, Dataset.get_by_id(dataset.id)) == [(1, "Ada"), (2, "Grace")]


def test_rows_appended_after_a_type_change_land_in_their_columns(app, editor_client, people):
    """Found with the one above: changing a column's type moves it to the end of the file's
    table, and an append bound the values by position, so they landed in each other's columns
    without a word."""
    dataset = make_dataset(app, people["editor"], "id,name\n1,Ada\n", name="Staff")
    _post(editor_client, dataset, "/clean", kind="cast", column="c1", type="text")
    job = run_import(
        app, editor_client, b"id,name\n2,Grace\n", "more.csv", mode="append", target=str(dataset.id)
    )
    assert job.status == "done", job.message
    assert stored(app, Dataset.get_by_id(dataset.id)) == [("1", "Ada"), ("2", "Grace")]


def test_an_import_planned_before_a_column_was_dropped_says_it_is_out_of_date(app, people):
    """The model found it: such an append failed as "an unexpected problem" (its rows no longer
    fit the file), where any other change since the plan says who changed what."""
    data_dir = app.config["DATA_DIR"]
    eddie = people["editor"]
    dataset = make_dataset(app, eddie, "id,note,name\n1,x,Ada\n", name="Staff")
    source = Path(data_dir) / "more.csv"
    source.write_text("id,note,name\n2,y,Grace\n", encoding="utf-8")
    job = jobs.receive_path(source, data_dir, eddie)
    sample = jobs.preview(job, data_dir, CSV_OPTIONS, Limits())
    plan = jobs.Plan(
        options={"format": "delimited", "encoding": "utf-8", "delimiter": ",", "header_row": 1},
        labels=sample.labels,
        types=["integer", "text", "text"],
        name="Staff",
        mode="append",
        target_id=dataset.id,
    )
    jobs.check_plan(plan, eddie, [dataset])
    jobs.queue(job, plan)
    steps.apply_step(dataset, "drop", {"column": "c2"}, eddie, data_dir, 1)
    job = jobs.run(job.id, data_dir, Limits(), Meter(), lambda: False)
    assert job.status == "failed"
    assert "Eddie Editor changed this dataset after you opened it" in job.message
    assert stored(app, Dataset.get_by_id(dataset.id)) == [(1, "Ada")]
