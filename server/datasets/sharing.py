"""Sharing datasets with roles and people, and the dataset changes around it (rename, delete)."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

from ..audit_trail import record
from ..db import database
from ..models import Dataset, DatasetShare, Role, User, utcnow
from .catalog import access_to, kept_files, remove_dataset_file

MAX_NAME = 200
MAX_DESCRIPTION = 2000


class DatasetError(ValueError):
    """A dataset change that cannot be made; the message says why, for a person."""


class SharingRefused(DatasetError):
    """Sharing that would give more than its author holds (audited as denied)."""


def share(
    dataset: Dataset,
    *,
    by: User,
    user: User | None = None,
    role: Role | None = None,
    can_edit: bool = False,
) -> DatasetShare:
    """Give a person or a role access; sharing again with the same one changes its rights.

    ``by`` gives only the access they hold: rights to change need their own rights to change
    (else a reader who may share would share with their own role for editing), and nobody
    shares with themselves."""
    if (user is None) == (role is None):
        raise DatasetError("Choose one person or one role to share with.")
    if user is not None and user.id == dataset.owner_id:
        raise DatasetError(f"{user.display_name} owns this dataset already.")
    whom = f"person {user.login}" if user else f"role {role.name}"
    if user is not None and user.id == by.id:
        _refuse(
            by,
            dataset,
            whom,
            can_edit,
            "You have access to this dataset already; share it with others.",
        )
    if can_edit and access_to(by, dataset) != "edit":
        _refuse(
            by,
            dataset,
            whom,
            can_edit,
            "Sharing it for changing needs your own right to change this dataset; "
            "you can share it read only.",
        )
    with database.atomic():
        existing = DatasetShare.get_or_none(
            (DatasetShare.dataset == dataset)
            & ((DatasetShare.user == user.id) if user else (DatasetShare.role == role.id))
        )
        if existing is None:
            existing = DatasetShare.create(dataset=dataset, user=user, role=role, can_edit=can_edit)
        else:
            existing.can_edit = can_edit
            existing.save()
        record(
            "dataset.shared",
            object_type="dataset",
            object_id=dataset.id,
            details={"with": whom, "rights": "edit" if can_edit else "read"},
        )
    return existing


def _refuse(by: User, dataset: Dataset, whom: str, can_edit: bool, message: str) -> NoReturn:
    record(
        "dataset.share_refused",
        object_type="dataset",
        object_id=dataset.id,
        actor=by,
        outcome="denied",
        details={"with": whom, "rights": "edit" if can_edit else "read", "reason": message},
    )
    raise SharingRefused(message)


def revoke(share_: DatasetShare) -> None:
    with database.atomic():
        whom = f"person {share_.user.login}" if share_.user_id else f"role {share_.role.name}"
        record(
            "dataset.unshared",
            object_type="dataset",
            object_id=share_.dataset_id,
            details={"with": whom},
        )
        share_.delete_instance()


def shares_of(dataset: Dataset) -> list[DatasetShare]:
    return list(dataset.shares.order_by(DatasetShare.role.is_null(False), DatasetShare.id))


def describe(dataset: Dataset, name: str, description: str) -> Dataset:
    name = " ".join((name or "").split())
    description = (description or "").strip()
    if not name:
        raise DatasetError("Give the dataset a name.")
    if len(name) > MAX_NAME or len(description) > MAX_DESCRIPTION:
        raise DatasetError(
            f"Use at most {MAX_NAME} characters for the name and "
            f"{MAX_DESCRIPTION} for the description."
        )
    changes = {}
    if name != dataset.name:
        changes["name"] = [dataset.name, name]
    if description != dataset.description:
        changes["description"] = "changed"
    if changes:
        with database.atomic():
            dataset.name, dataset.description, dataset.updated_at = name, description, utcnow()
            dataset.save()
            record(
                "dataset.described", object_type="dataset", object_id=dataset.id, details=changes
            )
    return dataset


def delete(dataset: Dataset, data_dir: Path) -> None:
    """Remove a dataset, its rows and its undo history. Its imports stay, pointing at nothing."""

    keys = kept_files(dataset)
    with database.atomic():
        record(
            "dataset.deleted",
            object_type="dataset",
            object_id=dataset.id,
            details={"name": dataset.name, "rows": dataset.row_count},
        )
        dataset.delete_instance()
    for key in keys:
        remove_dataset_file(data_dir, key)
