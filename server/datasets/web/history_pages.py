"""A dataset's history: every version with who, when and what; undo, redo, and going back to
an earlier version after a confirmation. Each change names the version it was made on
(the form's ``version`` field), so a page left open while someone else worked cannot undo
their change by mistake."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import versions
from ..catalog import may
from .access import dataset_or_404

bp = Blueprint("history", __name__)
BACK = {"clean": "datasets.dataset_clean", "history": "history.dataset_history"}
SHOWN = 100  # versions listed before "Show every version"


def base_version() -> int | None:
    """The version the form was made on, or None when it does not say."""
    try:
        number = int(request.form.get("version", ""))
    except ValueError:
        return None
    return number if 0 < number < 2**62 else None


def _back(dataset_id: int) -> Response:
    endpoint = BACK.get(request.form.get("back", ""), "history.dataset_history")
    return redirect(url_for(endpoint, dataset_id=dataset_id))


@bp.route("/datasets/<int:dataset_id>/history")
def dataset_history(dataset_id: int) -> str:
    dataset = dataset_or_404(dataset_id, "read_all_rows")
    done, undone = versions.stacks(dataset)
    data_dir = current_app.config["DATA_DIR"]
    everything = request.args.get("all") == "1"
    return render_template(
        "datasets/history.html",
        dataset=dataset,
        history=versions.history(dataset, None if everything else SHOWN),
        everything=everything,
        can_undo=len(done) > 1,
        can_redo=bool(undone),
        editable=may(current_user, dataset, "edit"),
        available=versions.available(dataset, data_dir),
        space=versions.space(dataset, data_dir),
    )


def _change(dataset_id: int, action, done: str) -> Response:
    dataset = dataset_or_404(dataset_id, "all_rows")
    if FlaskForm().validate_on_submit():
        try:
            version = action(
                dataset.id,
                base_version(),
                current_user._get_current_object(),
                current_app.config["DATA_DIR"],
            )
        except versions.VersionError as exc:
            flash(str(exc), "error")
        else:
            flash(
                f"{done} Now at version {version.number:,}: {versions.describe(version)}.",
                "success",
            )
    return _back(dataset.id)


@bp.route("/datasets/<int:dataset_id>/undo", methods=["POST"])
def dataset_undo(dataset_id: int) -> Response:
    return _change(dataset_id, versions.undo, "Undone.")


@bp.route("/datasets/<int:dataset_id>/redo", methods=["POST"])
def dataset_redo(dataset_id: int) -> Response:
    return _change(dataset_id, versions.redo, "Redone.")


@bp.route("/datasets/<int:dataset_id>/history/<int:number>/go-back", methods=["GET", "POST"])
def dataset_go_back(dataset_id: int, number: int) -> str | Response:
    dataset = dataset_or_404(dataset_id, "all_rows")
    try:
        plan = versions.go_back_plan(dataset, number)
    except versions.VersionError as exc:
        flash(str(exc), "error")
        return redirect(url_for("history.dataset_history", dataset_id=dataset.id))
    if request.method == "POST" and FlaskForm().validate_on_submit():
        try:
            version = versions.go_back(
                dataset.id,
                base_version(),
                number,
                current_user._get_current_object(),
                current_app.config["DATA_DIR"],
            )
        except versions.VersionError as exc:
            flash(str(exc), "error")
        else:
            flash(
                f"Went back: version {version.number:,} has the rows of version {number:,}.",
                "success",
            )
        return redirect(url_for("history.dataset_history", dataset_id=dataset.id))
    return render_template("datasets/go_back.html", dataset=dataset, plan=plan)
