"""Dataset pages: the list, the table view, describing, deleting, sharing and exporting.

Every route loads its dataset through :func:`dataset_or_404`, which answers 404 for a dataset
the person may not see and 403 for an action they may not take on one they can see.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl

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
    stream_with_context,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from ...audit_trail import record
from ...downloads import attachment, download_name, save_target, saved
from ...errors import render_error
from ...importers.types import TYPE_LABELS
from ...models import Dataset, DatasetShare, Role, User
from ...permissions import has_permission, require_permission
from .. import layouts, sharing, versions
from ..catalog import access_to, columns_of, visible_datasets
from ..cleaning import recipes, steps
from ..reading import browse, export
from ..storage import index_progress
from .access import count_of, dataset_or_404, may_whole, open_rows, read_page, rows_of
from .forms import DescribeForm, ShareForm
from .history_pages import base_version

bp = Blueprint("datasets", __name__)


@bp.route("/datasets")
def dataset_list() -> str:
    text = request.args.get("q", "")[:100].strip()
    query = visible_datasets(current_user)
    if text:
        query = query.where(Dataset.name.contains(text))
    return render_template(
        "datasets/list.html", datasets=list(query.order_by(Dataset.updated_at.desc())), q=text
    )


@bp.route("/datasets/<int:dataset_id>")
def dataset_view(dataset_id: int) -> str:
    dataset = dataset_or_404(dataset_id)
    all_columns = columns_of(dataset)
    arrangement = layouts.layout_of(current_user.id, dataset.id)
    columns = arrangement.shown(all_columns)  # the rows hold these, in this order
    view = browse.View.from_args(request.args, all_columns)
    size = current_app.config["PAGE_SIZE"]
    problem = notice = None
    pending_search = ""
    cursor_given = bool(
        request.args.get("after") or request.args.get("before") or request.args.get("last") == "1"
    )
    with rows_of(dataset) as con:
        searchable = browse.has_search_index(con)
        indexing = None if searchable else index_progress(con)
        try:
            try:
                browse.require_search_index(con, view)
            except browse.IndexBuilding as exc:  # the rows meanwhile, filtered but not searched
                notice, pending_search = str(exc), view.search
                view = replace(view, search="")
            pages = browse.page_count(count_of(dataset, con, all_columns, view, searchable), size)
            try:
                number = browse.page_number(request.args.get("page"), pages)
            except browse.BadView as exc:  # the view stays; its first page is shown
                problem, number = str(exc), None
            page, matching = read_page(
                dataset,
                con,
                all_columns,
                view,
                size,
                searchable,
                shown=columns,
                number=number,
            )
        except browse.BadView as exc:
            problem = str(exc)
            view = browse.View(sort=view.sort, descending=view.descending)
            page = browse.page(con, all_columns, view, size, searchable=searchable, shown=columns)
            matching = count_of(dataset, con, all_columns, view, searchable)
            number, cursor_given = None, False
            pages = browse.page_count(matching, size)
    if not cursor_given:
        current = number or 1
    elif request.args.get("last") == "1":
        current = pages
    else:  # next and previous carry the number; a link from before page numbers has none
        current = number
    access = access_to(current_user, dataset)
    return render_template(
        "datasets/view.html",
        dataset=dataset,
        columns=columns,
        all_columns=arrangement.ordered(all_columns),
        hidden=arrangement.hidden,
        widths=arrangement.widths_of(all_columns),
        view=view,
        page=page,
        current_page=current,
        pages=pages,
        page_links=browse.page_links(current, pages),
        matching=matching,
        problem=problem,
        notice=notice,
        pending_search=pending_search,
        indexing=indexing,
        searchable=searchable,
        access=access,
        operators=browse.OPERATORS,
        operators_by_type=browse.OPERATORS_BY_TYPE,
        hint=browse.hint,
        may_share=may_whole(dataset, "share"),
        may_delete=may_whole(dataset, "delete"),
        may_export=has_permission(current_user, "datasets.export"),
        export_formats=export.FORMATS,
    )


def _back_to_view(dataset: Dataset, query: str) -> str:
    """The table page with the view the person was on: only its query arguments are kept
    from what the form sent, so the answer can never lead anywhere else."""
    args = dict(parse_qsl(query.lstrip("?")[:4000]))
    return url_for("datasets.dataset_view", dataset_id=dataset.id, **args)


@bp.route("/datasets/<int:dataset_id>/layout", methods=["POST"])
def dataset_layout(dataset_id: int) -> Response | tuple[Response | str, int]:
    """Save how the person arranges the table (anyone who may read the dataset may keep their
    own). JSON from the page's script (``order``, ``hidden``, ``widths``, ``reset``) answers
    JSON; the Columns menu's form (``order``, ``shown``, ``move``, ``reset``) goes back to the
    table. Anything malformed is a 400 with a sentence, and nothing is saved."""
    dataset = dataset_or_404(dataset_id)
    columns = columns_of(dataset)
    current = layouts.layout_of(current_user.id, dataset.id)
    if request.is_json:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return jsonify(error="Send the layout as a JSON object."), 400
        if payload.get("reset") is True:
            layouts.reset_layout(current_user.id, dataset.id)
            return jsonify(saved=True)
        try:
            arranged = layouts.changed(
                current,
                columns,
                order=payload.get("order"),
                hidden=payload.get("hidden"),
                widths=payload.get("widths"),
            )
        except layouts.LayoutError as exc:
            return jsonify(error=str(exc)), 400
        layouts.save_layout(current_user.id, dataset.id, arranged)
        return jsonify(saved=True)
    back = _back_to_view(dataset, request.form.get("view", ""))
    if request.form.get("reset"):
        layouts.reset_layout(current_user.id, dataset.id)
        flash("The columns are back in the dataset's own order, all shown.", "success")
        return redirect(back)
    order = hidden = None
    if "order" in request.form:
        order = [n for n in request.form.get("order", "").split(",") if n]
        shown = set(request.form.getlist("shown"))
        hidden = [n for n in order if n not in shown]
    move = request.form.get("move") or None
    try:
        arranged = layouts.changed(current, columns, order=order, hidden=hidden, move=move)
    except layouts.LayoutError as exc:
        return render_error(400, f"{exc} Go back to the table and try again.")
    layouts.save_layout(current_user.id, dataset.id, arranged)
    # Back to the Columns menu, on the button just used (a move is often one of several).
    anchor = f"#columns-{move.replace(':', '-')}" if move else "#columns-menu"
    return redirect(back + anchor)


@bp.route("/datasets/<int:dataset_id>/about", methods=["GET", "POST"])
def dataset_about(dataset_id: int) -> str | Response:
    dataset = dataset_or_404(dataset_id, "edit")
    form = DescribeForm(obj=dataset)
    if form.validate_on_submit():
        try:
            sharing.describe(dataset, form.name.data, form.description.data)
        except sharing.DatasetError as exc:
            form.form_errors.append(str(exc))
        else:
            flash("Saved.", "success")
            return redirect(url_for("datasets.dataset_view", dataset_id=dataset.id))
    return render_template("datasets/about.html", dataset=dataset, form=form)


@bp.route("/datasets/<int:dataset_id>/delete", methods=["GET", "POST"])
def dataset_delete(dataset_id: int) -> str | Response:
    dataset = dataset_or_404(dataset_id, "delete")
    if request.method == "POST":
        from flask_wtf import FlaskForm

        if FlaskForm().validate_on_submit():
            name = dataset.name
            sharing.delete(dataset, current_app.config["DATA_DIR"])
            flash(f"{name} is deleted.", "success")
            return redirect(url_for("datasets.dataset_list"))
    return render_template("datasets/delete.html", dataset=dataset)


def _share_choices() -> list[tuple[str, str]]:
    roles = [
        (f"role:{r.id}", f"Everyone with the {r.name} role")
        # Admins read everything already; sharing with their role would change nothing.
        for r in Role.select()
        .where(Role.builtin.is_null() | (Role.builtin != "admin"))
        .order_by(Role.name)
    ]
    people = [
        (f"user:{u.id}", f"{u.display_name} ({u.login})")
        for u in User.select().where(User.active == True).order_by(User.display_name)  # noqa: E712
    ]
    return [("", "Choose a role or a person"), *roles, *people]


@bp.route("/datasets/<int:dataset_id>/sharing", methods=["GET", "POST"])
def dataset_sharing(dataset_id: int) -> Response | tuple[str, int]:
    dataset = dataset_or_404(dataset_id, "share")
    form = ShareForm()
    form.target.choices = [c for c in _share_choices() if c[0] != f"user:{dataset.owner_id}"]
    status = 200
    if form.validate_on_submit():
        kind, _, raw_id = (form.target.data or "").partition(":")
        rights = {"by": current_user._get_current_object(), "can_edit": form.rights.data == "edit"}
        try:
            if kind == "role":
                sharing.share(dataset, role=Role.get_by_id(int(raw_id)), **rights)
            elif kind == "user":
                sharing.share(dataset, user=User.get_by_id(int(raw_id)), **rights)
            else:
                raise sharing.DatasetError("Choose a role or a person to share with.")
        except sharing.DatasetError as exc:
            form.form_errors.append(str(exc))
            status = 400 if isinstance(exc, sharing.SharingRefused) else 200
        else:
            flash("Shared.", "success")
            return redirect(url_for("datasets.dataset_sharing", dataset_id=dataset.id))
    page = render_template(
        "datasets/sharing.html", dataset=dataset, form=form, shares=sharing.shares_of(dataset)
    )
    return page, status


@bp.route("/datasets/<int:dataset_id>/sharing/<int:share_id>/revoke", methods=["POST"])
def dataset_revoke(dataset_id: int, share_id: int) -> Response:
    dataset = dataset_or_404(dataset_id, "share")
    share = DatasetShare.get_or_none(
        (DatasetShare.id == share_id) & (DatasetShare.dataset == dataset.id)
    )
    if share is None:
        abort(404)
    sharing.revoke(share)
    flash("Access removed.", "success")
    return redirect(url_for("datasets.dataset_sharing", dataset_id=dataset.id))


@bp.route("/datasets/<int:dataset_id>/export")
@require_permission("datasets.export")
def dataset_export(dataset_id: int) -> Response:
    dataset = dataset_or_404(dataset_id)
    fmt = request.args.get("format", "csv")
    if fmt not in export.FORMATS:
        abort(404)
    columns = columns_of(dataset)
    view = browse.View.from_args(request.args, columns)
    con = open_rows(dataset)
    searchable = browse.has_search_index(con)
    try:
        browse.require_search_index(con, view)
        browse.where(view, columns, searchable)  # refuse a bad view before streaming
    except browse.IndexBuilding as exc:
        con.close()
        return _index_building(exc)
    except browse.BadView:
        con.close()
        abort(400)
    record(
        "dataset.exported",
        object_type="dataset",
        object_id=dataset.id,
        details={
            "format": fmt,
            "view": view.args(),
            "rows": count_of(dataset, con, columns, view, searchable),
        },
    )
    headers = attachment(download_name(dataset.name, {"csv-bom": "csv"}.get(fmt, fmt)))
    rows = export.rows_of(con, columns, view, searchable)
    try:
        target = save_target()
    except HTTPException:
        con.close()
        raise
    if fmt == "xlsx":
        try:
            path = export.xlsx_file(columns, rows, dataset.name)
        finally:
            con.close()
        if target is not None:
            return saved(_stream_file(path), target)
        return Response(_stream_file(path), mimetype=export.MEDIA_TYPES[fmt], headers=headers)
    if fmt == "json":
        chunks = export.json_chunks(columns, rows)
    else:
        batches = export.csv_batches(con, columns, view, searchable)
        chunks = export.csv_chunks(columns, batches, bom=fmt == "csv-bom")
    if target is not None:
        return saved(_closing(chunks, con), target)
    return Response(
        stream_with_context(_closing(chunks, con)),
        mimetype=export.MEDIA_TYPES[fmt],
        headers=headers,
    )


def _index_building(exc: browse.IndexBuilding) -> Response:
    """503 with Retry-After: an export of a search waits for the search index."""
    return Response(
        str(exc),
        status=503,
        mimetype="text/plain",
        headers={"Retry-After": str(exc.RETRY_SECONDS)},
    )


def _closing(chunks: Iterator[bytes], con) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        con.close()


def _stream_file(path: Path) -> Iterator[bytes]:
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 16):
                yield chunk
    finally:
        path.unlink(missing_ok=True)


def _step_params(kind: str, form) -> dict:
    """The fields of one step's form, as the step reads them."""
    keys = {
        "trim": ["column"],
        "case": ["column", "mode"],
        "replace": ["column", "find", "replacement", "regex"],
        "split": ["column", "delimiter"],
        "cast": ["column", "type", "on_bad", "order"],
        "fill": ["column", "value"],
        "dedupe": [],
        "delete_rows": [],
        "rename": ["column", "label"],
        "drop": ["column"],
    }.get(kind, [])
    params = {key: form.get(key, "")[:500] for key in keys}
    if "regex" in params:
        params["regex"] = params["regex"] == "1"
    if kind == "dedupe":
        params["columns"] = form.getlist("columns")[:2000]
    if kind == "delete_rows":
        params["view"] = {k[5:]: v for k, v in form.items() if k.startswith("view:")}
    return params


@bp.route("/datasets/<int:dataset_id>/clean", methods=["GET", "POST"])
def dataset_clean(dataset_id: int) -> str | Response:
    dataset = dataset_or_404(dataset_id, "all_rows")
    problem = None
    if request.method == "POST":
        from flask_wtf import FlaskForm

        if FlaskForm().validate_on_submit():
            kind = request.form.get("kind", "")
            try:
                version = steps.apply_step(
                    dataset,
                    kind,
                    _step_params(kind, request.form),
                    current_user._get_current_object(),
                    current_app.config["DATA_DIR"],
                    base_version(),
                )
            except (steps.StepError, versions.VersionError) as exc:
                problem = str(exc)
            else:
                flash(
                    f"{version.summary} ({version.rows_touched:,} rows). "
                    f"Now at version {version.number:,}.",
                    "success",
                )
                return redirect(url_for("datasets.dataset_clean", dataset_id=dataset.id))
    view = browse.View.from_args(request.args, columns_of(dataset))
    return render_template(
        "datasets/clean.html",
        dataset=dataset,
        day_first=current_app.config["DAY_FIRST"],
        columns=columns_of(dataset),
        steps=steps.STEPS,
        history=versions.history(dataset, 20),
        stacks=versions.stacks(dataset),
        problem=problem,
        view=view,
        types=TYPE_LABELS,
    ), (400 if problem else 200)


@bp.route("/datasets/<int:dataset_id>/recipes", methods=["POST"])
def dataset_save_recipe(dataset_id: int) -> Response:
    dataset = dataset_or_404(dataset_id, "all_rows")
    try:
        recipe = recipes.save_recipe(
            dataset, request.form.get("name", ""), current_user._get_current_object()
        )
    except steps.StepError as exc:
        flash(str(exc), "error")
    else:
        flash(
            f"Saved the recipe {recipe.name}: choose it when you import the next file with "
            "these columns, or run it on another dataset from its Recipes page.",
            "success",
        )
    return redirect(url_for("datasets.dataset_clean", dataset_id=dataset.id))
