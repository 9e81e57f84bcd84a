"""Peewee models of the application tables (their schema is defined by ``server.migrations``)."""

from __future__ import annotations

import json
import secrets
import unicodedata
from datetime import UTC, datetime
from typing import Any

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from .db import database
from .permissions import PERMISSIONS
from .prepared import Prepared


def utcnow() -> datetime:
    return datetime.now(UTC)


def name_key(name: str) -> str:
    """The form of a name used for uniqueness: Unicode-normalised and case-folded."""
    return unicodedata.normalize("NFKC", name).casefold().strip()


class UTCDateTimeField(DateTimeField):
    """Timezone-aware UTC datetimes stored as ISO 8601 text, which sorts in time order."""

    field_type = "TEXT"

    def db_value(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def python_value(self, value: str | None) -> datetime | None:
        if value is None:
            return None
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Role(BaseModel):
    name = CharField()
    name_key = CharField(unique=True)
    description = TextField(default="")
    builtin = CharField(null=True, unique=True)  # "admin", "editor", "viewer" or None
    created_at = UTCDateTimeField(default=utcnow)

    @property
    def is_admin(self) -> bool:
        return self.builtin == "admin"

    def permission_names(self) -> frozenset[str]:
        if self.is_admin:
            return frozenset(PERMISSIONS)
        return frozenset(p for (p,) in _grants.tuples(self.id) if p in PERMISSIONS)


class RolePermission(BaseModel):
    role = ForeignKeyField(Role, backref="grants", on_delete="CASCADE")
    permission = CharField()

    class Meta:
        indexes = ((("role", "permission"), True),)


# A role's grants, asked at every request (permissions.permissions_of): SQL built once.
_grants = Prepared(
    RolePermission,
    lambda role: RolePermission.select(RolePermission.permission).where(
        RolePermission.role == role
    ),
    1,
)


class User(BaseModel):
    login = CharField()
    login_key = CharField(unique=True)
    display_name = CharField()
    password_hash = CharField()
    role = ForeignKeyField(Role, backref="users")
    active = BooleanField(default=True)
    must_change_password = BooleanField(default=False)
    failed_attempts = IntegerField(default=0)
    locked_until = UTCDateTimeField(null=True)
    last_sign_in = UTCDateTimeField(null=True)
    session_version = CharField(default=lambda: secrets.token_hex(16))
    created_at = UTCDateTimeField(default=utcnow)

    # --- Flask-Login ---------------------------------------------------------------------
    # The id Flask-Login keeps in the session carries the session version: rotating the
    # version makes every session that holds the old id sign out on its next request.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    # --- state ---------------------------------------------------------------------------
    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    @property
    def status(self) -> str:
        if not self.active:
            return "disabled"
        if self.is_locked():
            return "locked"
        return "active"


class AuditEvent(BaseModel):
    time = UTCDateTimeField(default=utcnow, index=True)
    actor = ForeignKeyField(User, null=True, backref="audit_events")
    actor_name = CharField(default="")
    action = CharField()
    object_type = CharField(default="")
    object_id = CharField(default="")
    details = TextField(default="{}")
    outcome = CharField(default="ok")
    source = CharField(default="")

    @property
    def details_dict(self) -> dict[str, Any]:
        try:
            value = json.loads(self.details)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


class Dataset(BaseModel):
    name = CharField()
    description = TextField(default="")
    owner = ForeignKeyField(User, backref="datasets")
    storage_key = CharField(unique=True)  # the rows live in datasets/<storage_key>.sqlite
    row_count = IntegerField(default=0)
    columns = TextField()  # JSON: [{"name": "c1", "label": "…", "type": "integer"}, …]
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    version = IntegerField(default=1)  # the number of its latest DatasetVersion

    @property
    def column_list(self) -> list[dict[str, str]]:
        return json.loads(self.columns)


class ImportJob(BaseModel):
    user = ForeignKeyField(User, backref="imports")
    file_name = CharField()
    file_size = IntegerField()
    sha256 = CharField(index=True)
    original_key = CharField()  # the uploaded file: originals/<original_key>
    options = TextField(default="{}")  # JSON: what the preview decided
    mode = CharField(default="new")  # new, append, replace
    target = ForeignKeyField(Dataset, null=True, on_delete="SET NULL", backref="+")
    dataset = ForeignKeyField(Dataset, null=True, on_delete="SET NULL", backref="imports")
    status = CharField(default="ready")  # ready, queued, running, done, failed, cancelled
    rows = IntegerField(default=0)
    problem_count = IntegerField(default=0)
    message = TextField(default="")
    warnings = TextField(default="[]")
    # JSON: per column, values that did not fit, were read as empty, or were Excel errors
    outcome = TextField(default="{}")
    created_at = UTCDateTimeField(default=utcnow)
    started_at = UTCDateTimeField(null=True)
    finished_at = UTCDateTimeField(null=True)

    FINISHED = ("done", "failed", "cancelled")

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def warning_list(self) -> list[str]:
        return json.loads(self.warnings)

    @property
    def option_dict(self) -> dict[str, Any]:
        return json.loads(self.options)

    @property
    def outcome_dict(self) -> dict[str, Any]:
        return json.loads(self.outcome)


class ImportProblem(BaseModel):
    import_job = ForeignKeyField(
        ImportJob, column_name="import_id", on_delete="CASCADE", backref="problems"
    )
    row = IntegerField()
    column_label = CharField(default="")
    value = TextField(default="")
    message = TextField()


class DatasetShare(BaseModel):
    dataset = ForeignKeyField(Dataset, backref="shares", on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, backref="shares")
    role = ForeignKeyField(Role, null=True, backref="shares", on_delete="CASCADE")
    can_edit = BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)


class DatasetVersion(BaseModel):
    """One change to a dataset and the state after it (server.datasets.versions)."""

    dataset = ForeignKeyField(Dataset, backref="versions", on_delete="CASCADE")
    number = IntegerField()  # 1, 2, 3… per dataset, never reused
    kind = CharField()  # import, start, step, append, replace, edit, add, delete, undo, redo…
    summary = TextField(default="")
    params = TextField(default="{}")  # a step's kind and parameters; a go-back's target
    user = ForeignKeyField(User, null=True, backref="+")
    created_at = UTCDateTimeField(default=utcnow)
    rows_touched = IntegerField(default=0)
    row_count = IntegerField()  # after
    columns = TextField()  # after, as Dataset.columns
    file_key = CharField()  # the dataset file holding this version's rows
    previous_file_key = CharField(null=True)  # the file current before it (whole-file versions)
    whole_file = BooleanField()  # True: file_key is a file of its own; False: rows changed in place
    reverts = ForeignKeyField("self", null=True, backref="+")  # for undo and redo

    @property
    def param_dict(self) -> dict[str, Any]:
        return json.loads(self.params)


class RowChange(BaseModel):
    """A row before and after a row-level version (None: the row did not exist)."""

    version = ForeignKeyField(DatasetVersion, backref="changes", on_delete="CASCADE")
    row_id = IntegerField()
    before = TextField(null=True)  # JSON list of the row's values, in column order
    after = TextField(null=True)


class Recipe(BaseModel):
    name = CharField()
    owner = ForeignKeyField(User, backref="recipes")
    # The dataset it was saved from (None: saved before this was kept, or the dataset deleted).
    dataset = ForeignKeyField(Dataset, null=True, on_delete="SET NULL", backref="+")
    columns = TextField()  # JSON: the columns the recipe starts from, as a dataset's
    steps = TextField()  # JSON: [{"kind": "trim", "params": {...}}, …]
    created_at = UTCDateTimeField(default=utcnow)

    @property
    def step_list(self) -> list[dict[str, Any]]:
        return json.loads(self.steps)


class ColumnLayout(BaseModel):
    """How one person arranges one dataset's table: see ``server.datasets.layouts``."""

    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    dataset = ForeignKeyField(Dataset, backref="+", on_delete="CASCADE")
    layout = TextField()  # JSON: {"order": [...], "hidden": [...], "widths": {"c1": 120}}
    updated_at = UTCDateTimeField(default=utcnow)


class SavedView(BaseModel):
    """A named view of a dataset, personal or shared: see ``server.datasets.saved_views``."""

    dataset = ForeignKeyField(Dataset, backref="+", on_delete="CASCADE")
    owner = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    name = CharField()
    name_key = CharField()  # unique per dataset and owner (models.name_key)
    shared = BooleanField(default=False)
    spec = TextField()  # JSON: search, sort, filters, columns, and the columns as they were
    dataset_version = IntegerField()  # the dataset's version when it was saved
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)


class RowRule(BaseModel):
    """Who sees only some of a dataset's rows: see ``server.datasets.row_rules``."""

    dataset = ForeignKeyField(Dataset, backref="+", on_delete="CASCADE")
    role = ForeignKeyField(Role, null=True, backref="+", on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, backref="+", on_delete="CASCADE")
    column = CharField()  # c1, c2, … of the dataset
    label = CharField(null=True)  # the column's label when the rule was made (see m0013)
    kind = CharField()  # value, one_of, user_name, display_name
    values = TextField(default="[]")  # JSON list of texts (value, one_of)
    created_at = UTCDateTimeField(default=utcnow)
