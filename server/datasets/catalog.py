"""Dataset records: where their files are, and who may see them.

Every query that lists datasets goes through :func:`visible_datasets`, and every question
"may this person do that to this dataset?" is answered by :func:`may` — the one place
record-level access is decided (the web layer's ``access.dataset_or_404`` asks it).
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path

from peewee import Expression, ModelSelect

from .. import file_removal
from ..file_keys import BadKey, key_path
from ..models import Dataset, DatasetShare, DatasetVersion, User
from ..permissions import has_permission
from ..prepared import Prepared
from .storage import Column

DATASETS_DIR = "datasets"
log = logging.getLogger(__name__)


def datasets_dir(data_dir: Path) -> Path:
    path = Path(data_dir) / DATASETS_DIR
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def dataset_file(data_dir: Path, storage_key: str) -> Path:
    """The dataset file of ``storage_key``; :class:`BadKey` for a key Sheaf did not make."""
    return key_path(datasets_dir(data_dir), storage_key, ".sqlite")


def remove_dataset_file(data_dir: Path, storage_key: str) -> None:
    """Delete a dataset file with the WAL and shared-memory files SQLite keeps beside it; a
    key Sheaf did not make names no file of Sheaf's, so nothing is deleted (logged). A file a
    reader still holds (an export, a backup, a page: Windows refuses) goes when it is free."""
    try:
        path = dataset_file(data_dir, storage_key)
    except BadKey as exc:
        log.warning("%s", exc)
        return
    for suffix in ("", "-wal", "-shm"):
        file_removal.remove(path.with_name(path.name + suffix))


def columns_of(dataset: Dataset) -> list[Column]:
    return list(_columns_from(dataset.columns))


@functools.lru_cache(maxsize=256)
def _columns_from(text: str) -> tuple[Column, ...]:
    """Columns are frozen: one tuple per distinct JSON text serves every request."""
    return tuple(Column.from_dict(c) for c in json.loads(text))


def columns_json(columns: list[Column]) -> str:
    return json.dumps([c.as_dict() for c in columns], ensure_ascii=False)


def _shares(user_id: int, role_id: int, editable: bool = False) -> ModelSelect:
    query = DatasetShare.select(DatasetShare.dataset).where(
        (DatasetShare.user == user_id) | (DatasetShare.role == role_id)
    )
    return query.where(DatasetShare.can_edit == True) if editable else query  # noqa: E712


def _readable_by(user_id: int, role_id: int) -> Expression:
    """Without ``datasets.view_all``: their own datasets and those shared with them."""
    return (Dataset.owner == user_id) | Dataset.id.in_(_shares(user_id, role_id))


def visible_datasets(user: User) -> ModelSelect:
    """The datasets ``user`` may read: their own, those shared with them or their role, or
    every one with ``datasets.view_all``. Every listing of datasets starts here."""
    query = Dataset.select(Dataset, User).join(User, on=(Dataset.owner == User.id))
    if not has_permission(user, "datasets.view_all"):
        query = query.where(_readable_by(user.id, user.role_id))
    return query


# The one-dataset lookups every dataset page makes, as visible_datasets(user) narrowed to an
# id: their SQL is built once (see server/prepared.py). The owner is loaded after.
_any_dataset = Prepared(
    Dataset, lambda dataset_id: Dataset.select().where(Dataset.id == dataset_id).limit(1), 1
)
_readable_dataset = Prepared(
    Dataset,
    lambda dataset_id, user_id, role_id: (
        Dataset.select().where((Dataset.id == dataset_id) & _readable_by(user_id, role_id)).limit(1)
    ),
    3,
)
_user_by_id = Prepared(User, lambda user_id: User.select().where(User.id == user_id).limit(1), 1)
# Whether each share of a dataset with a person (or their role) lets them edit: what
# access_to asks on every page of a dataset shared with them.
_shares_of_dataset = Prepared(
    DatasetShare,
    lambda dataset_id, user_id, role_id: DatasetShare.select(DatasetShare.can_edit).where(
        (DatasetShare.dataset == dataset_id)
        & ((DatasetShare.user == user_id) | (DatasetShare.role == role_id))
    ),
    3,
)


def access_to(user: User, dataset: Dataset) -> str | None:
    """What ``user`` may do with ``dataset``: "edit", "read", or None (it is invisible)."""
    if dataset.owner_id == user.id or has_permission(user, "datasets.edit_all"):
        return "edit"
    shares = [
        bool(edit) for (edit,) in _shares_of_dataset.tuples(dataset.id, user.id, user.role_id)
    ]
    if any(shares):
        return "edit"
    if shares or has_permission(user, "datasets.view_all"):
        return "read"
    return None


def can_edit(user: User, dataset: Dataset) -> bool:
    return access_to(user, dataset) == "edit"


def can_share(user: User, dataset: Dataset) -> bool:
    """The owner shares their dataset; ``datasets.share`` shares any dataset one can see."""
    if dataset.owner_id == user.id:
        return True
    return has_permission(user, "datasets.share") and access_to(user, dataset) is not None


def can_delete(user: User, dataset: Dataset) -> bool:
    return dataset.owner_id == user.id or has_permission(user, "datasets.edit_all")


ACTIONS = {
    "read": lambda user, dataset: access_to(user, dataset) is not None,
    "edit": can_edit,
    "share": can_share,
    "delete": can_delete,
}


def visible_dataset(user: User, dataset_id: int) -> Dataset | None:
    """The dataset if ``user`` may read it, else None (it is invisible to them); the same
    answer as ``visible_datasets(user)`` narrowed to ``dataset_id``, owner loaded."""
    if has_permission(user, "datasets.view_all"):
        dataset = _any_dataset.first(dataset_id)
    else:
        dataset = _readable_dataset.first(dataset_id, user.id, user.role_id)
    if dataset is None:
        return None
    owner = _user_by_id.first(dataset.owner_id)
    if owner is None:  # as visible_datasets' join with the owner: no owner, no dataset
        return None
    dataset.owner = owner
    return dataset


def may(user: User, dataset: Dataset, action: str) -> bool:
    """Whether ``user`` may ``action`` ("read", "edit", "share", "delete") ``dataset``."""
    return ACTIONS[action](user, dataset)


def editable_datasets(user: User) -> list[Dataset]:
    """The datasets ``user`` may change (to append to or replace), by name."""
    return [d for d in visible_datasets(user).order_by(Dataset.name) if can_edit(user, d)]


def kept_files(dataset: Dataset | None = None) -> set[str]:
    """Storage keys still needed: each dataset's own file and every file its history refers
    to (what undo, redo and go-back switch to). Without ``dataset``: all datasets'."""
    keys: set[str] = set()
    datasets = Dataset.select(Dataset.storage_key)
    versions = DatasetVersion.select(DatasetVersion.file_key, DatasetVersion.previous_file_key)
    if dataset is not None:
        datasets = datasets.where(Dataset.id == dataset.id)
        versions = versions.where(DatasetVersion.dataset == dataset.id)
    keys.update(d.storage_key for d in datasets)
    for version in versions:
        keys.add(version.file_key)
        if version.previous_file_key:
            keys.add(version.previous_file_key)
    return keys
