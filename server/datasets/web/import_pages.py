"""The import flow: upload → preview (adjust) → run in the background → result."""

from __future__ import annotations

import csv
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
from ...downloads import attachment, download_name
from ...formula_guard import neutralise
from ...importers import (
    FORMATS,
    TYPE_LABELS,
    TYPES,
    Limits,
    ReadOptions,
    UnreadableFile,
    guess_types,
)
from ...models import ImportJob, ImportProblem
from ...permissions import require_permission
from ..catalog import editable_datasets
from ..cleaning import recipes
from ..loading import jobs
from ..loading.runner import ImportRunner, limits_from
from .forms import ENCODINGS, PreviewForm, UploadForm

PREVIEW_ROWS = 20

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
    return ReadOptions(
        format=fmt,
        encoding=(form.encoding.data or None) if fmt in ("delimited", "json") else None,
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
    targets = list(editable_datasets(current_user))
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
    types = guess_types(sample) if sample else []
    if sample and request.method == "POST":
        types = [
            request.form.get(f"type_{i}") if request.form.get(f"type_{i}") in TYPES else kind
            for i, kind in enumerate(types)
        ]
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
        )
        try:
            jobs.check_plan(plan, current_user, targets)
        except jobs.ImportRefused as exc:
            form.form_errors.append(str(exc))
        else:
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
        type_labels=TYPE_LABELS,
        rows=sample.rows[:PREVIEW_ROWS] if sample else [],
        earlier=jobs.earlier_identical(job),
    )


def _plan_options(options: ReadOptions) -> dict:
    return {
        k: getattr(options, k) for k in ("format", "encoding", "delimiter", "header_row", "sheet")
    }


def _json_options(options: ReadOptions) -> str:
    return json.dumps(_plan_options(options))


def _fill_choices(form: PreviewForm, sample) -> None:
    options = sample.options
    form.format.data = options.format
    encodings = list(ENCODINGS)
    if options.encoding and options.encoding not in {value for value, _ in encodings}:
        encodings.insert(0, (options.encoding, options.encoding))
    form.encoding.choices = encodings
    form.encoding.data = options.encoding or "utf-8"
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
    )


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
    name = download_name(f"{Path(job.file_name).stem}-problems", "csv")
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv", headers=attachment(name))


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
