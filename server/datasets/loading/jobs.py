"""Imports as a person sees them: receive a file, preview it, run it, report on it.

Plain functions over the models; no Flask. A run is all or nothing: the rows go to a new
dataset file that becomes part of Sheaf only in the final short transaction, so a failure, a
cancel or a killed process leaves no dataset, no table and no half-written rows behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from ... import file_removal
from ...audit_trail import record
from ...db import database
from ...file_keys import BadKey, key_path, new_key
from ...importers import (
    TYPES,
    Limits,
    Meter,
    NotATable,
    Reading,
    ReadOptions,
    TableSample,
    UnreadableFile,
    detect_format,
)
from ...models import Dataset, ImportJob, ImportProblem, Recipe, User, utcnow
from ...sqlite_files import connect
from .. import row_rules, versions
from ..catalog import columns_of, dataset_file, datasets_dir, kept_files
from ..cleaning.recipes import recipe_columns, replay
from ..cleaning.steps import StepError
from ..versions import VersionError
from .bulk_load import BadValues, LoadResult, Problem, Stopped, append_rows

log = logging.getLogger(__name__)

ORIGINALS_DIR = "originals"
MAX_NAME = 200


class ImportRefused(ValueError):
    """The import cannot start as asked; the message says why, for a person."""


def originals_dir(data_dir: Path) -> Path:
    path = Path(data_dir) / ORIGINALS_DIR
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def original_path(data_dir: Path, job: ImportJob) -> Path:
    """The uploaded file of ``job``; :class:`BadKey` for a key Sheaf did not make."""
    return key_path(originals_dir(data_dir), job.original_key)


def _drop_original(data_dir: Path, job: ImportJob) -> None:
    """Delete the job's uploaded file; one under a key Sheaf did not make is left alone."""
    try:
        path = original_path(data_dir, job)
    except BadKey as exc:
        log.warning("Import %s: %s", job.id, exc)
        return
    file_removal.remove(path)  # an orphaned helper may still read it (Windows: held)


def receive_file(stream: BinaryIO, file_name: str, data_dir: Path, user: User) -> ImportJob:
    """Store an uploaded file under a generated name, with its SHA-256, as a new import."""
    key = new_key()
    target = key_path(originals_dir(data_dir), key)
    digest, size = hashlib.sha256(), 0
    with open(target, "xb") as out:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size == 0:
        target.unlink()
        raise ImportRefused("The file is empty.")
    try:
        detect_format(target)
    except NotATable as exc:  # a photo, a PDF, a program…: said now, and nothing is kept
        target.unlink()
        raise ImportRefused(str(exc)) from None
    except UnreadableFile:
        pass  # the preview says what is wrong and lets the person read the file another way
    return ImportJob.create(
        user=user,
        file_name=Path(file_name or "upload").name[:MAX_NAME] or "upload",
        file_size=size,
        sha256=digest.hexdigest(),
        original_key=key,
    )


def receive_path(path: Path, data_dir: Path, user: User) -> ImportJob:
    """The same for a file the person chose in the desktop's native dialog."""
    with open(path, "rb") as handle:
        return receive_file(handle, path.name, data_dir, user)


def earlier_identical(job: ImportJob) -> ImportJob | None:
    """A finished import of a file with the same bytes, if there was one."""
    return (
        ImportJob.select()
        .where(
            (ImportJob.sha256 == job.sha256)
            & (ImportJob.status == "done")
            & (ImportJob.id != job.id)
        )
        .order_by(ImportJob.id.desc())
        .first()
    )


@dataclass
class Plan:
    """What the person decided on the preview page."""

    options: dict = field(default_factory=dict)  # ReadOptions as a dict
    labels: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    name: str = ""
    mode: str = "new"  # new, append, replace
    target_id: int | None = None
    on_bad: str = "keep"  # values that do not fit: keep (flagged), empty, or refuse
    refuse_bad_values: bool = False  # plans saved before "keep" existed
    recipe_id: int | None = None
    base_version: int | None = None  # the target's version the plan was made on
    readings: list[dict] = field(default_factory=list)  # how each column writes its values
    missing: list[str] | None = None  # read as empty in typed columns (None: the usual)

    @property
    def bad_values(self) -> str:
        return "refuse" if self.refuse_bad_values else self.on_bad

    def read_options(self) -> ReadOptions:
        return ReadOptions(**self.options)

    def column_readings(self) -> list[Reading] | None:
        if len(self.readings) != len(self.types):
            return None  # a plan saved before readings existed: ISO forms
        return [Reading.from_dict(r) for r in self.readings]


def preview(job: ImportJob, data_dir: Path, options: ReadOptions, limits: Limits) -> TableSample:
    """The file's sample as read with ``options``; spreadsheets are read in a capped helper
    process (:mod:`.helper_preview`), so no file can take the server down."""
    from .helper_preview import inspect_file

    return inspect_file(original_path(data_dir, job), options, limits)


RULED_SINCE = (
    "Row rules now let you see only some of {name}'s rows, and appending or replacing changes "
    "rows beyond them. Nothing was changed; ask the dataset's owner."
)


def check_plan(plan: Plan, user: User, editable: list[Dataset]) -> Dataset | None:
    """Refuse a plan that cannot work; return the dataset to append to or replace."""
    if not plan.name.strip():
        raise ImportRefused("Give the dataset a name.")
    if len(plan.name) > MAX_NAME:
        raise ImportRefused(f"Use at most {MAX_NAME} characters for the name.")
    if any(kind not in TYPES for kind in plan.types) or len(plan.types) != len(plan.labels):
        raise ImportRefused("Choose a type for every column.")
    if plan.recipe_id is not None:
        recipe = Recipe.get_or_none((Recipe.id == plan.recipe_id) & (Recipe.owner == user.id))
        if recipe is None:
            raise ImportRefused("Choose one of your recipes.")
        start = recipe_columns(recipe)
        if [c.label.casefold() for c in start] != [label.casefold() for label in plan.labels]:
            raise ImportRefused(f"The recipe {recipe.name} was made for other columns.")
        plan.types = [c.type for c in start]  # the steps expect the types they were made on
    if plan.mode == "new":
        return None
    if plan.mode not in ("append", "replace"):
        raise ImportRefused("Choose whether to make a new dataset, append or replace.")
    target = next((d for d in editable if d.id == plan.target_id), None)
    if target is None:
        raise ImportRefused("Choose a dataset you may change to append to or replace.")
    plan.base_version = target.version  # a change to it before the import ends refuses it
    if plan.recipe_id is not None:
        return target  # the columns the recipe produces are compared after it has run
    theirs = [c.label.casefold() for c in columns_of(target)]
    ours = [label.casefold() for label in plan.labels]
    if theirs != ours:
        missing = [c.label for c in columns_of(target) if c.label.casefold() not in ours]
        extra = [label for label in plan.labels if label.casefold() not in theirs]
        detail = []
        if missing:
            detail.append(f"missing {', '.join(missing[:5])}")
        if extra:
            detail.append(f"new {', '.join(extra[:5])}")
        if not detail:
            detail.append("the same names in another order")
        raise ImportRefused(
            f"The columns do not match {target.name}'s ({'; '.join(detail)}). "
            "Import it as a new dataset instead."
        )
    plan.types = [c.type for c in columns_of(target)]  # the rows join an existing table
    return target


def queue(job: ImportJob, plan: Plan) -> None:
    with database.atomic():
        job.options = json.dumps(asdict(plan), ensure_ascii=False)
        job.mode = plan.mode
        job.target = plan.target_id
        job.status = "queued"
        job.save()


def run(job_id: int, data_dir: Path, limits: Limits, meter: Meter, should_stop) -> ImportJob:
    """Carry out a queued import (in a worker thread). Never raises for a bad file."""
    job = ImportJob.get_by_id(job_id)
    plan = Plan(**job.option_dict)
    job.status, job.started_at = "running", utcnow()
    job.save()
    fresh_key = new_key()
    dest = dataset_file(data_dir, fresh_key)
    target = Dataset.get_or_none(Dataset.id == plan.target_id) if plan.target_id else None
    recipe = Recipe.get_or_none(Recipe.id == plan.recipe_id) if plan.recipe_id else None
    if target is not None:
        try:  # changed since the plan: said now, not after reading the file (or failing to,
            # a column dropped since); _publish checks again under the dataset's lock
            versions.require_current(target, plan.base_version)
        except VersionError as exc:
            return _finish(job, data_dir, "failed", str(exc))
    appending = plan.mode == "append" and target is not None
    # With a recipe, the file's rows are cleaned on their own first, then joined to the target.
    base = dataset_file(data_dir, target.storage_key) if appending and not recipe else None
    sample = TableSample(plan.read_options(), plan.labels, [])
    from .helper_load import load_file

    try:
        outcome = load_file(
            original_path(data_dir, job),
            dest,
            sample,
            plan.types,
            bad_values=plan.bad_values,
            meter=meter,
            should_stop=should_stop,
            base=base,
            names=[c.name for c in columns_of(target)] if base is not None else None,
            limits=limits,
            readings=plan.column_readings() or [Reading()] * len(plan.types),
            markers=None if plan.missing is None else tuple(plan.missing),
        )
        if recipe is not None:
            outcome.columns, outcome.result.rows, checked = _apply_recipe(
                dest,
                recipe,
                target,
                dataset_file(data_dir, target.storage_key) if appending else None,
                plan.bad_values,
            )
            outcome.result.problems.extend(checked.problems)
            outcome.result.problem_count += checked.problem_count
            for label, count in checked.misfits.items():
                outcome.result.misfits[label] = outcome.result.misfits.get(label, 0) + count
    except Stopped:
        return _finish(job, data_dir, "cancelled", "The import was cancelled; nothing was changed.")
    except BadValues as exc:
        return _finish(
            job,
            data_dir,
            "failed",
            f"{exc} You chose to refuse such imports; nothing was changed.",
            exc.result.problems,
            exc.result.problem_count,
        )
    except (UnreadableFile, StepError) as exc:
        dest.unlink(missing_ok=True)
        return _finish(job, data_dir, "failed", str(exc))
    except Exception:
        dest.unlink(missing_ok=True)
        log.exception("import %s failed", job_id)
        return _finish(
            job,
            data_dir,
            "failed",
            "Sheaf hit an unexpected problem; it has been logged. Nothing was changed.",
        )
    try:
        dataset = _publish(job, plan, target, fresh_key, outcome)
    except VersionError as exc:
        dest.unlink(missing_ok=True)
        return _finish(job, data_dir, "failed", str(exc))
    except Exception:
        dest.unlink(missing_ok=True)
        raise
    log.info(
        "Import %s: %s rows into dataset %s%s.",
        job.id,
        f"{outcome.result.rows:,}",
        dataset.id,
        " (read in two halves at once)" if outcome.result.split_at else "",
    )
    return job


def _apply_recipe(
    dest: Path, recipe: Recipe, target: Dataset | None, append_to: Path | None, on_bad: str
) -> tuple[list, int, LoadResult]:
    """Replay ``recipe`` on the freshly loaded rows; when appending, join them to a copy of
    the target's rows (checked against the target's types, as an import is), which then takes
    the place of ``dest``."""
    columns, rows = replay(dest, recipe)
    if target is None:
        return columns, rows, LoadResult(rows)
    theirs = columns_of(target)
    if [c.label.casefold() for c in columns] != [c.label.casefold() for c in theirs]:
        raise StepError(f"After the recipe, the columns do not match {target.name}'s.")
    if append_to is None:
        return columns, rows, LoadResult(rows)  # a replacement: the recipe's columns
    checked = append_rows(append_to, theirs, dest, columns, on_bad)
    return theirs, checked.rows, checked


def _publish(job: ImportJob, plan: Plan, target: Dataset | None, key: str, outcome) -> Dataset:
    """Make the loaded file a dataset, or the target's next version: all in one transaction
    with the job's outcome and its audit event."""
    if target is None:
        with database.atomic():
            dataset = versions.new_dataset(
                plan.name.strip(),
                job.user,
                key,
                outcome.columns,
                outcome.result.rows,
                f"Imported {job.file_name}",
            )
            _done(job, outcome, outcome.result.rows, dataset)
            record(
                "dataset.import_new",
                object_type="dataset",
                object_id=dataset.id,
                actor=job.user,
                details=_audit_details(job, dataset),
            )
        versions.announce_new_file(dataset.id)  # its search index may be built in steps
        return dataset
    with versions.writing(target.id) as dataset:
        versions.require_current(dataset, plan.base_version)
        if row_rules.narrows(dataset, job.user):  # a rule made for them since the plan
            raise VersionError(RULED_SINCE.format(name=dataset.name))
        appended = plan.mode == "append"
        added = outcome.result.rows - dataset.row_count if appended else outcome.result.rows
        rows = f"{added:,} {'row' if added == 1 else 'rows'}"
        summary = (
            f"Added {rows} from {job.file_name}"
            if appended
            else f"Replaced the rows with {rows} from {job.file_name}"
        )
        columns = columns_of(dataset) if appended else outcome.columns
        with database.atomic():
            _done(job, outcome, added, dataset)
            versions.commit_file(
                dataset,
                job.user,
                plan.mode,
                summary,
                new_key=key,
                columns=columns,
                row_count=outcome.result.rows,
                rows_touched=added,
                audit=f"dataset.import_{plan.mode}",
                audit_details=_audit_details(job, dataset),
            )
    return dataset


def _done(job: ImportJob, outcome, rows: int, dataset: Dataset) -> None:
    _store_problems(job, outcome.problems)
    job.status, job.finished_at = "done", utcnow()
    job.rows, job.problem_count = rows, outcome.problem_count
    job.dataset = dataset
    job.warnings = json.dumps(outcome.result.warnings, ensure_ascii=False)
    result = outcome.result
    job.outcome = json.dumps(
        {
            "misfits": result.misfits,
            "missing": result.missing,
            "excel_errors": result.excel_errors,
            "on_bad": Plan(**job.option_dict).bad_values,
        },
        ensure_ascii=False,
    )
    job.save()


def _store_problems(job: ImportJob, problems: list[Problem]) -> None:
    rows = [(job.id, p.row, p.column, p.value, p.message) for p in problems]
    for start in range(0, len(rows), 500):
        ImportProblem.insert_many(
            rows[start : start + 500],
            fields=[
                ImportProblem.import_job,
                ImportProblem.row,
                ImportProblem.column_label,
                ImportProblem.value,
                ImportProblem.message,
            ],
        ).execute()


def _audit_details(job: ImportJob, dataset: Dataset) -> dict:
    return {
        "file": job.file_name,
        "size": job.file_size,
        "sha256": job.sha256,
        "rows": job.rows,
        "problems": job.problem_count,
        "dataset": dataset.name,
    }


def cancel_queued(job: ImportJob, data_dir: Path) -> ImportJob:
    return _finish(job, data_dir, "cancelled", "The import was cancelled; nothing was changed.")


def _finish(
    job: ImportJob,
    data_dir: Path,
    status: str,
    message: str,
    problems: list[Problem] | None = None,
    problem_count: int = 0,
) -> ImportJob:
    """A run that did not complete: record why, keep nothing of the file."""
    with database.atomic():
        job.status, job.message, job.finished_at = status, message, utcnow()
        job.problem_count = problem_count
        job.save()
        if problems:
            _store_problems(job, problems)
        record(
            f"dataset.import_{status}",
            object_type="import",
            object_id=job.id,
            actor=job.user,
            outcome="failed" if status == "failed" else "cancelled",
            details={
                "file": job.file_name,
                "size": job.file_size,
                "sha256": job.sha256,
                "message": message,
            },
        )
    _drop_original(data_dir, job)
    return job


def abandon(job: ImportJob, data_dir: Path) -> None:
    """Forget a previewed import that was never started."""
    if job.status == "ready":
        _drop_original(data_dir, job)
        job.status, job.message, job.finished_at = "cancelled", "Not imported.", utcnow()
        job.save()


def clean_leftovers(data_dir: Path) -> None:
    """At start-up: whatever an interrupted import left goes, so every folder is consistent.

    Imports marked queued or running did not survive the restart: they are failed and their
    files removed; dataset files no dataset points at (a killed import's) are deleted;
    previews never started within a day are dropped.
    """
    stale = ImportJob.select().where(ImportJob.status.in_(("queued", "running")))
    for job in stale:
        _finish(job, data_dir, "failed", "Sheaf stopped during this import; nothing was changed.")
    day_ago = utcnow() - timedelta(days=1)
    for job in ImportJob.select().where(
        (ImportJob.status == "ready") & (ImportJob.created_at < day_ago)
    ):
        abandon(job, data_dir)
    live = kept_files()  # every dataset's file, and the files its history can go back to
    for path in datasets_dir(data_dir).iterdir():
        key = path.name.split(".", 1)[0]
        if key not in live:
            file_removal.remove(path)  # held by a dying helper (Windows): deleted later
        elif path.name.endswith(("-wal", "-shm")) and path.exists():
            # A process killed while it read the file left its write-ahead log: opening and
            # closing the file folds it back in (SQLite's own recovery) and removes both.
            con = connect(dataset_file(data_dir, key))
            try:
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # a read is what opens the log
            finally:
                con.close()
    known = {j.original_key for j in ImportJob.select(ImportJob.original_key)}
    for path in originals_dir(data_dir).iterdir():
        if path.name not in known:
            file_removal.remove(path)
    shutil.rmtree(Path(data_dir) / "tmp", ignore_errors=True)
