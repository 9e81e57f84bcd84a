"""Dataset pages: the list and a table view."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from ..models import Dataset
from .catalog import columns_of, dataset_file, visible_datasets
from .storage import read_rows

bp = Blueprint("datasets", __name__)


def dataset_or_404(dataset_id: int) -> Dataset:
    """The dataset if the signed-in person may read it; 404 otherwise (never a hint it exists)."""
    dataset = visible_datasets(current_user).where(Dataset.id == dataset_id).first()
    if dataset is None:
        abort(404)
    return dataset


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
    columns = columns_of(dataset)
    after = request.args.get("after", "0")
    after = int(after) if after.isdigit() and len(after) < 19 else 0
    size = current_app.config["PAGE_SIZE"]
    path = dataset_file(current_app.config["DATA_DIR"], dataset.storage_key)
    rows = read_rows(path, columns, size + 1, after)
    return render_template(
        "datasets/view.html",
        dataset=dataset,
        columns=columns,
        rows=rows[:size],
        next_after=rows[size - 1][0] if len(rows) > size else None,
        first=after == 0,
    )
