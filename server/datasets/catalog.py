"""Dataset records: where their files are, and who may see them.

Every query that lists datasets goes through :func:`visible_datasets`, and every route that
acts on one loads it through :func:`dataset_for` — the one place record-level access is decided.
"""

from __future__ import annotations

import json
from pathlib import Path

from peewee import ModelSelect

from ..models import Dataset, User
from ..permissions import has_permission
from .storage import Column

DATASETS_DIR = "datasets"


def datasets_dir(data_dir: Path) -> Path:
    path = Path(data_dir) / DATASETS_DIR
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def dataset_file(data_dir: Path, storage_key: str) -> Path:
    return datasets_dir(data_dir) / f"{storage_key}.sqlite"


def columns_of(dataset: Dataset) -> list[Column]:
    return [Column(c["name"], c["label"], c["type"]) for c in json.loads(dataset.columns)]


def columns_json(columns: list[Column]) -> str:
    return json.dumps(
        [{"name": c.name, "label": c.label, "type": c.type} for c in columns], ensure_ascii=False
    )


def visible_datasets(user: User) -> ModelSelect:
    """The datasets ``user`` may read: their own, or every one with ``datasets.view_all``."""
    query = Dataset.select(Dataset, User).join(User, on=(Dataset.owner == User.id))
    if not has_permission(user, "datasets.view_all"):
        query = query.where(Dataset.owner == user.id)
    return query


def can_edit(user: User, dataset: Dataset) -> bool:
    return dataset.owner_id == user.id or has_permission(user, "datasets.edit_all")


def editable_datasets(user: User) -> ModelSelect:
    query = Dataset.select()
    if not has_permission(user, "datasets.edit_all"):
        query = query.where(Dataset.owner == user.id)
    return query.order_by(Dataset.name)
