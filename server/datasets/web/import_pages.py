"""The import flow: upload → preview (adjust) → run in the background → result."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from itertools import chain
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ...auth.session import passive
from ...downloads import attachment, download_name, save_target, saved
from ...formula_guard import neutralise
from ...importers import (
    FORMATS,
    TYPE_LABELS,
    TYPES,
    Guessing,
    Limits,
    ReadOptions,
    TableSample,
    UnreadableFile,
    column_values,
    guess_columns,
    readings_for,
)
from ...importers.readings import DECIMALS, ORDERS, check_column, missing_set
from ...models import ImportJob, ImportProblem
from ...permissions import require_permission
from ..catalog import columns_of, editable_datasets
from ..cleaning import recipes
from ..loading import jobs
from ..loading.runner import ImportRunner, limits_from
from .access import limit_of
from .forms import ENCODING_LABELS, ENCODINGS, PreviewForm, UploadForm

PREVIEW_ROWS = 20
HANDFUL = 5  # values in the sample that may be flagged or emptied without asking first

bp = Blueprint("imports", __name__)


def limits() -> Limits:
    return limits_from(current_app.config)


def runner() -> ImportRunner:
    return current_app.extensions["sheaf.imports"]


def _data_dir() -> Path:
    return current_app.config["DATA_DIR"]


def _job_or_404(job_id: int) -> ImportJob:
    """An import of the signed-in person's; anyone else's is invisible (404)."""
    job = ImportJob.get_or_none((ImportJob.id == job_id) & (ImportJob.user == current_user.id))
    if job is None:
        abort(404)
    return job


@bp.route("/import", methods=["GET", "POST"])
@require_permission("datasets.import")
def upload() -> str | Response:
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = jobs.receive_file(
                upload.stream,
                upload.filename or "",
                _data_dir(),
                current_user._get_current_object(),
            )
        except jobs.ImportRefused as exc:
            form.file.errors.append(str(exc))
        else:
            return redirect(url_for("imports.import_preview", job_id=job.id))
    recent = (
        ImportJob.select()
        .where(ImportJob.user == current_user.id)
        .order_by(ImportJob.id.desc())
        .limit(10)
    )
    return render_template("datasets/import_upload.html", form=form, recent=list(recent))


def _options_from(form: PreviewForm, fmt: str | None) -> ReadOptions:
    text = fmt == "delimited"
    # A button of the unsure-encoding notice reads the file again in its encoding.
    chosen = request.form.get("use_encoding")
    encoding = chosen if chosen in ENCODING_LABELS else form.encoding.data
    return ReadOptions(
        format=fmt,
        encoding=(encoding or None) if fmt in ("delimited", "json") else None,
        delimiter=(form.delimiter.data or None) if text else None,
        header_row=form.header_row.data if fmt != "json" else None,
        sheet=(form.sheet.data or None) if fmt in ("xlsx", "xls", "ods") else None,
    )


@bp.route("/import/<int:job_id>/preview", methods=["GET", "POST"])
@require_permission("datasets.import")
def import_preview(job_id: int) -> str | Response:
    job = _job_or_404(job_id)
    if job.status != "ready":
        return redirect(url_for("imports.import_status", job_id=job.id))
    form = PreviewForm()
    # Appending and replacing change rows beyond anyone's row rules: only for people who see
    # every row of the dataset.
    targets = [d for d in editable_datasets(current_user) if limit_of(d) is None]
    form.target.choices = [(0, "Choose a dataset")] + [(d.id, d.name) for d in targets]
    options = ReadOptions()
    if request.method == "POST":
        chosen = form.format.data if form.format.data in FORMATS else None
        # A change of format starts detection afresh; otherwise the person's choices stand.
        previous = job.option_dict.get("format")
        options = _options_from(form, chosen) if chosen == previous else ReadOptions(format=chosen)
    sample, error = None, None
    try:
        sample = jobs.preview(job, _data_dir(), options, limits())
    except UnreadableFile as exc:
        error = str(exc)
    if sample is not None:
        job.options = _json_options(sample.options)
        job.save()
    # The person's choices for the columns stand only while the same columns are shown: a
    # change of sheet, header row or any reading setting guesses them afresh.
    shown = request.form.get("shown")
    same = bool(sample) and (shown is None or shown == _fingerprint(sample))
    guessing = _guessing(len(sample.labels) if sample else 0, same)
    guesses = guess_columns(sample, guessing) if sample else []
    types = [g.kind for g in guesses]
    if same:  # the person's types, but a column whose reading they changed is guessed again
        types = [
            request.form.get(f"type_{i}")
            if request.form.get(f"type_{i}") in TYPES and not _reading_changed(i)
            else kind
            for i, kind in enumerate(types)
        ]
    readings = readings_for(sample, types, guessing, guesses) if sample else []
    markers = missing_set(guessing.missing)
    fits = [
        g
        if g.kind == kind and g.reading == reading
        else check_column(column_values(sample, i), kind, reading, markers)
        for i, (g, kind, reading) in enumerate(zip(guesses, types, readings, strict=True))
    ]
    for fit, guess in zip(fits, guesses, strict=True):
        fit.open_question = guess.open_question
    flagged = sum(f.sampled - f.fit for f in fits if f.kind != "text")
    confirm = 0
    if request.method == "GET":
        form.name.data = Path(job.file_name).stem[:200] or "Imported data"
    if sample:
        _fill_choices(form, sample)
        usable = recipes.recipes_for(current_user, sample.labels)
        form.recipe.choices = [(0, "None")] + [(r.id, r.name) for r in usable]
    if (
        sample
        and request.method == "POST"
        and request.form.get("action") == "import"
        and form.validate()
    ):
        plan = jobs.Plan(
            options=_plan_options(sample.options),
            labels=sample.labels,
            types=types,
            name=form.name.data,
            mode=form.mode.data,
            target_id=form.target.data or None,
            on_bad=form.on_bad.data,
            recipe_id=form.recipe.data or None,
            missing=list(guessing.missing),
        )
        try:
            jobs.check_plan(plan, current_user, targets)
        except jobs.ImportRefused as exc:
            form.form_errors.append(str(exc))
        else:
            if flagged > HANDFUL and plan.on_bad != "refuse" and not request.form.get("confirmed"):
                confirm = flagged  # say so first; the button below imports anyway
            else:
                chosen = readings_for(sample, plan.types, guessing, guesses)
                plan.readings = [r.as_dict() for r in chosen]
                jobs.queue(job, plan)
                runner().start(job.id, job.file_size)
                return redirect(url_for("imports.import_status", job_id=job.id))
    return render_template(
        "datasets/import_preview.html",
        job=job,
        form=form,
        sample=sample,
        error=error,
        types=types,
        fits=fits,
        flagged=flagged,
        confirm=confirm,
        shown=_fingerprint(sample) if sample else "",
        missing=", ".join(guessing.missing),
        orders=ORDERS,
        decimals=DECIMALS,
        type_labels=TYPE_LABELS,
        rows=sample.rows[:PREVIEW_ROWS] if sample else [],
        encoding_labels=ENCODING_LABELS,
        earlier=jobs.earlier_identical(job),
    )


def _fingerprint(sample: TableSample) -> str:
    """What the preview shows: the reading settings and the columns they gave."""
    text = json.dumps([_plan_options(sample.options), sample.labels], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _guessing(width: int, same: bool) -> Guessing:
    """The settings and, while the same columns are shown, the person's choices."""
    config = current_app.config
    text = config["MISSING_MARKERS"]
    if request.method == "POST" and "missing" in request.form:
        text = request.form.get("missing", "")[:500]
    form = request.form if same else {}
    return Guessing(
        threshold=config["TYPE_THRESHOLD"],
        missing=tuple(word.strip() for word in text.split(",") if word.strip()),
        order="dmy" if config["DAY_FIRST"] else "mdy",
        orders=tuple(_choice(form, f"order_{i}", ORDERS) for i in range(width)),
        decimals=tuple(_choice(form, f"decimal_{i}", DECIMALS) for i in range(width)),
    )


def _reading_changed(index: int) -> bool:
    """Whether the person changed a column's date order or decimal mark on the page."""
    form = request.form
    shown = form.get(f"reading_{index}")
    now = form.get(f"order_{index}", "") + form.get(f"decimal_{index}", "")
    return shown is not None and shown != now


def _choice(form, name: str, allowed: dict) -> str | None:
    value = form.get(name)
    return value if value in allowed else None


def _plan_options(options: ReadOptions) -> dict:
    return {
        k: getattr(options, k) for k in ("format", "encoding", "delimiter", "header_row", "sheet")
    }


def _json_options(options: ReadOptions) -> str:
    return json.dumps(_plan_options(options))


def _fill_choices(form: PreviewForm, sample) -> None:
    options = sample.options
    form.format.data = options.format
    encoding = codecs.lookup(options.encoding).name if options.encoding else "utf-8"
    encodings = dict(ENCODINGS)
    if encoding not in ENCODING_LABELS:
        encodings["Other"] = [(encoding, encoding)]
    form.encoding.choices = encodings
    form.encoding.data = encoding
    form.delimiter.data = options.delimiter or ","
    form.header_row.data = options.header_row if options.header_row is not None else 1
    form.sheet.choices = [(name, name) for name in sample.sheets]
    form.sheet.data = options.sheet


@bp.route("/import/<int:job_id>")
@require_permission("datasets.import")
def import_status(job_id: int) -> str | Response:
    job = _job_or_404(job_id)
    if job.status == "ready":
        return redirect(url_for("imports.import_preview", job_id=job.id))
    problems = list(job.problems.order_by(ImportProblem.row, ImportProblem.id).limit(200))
    return render_template(
        "datasets/import_status.html",
        formats=FORMATS,
        job=job,
        progress=runner().progress(job.id),
        problems=problems,
        plan=job.option_dict,
        by_column=_by_column(job),
        problems_name=_problems_file_name(job),
    )


def _by_column(job: ImportJob) -> list[dict]:
    """Per column: values that did not fit, read as empty, Excel errors; and a link to the
    dataset filtered to the flagged values, while the column is still there."""
    outcome = job.outcome_dict
    misfits, missing = outcome.get("misfits", {}), outcome.get("missing", {})
    errors = outcome.get("excel_errors", {})
    names = {}
    if job.dataset is not None and job.status == "done":
        names = {c.label: c.name for c in columns_of(job.dataset)}
    labels = list(dict.fromkeys([*misfits, *missing, *errors]))
    rows = []
    for label in labels:
        name = names.get(label)
        link = None
        if name and misfits.get(label) and outcome.get("on_bad", "keep") == "keep":
            link = url_for(
                "datasets.dataset_view", dataset_id=job.dataset.id, **{f"{name}.misfit": 1}
            )
        rows.append(
            {
                "label": label,
                "misfits": misfits.get(label, 0),
                "missing": missing.get(label, 0),
                "errors": errors.get(label, 0),
                "link": link,
            }
        )
    return rows


@bp.route("/import/<int:job_id>/progress")
@require_permission("datasets.import")
@passive
def import_progress(job_id: int) -> Response:
    job = _job_or_404(job_id)
    return jsonify(status=job.status, progress=runner().progress(job.id))


@bp.route("/import/<int:job_id>/cancel", methods=["POST"])
@require_permission("datasets.import")
def import_cancel(job_id: int) -> Response:
    job = _job_or_404(job_id)
    if job.status == "ready":
        jobs.abandon(job, _data_dir())
        flash("The file was not imported.", "info")
        return redirect(url_for("imports.upload"))
    if not runner().cancel(job.id) and not job.finished:
        jobs.cancel_queued(job, _data_dir())
    return redirect(url_for("imports.import_status", job_id=job.id))


@bp.route("/import/<int:job_id>/problems.csv")
@require_permission("datasets.import")
def import_problems(job_id: int) -> Response:
    job = _job_or_404(job_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = (
        [p.row, p.column_label, p.value, p.message]
        for p in job.problems.order_by(ImportProblem.row, ImportProblem.id)
    )
    # Every cell through the guard: the labels and values come from the imported file.
    for row in chain([["row", "column", "value", "problem"]], rows):
        writer.writerow([neutralise(cell) for cell in row])
    text = "\ufeff" + buffer.getvalue()
    # In the desktop window a plain download does nothing (pywebview blocks them): the page
    # asks the save dialog first and sends its token (server.downloads, assets/js/sheaf.js).
    target = save_target()
    if target is not None:
        return saved(iter([text.encode("utf-8")]), target)
    return Response(text, mimetype="text/csv", headers=attachment(_problems_file_name(job)))


def _problems_file_name(job: ImportJob) -> str:
    """The problem list's file name: the imported file's, with ``-problems.csv``."""
    return download_name(f"{Path(job.file_name).stem}-problems", "csv")


@bp.route("/import/picked", methods=["POST"])
@require_permission("datasets.import")
def upload_picked() -> Response:
    """A file chosen in the desktop's open dialog (its token, from server.native_dialogs)."""
    path = current_app.extensions["sheaf.picked"].take(request.form.get("token"), "open")
    if path is None:
        abort(404)
    try:
        job = jobs.receive_path(path, _data_dir(), current_user._get_current_object())
    except (jobs.ImportRefused, OSError) as exc:
        message = (
            str(exc)
            if isinstance(exc, jobs.ImportRefused)
            else (f"Sheaf could not read {path.name}: {exc.strerror or exc}.")
        )
        flash(message, "error")
        return redirect(url_for("imports.upload"))
    return redirect(url_for("imports.import_preview", job_id=job.id))
