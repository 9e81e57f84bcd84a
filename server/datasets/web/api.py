"""A small JSON API for the same reads as the pages, behind the same session and checks.

See docs/api.md. Errors come back as JSON with the HTTP status: ``{"error": "…"}``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from ...models import Dataset
from ..catalog import access_to, columns_of, visible_datasets
from ..reading import browse
from .access import dataset_or_404, read_page, rows_of, rows_seen

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_LIMIT = 1000


def _describe(dataset: Dataset) -> dict:
    return {
        "id": dataset.id,
        "name": dataset.name,
        "description": dataset.description,
        "owner": dataset.owner.login,
        "rows": rows_seen(dataset),
        "columns": [c.as_dict() for c in columns_of(dataset)],
        "updated_at": dataset.updated_at.isoformat(timespec="seconds"),
        "access": access_to(current_user, dataset),
    }


@bp.route("/datasets")
def datasets() -> Response:
    query = visible_datasets(current_user).order_by(Dataset.name)
    return jsonify(datasets=[_describe(d) for d in query])


@bp.route("/datasets/<int:dataset_id>")
def dataset(dataset_id: int) -> Response:
    return jsonify(_describe(dataset_or_404(dataset_id)))


@bp.route("/datasets/<int:dataset_id>/rows")
def rows(dataset_id: int) -> Response | tuple[Response, int]:
    found = dataset_or_404(dataset_id)
    columns = columns_of(found)
    view = browse.View.from_args(request.args, columns)
    limit = request.args.get("limit", str(current_app.config["PAGE_SIZE"]))
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        return jsonify(error=f"limit must be a whole number from 1 to {MAX_LIMIT}."), 400
    with rows_of(found) as con:
        searchable = browse.has_search_index(con)
        try:
            browse.require_search_index(con, view)
            page, matching = read_page(found, con, columns, view, int(limit), searchable)
        except browse.IndexBuilding as exc:  # a moment's wait, said as HTTP says it
            answer = jsonify(error=str(exc), index_progress=exc.percent)
            answer.headers["Retry-After"] = str(exc.RETRY_SECONDS)
            return answer, 503
        except browse.BadView as exc:
            return jsonify(error=str(exc)), 400
    names = [c.name for c in columns]
    return jsonify(
        rows=[{"_rowid": row[0], **dict(zip(names, row[1:], strict=True))} for row in page.rows],
        next=page.next_cursor if page.has_next else None,
        prev=page.prev_cursor if page.has_prev else None,
        matching=matching,
        total=rows_seen(found),
    )


@bp.errorhandler(HTTPException)
def _error(error: HTTPException) -> tuple[Response, int]:
    messages = {403: "Not allowed.", 404: "Not found.", 400: "Bad request."}
    return jsonify(error=messages.get(error.code, error.name)), error.code or 500
