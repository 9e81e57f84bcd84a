"""The audit log in words: each recorded action as a sentence built from its event's details
("Tom exported Appointments: CSV, 1,200 rows, filtered by doctor = Dr. Chen"), instead of
``dataset.exported`` and ``{"c8.eq": …}``.

Every action passed to ``record(...)`` in ``server/`` has an entry in :data:`SENTENCES`
(tests/test_audit_sentences.py reads the source to check, so a new action without one fails
the tests). An action this version does not know (written by a later one) still reads as
words. Column ids (``c8``) become the column's name while the dataset exists; the names of
people, roles and datasets come from the event itself, so a sentence stays true after they
change or are gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..models import AuditEvent, Dataset, User
from ..permissions import permission_label
from ..settings_table import SETTINGS

EXPORT_FORMATS = {"csv": "CSV", "csv-bom": "CSV for Excel", "xlsx": "Excel", "json": "JSON"}
OPERATOR_WORDS = {
    "eq": "=",
    "contains": "contains",
    "min": "≥",
    "max": "≤",
    "in": "is one of",
    "empty": "is empty",
    "notempty": "is not empty",
    "misfit": "does not fit its type",
}
_SETTING_LABELS = {s.key: s.label for s in SETTINGS}
OWNER = "The computer's owner"  # the command line, which acts with nobody signed in


@dataclass
class Names:
    """Datasets and people looked up once per page of the log, however many events name them."""

    datasets: dict[str, Dataset | None] = field(default_factory=dict)
    people: dict[str, User | None] = field(default_factory=dict)
    gone: dict[str, str | None] = field(default_factory=dict)

    def dataset(self, dataset_id: str) -> Dataset | None:
        if dataset_id not in self.datasets:
            found = Dataset.get_or_none(Dataset.id == dataset_id) if dataset_id.isdigit() else None
            self.datasets[dataset_id] = found
        return self.datasets[dataset_id]

    def former_name(self, dataset_id: str) -> str | None:
        """A deleted dataset's name, as its deletion (or else its import) recorded it."""
        if dataset_id not in self.gone:
            name = None
            for action, key in (("dataset.deleted", "name"), ("dataset.import_new", "dataset")):
                found = (
                    AuditEvent.select(AuditEvent.details)
                    .where(
                        (AuditEvent.action == action)
                        & (AuditEvent.object_type == "dataset")
                        & (AuditEvent.object_id == dataset_id)
                    )
                    .order_by(AuditEvent.id.desc())
                    .first()
                )
                value = found.details_dict.get(key) if found else None
                if isinstance(value, str) and value:
                    name = value
                    break
            self.gone[dataset_id] = name
        return self.gone[dataset_id]

    def person(self, user_id: str) -> User | None:
        if user_id not in self.people:
            found = User.get_or_none(User.id == user_id) if user_id.isdigit() else None
            self.people[user_id] = found
        return self.people[user_id]


class Said:
    """One event, with what its sentence needs: who, which object, its details."""

    def __init__(self, event: AuditEvent, names: Names) -> None:
        self.event = event
        self.names = names
        self.details: dict[str, Any] = event.details_dict

    def get(self, key: str, default: Any = "") -> Any:
        return self.details.get(key, default)

    @property
    def who(self) -> str:
        if self.event.actor_id:
            actor = self.names.person(str(self.event.actor_id))
            if actor is not None:
                return actor.display_name
        return self.event.actor_name or "Sheaf"

    @property
    def someone(self) -> str:
        """The actor, for an event that may come before anyone signed in."""
        return self.who if (self.event.actor_id or self.event.actor_name) else "Someone"

    @property
    def dataset(self) -> str:
        found = self.names.dataset(self.event.object_id)
        if found is not None:
            return found.name
        name = self.get("dataset") or self.names.former_name(self.event.object_id)
        return str(name) if isinstance(name, str) and name else f"dataset {self.event.object_id}"

    @property
    def person(self) -> str:
        found = self.names.person(self.event.object_id)
        if found is not None:
            return found.display_name
        return str(self.get("display_name") or self.get("login") or "someone")

    def column(self, name: str) -> str:
        """A column id (``c8``) as the column's name, while the dataset still has it."""
        found = self.names.dataset(self.event.object_id)
        if found is not None:
            for column in found.column_list:
                if column.get("name") == name:
                    return str(column.get("label", name))
        return f"column {name}"


def number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def plural(count: Any, word: str) -> str:
    return f"{number(count)} {word}{'' if count == 1 else 's'}"


def view_in_words(said: Said, args: dict[str, Any]) -> str:
    """A table view's query arguments as words: "filtered by doctor = Dr. Chen"."""
    parts, filters = [], []
    for key, value in sorted(args.items()):
        column, _, op = str(key).partition(".")
        if op in OPERATOR_WORDS:
            shown = "" if op in ("empty", "notempty", "misfit") else f" {value}".replace("|", ", ")
            filters.append(f"{said.column(column)} {OPERATOR_WORDS[op]}{shown}")
    if filters:
        parts.append("filtered by " + " and ".join(filters))
    if args.get("q"):
        parts.append(f"searched for “{args['q']}”")
    if args.get("sort"):
        descending = " (descending)" if args.get("dir") == "desc" else ""
        parts.append(f"sorted by {said.column(str(args['sort']))}{descending}")
    return ", ".join(parts)


def changes_in_words(changes: dict[str, Any], labels: dict[str, str] | None = None) -> str:
    """{"role": ["Viewer", "Editor"]} as "role from Viewer to Editor"."""
    labels = labels or {}
    parts = []
    for key, value in changes.items():
        what = labels.get(key, key.replace("_", " "))
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{what} from {value[0]} to {value[1]}")
        else:
            parts.append(f"{what} {value}" if value != "changed" else what)
    return "; ".join(parts)


def _reason(said: Said) -> str:
    reason = said.get("reason") or said.get("error") or said.get("message")
    return f": {reason}" if reason else ""


def _backup_made(s: Said) -> str:
    if s.event.outcome != "ok":
        return f"{s.who} tried to make a backup, which failed{_reason(s)}"
    how = " automatically" if s.get("automatic") else ""
    pruned = f"; {plural(s.get('pruned'), 'older backup')} removed" if s.get("pruned") else ""
    return (
        f"{s.who if not s.get('automatic') else 'Sheaf'} made a backup{how}: "
        f"{s.event.object_id}, {plural(s.get('datasets', 0), 'dataset')}{pruned}"
    )


def _verified(s: Said) -> str:
    if s.event.outcome != "ok":
        return f"{s.who} checked the backup {s.event.object_id} and found it damaged{_reason(s)}"
    return f"{s.who} checked the backup {s.event.object_id}: sound"


def _data_checked(s: Said) -> str:
    damaged = s.get("damaged") or []
    if damaged:
        return (
            f"{s.who} checked the data files: {plural(len(damaged), 'file')} damaged "
            f"({', '.join(map(str, damaged))})"
        )
    return f"{s.who} checked the data files: all {number(s.get('files', 0))} sound"


def _settings(s: Said) -> str:
    return f"{s.who} changed the settings: {changes_in_words(s.details, _SETTING_LABELS)}"


def _user_created(s: Said) -> str:
    return (
        f"{s.who} added {s.get('display_name') or s.person} ({s.get('login')}) with the role "
        f"{s.get('role')}"
    )


def _user_updated(s: Said) -> str:
    labels = {"display_name": "name", "role": "role"}
    if s.event.actor_id and str(s.event.actor_id) == s.event.object_id:
        return f"{s.who} changed their own {changes_in_words(s.details, labels)}"
    return f"{s.who} changed {s.person}: {changes_in_words(s.details, labels)}"


def _refused(kind: str) -> Callable[[Said], str]:
    def sentence(s: Said) -> str:
        missing = ", ".join(permission_label(p) for p in s.get("missing", []))
        target = s.person if kind == "user" else f"a role ({s.event.object_id or 'new'})"
        return (
            f"{s.who} was refused: to {s.get('action')} ({target}) needs permissions they do "
            f"not hold: {missing}"
        )

    return sentence


def _role_created(s: Said) -> str:
    granted = ", ".join(permission_label(p) for p in s.get("permissions", [])) or "none"
    return f"{s.who} created the role {s.get('name')} with the permissions: {granted}"


def _role_updated(s: Said) -> str:
    details = dict(s.details)
    parts = []
    for key, verb in (("added", "gave it"), ("removed", "took from it")):
        names = details.pop(key, None)
        if names:
            parts.append(f"{verb} {', '.join(permission_label(p) for p in names)}")
    if details:
        parts.insert(0, changes_in_words(details))
    return f"{s.who} changed the role {s.event.object_id}: {'; '.join(parts)}"


def local_time(text: Any) -> str:
    """A recorded UTC time as the page shows times: this computer's, to the minute."""
    try:
        return datetime.fromisoformat(str(text)).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(text)


def _locked_out(s: Said) -> str:
    return (
        f"{s.who} was locked out after {plural(s.get('after_failures'), 'wrong password')}, "
        f"until {local_time(s.get('until'))}"
    )


def _sign_in_failed(s: Said) -> str:
    if s.get("login"):
        return f"Someone tried to sign in as “{s.get('login')}”{_reason(s)}"
    return f"{s.who} could not sign in{_reason(s)}"


def _throttled(s: Said) -> str:
    return (
        f"Sign-ins from {s.event.source or 'one computer'} were slowed down: more than "
        f"{s.get('per_minute')} a minute (wait {s.get('wait_seconds')} s)"
    )


def _imported(s: Said) -> str:
    problems = s.get("problems")
    extra = f", {plural(problems, 'problem')} noted" if problems else ""
    return (
        f"{s.who} imported {s.get('file')} as {s.dataset}: {plural(s.get('rows', 0), 'row')}{extra}"
    )


def _import_into(verb: str) -> Callable[[Said], str]:
    def sentence(s: Said) -> str:
        return (
            f"{s.who} {verb} {s.dataset} from {s.get('file')}: "
            f"{plural(s.get('rows', 0), 'row')}, {number(s.get('rows_after', 0))} rows now"
        )

    return sentence


def _import_ended(verb: str) -> Callable[[Said], str]:
    def sentence(s: Said) -> str:
        return f"{s.who}'s import of {s.get('file')} {verb}{_reason(s)}"

    return sentence


def _exported(s: Said) -> str:
    fmt = str(s.get("format"))
    parts = [EXPORT_FORMATS.get(fmt, fmt.upper())]
    if "rows" in s.details:
        parts.append(plural(s.get("rows"), "row"))
    view = s.get("view")
    if isinstance(view, dict) and view:
        parts.append(view_in_words(s, view))
    return f"{s.who} exported {s.dataset}: {', '.join(p for p in parts if p)}"


def _summary_exported(s: Said) -> str:
    summary = s.get("summary")
    summary = summary if isinstance(summary, dict) else {}
    groups = [s.column(str(summary[k])) for k in ("by", "then") if summary.get(k)]
    parts = ["CSV", plural(s.get("rows", 0), "group")]
    if groups:
        parts.append("grouped by " + " and ".join(groups))
    view = s.get("view")
    if isinstance(view, dict) and view:
        parts.append(view_in_words(s, view))
    return f"{s.who} exported a summary of {s.dataset}: {', '.join(p for p in parts if p)}"


def _changed(verb: str, said: str = "") -> Callable[[Said], str]:
    """A change that made a version; ``said`` is the start its summary repeats ("Undid: ")."""

    def sentence(s: Said) -> str:
        what = str(s.get("what")).removeprefix(said)
        rows = s.get("rows_touched")
        touched = f", {plural(rows, 'row')} changed" if rows else ""
        return f"{s.who} {verb} {s.dataset}: {what}{touched} (version {s.get('version')})"

    return sentence


def _described(s: Said) -> str:
    labels = {"name": "name", "description": "description"}
    return f"{s.who} changed the {changes_in_words(s.details, labels)} of {s.dataset}"


def _shared(s: Said) -> str:
    rights = "read and change" if s.get("rights") == "edit" else "read"
    return f"{s.who} shared {s.dataset} with {s.get('with')} ({rights})"


def _view(verb: str) -> Callable[[Said], str]:
    def sentence(s: Said) -> str:
        name = s.get("name")
        if isinstance(name, list) and len(name) == 2:
            return f"{s.who} renamed the view {name[0]} of {s.dataset} to {name[1]}"
        kind = "shared view" if s.get("shared") else "view"
        return f"{s.who} {verb} the {kind} {name} of {s.dataset}"

    return sentence


#: Every action recorded anywhere in server/, as a sentence built from its event.
SENTENCES: dict[str, Callable[[Said], str]] = {
    # sign-in and accounts
    "setup.completed": lambda s: f"{s.who} set up Sheaf and is its first administrator",
    "auth.sign_in": lambda s: f"{s.who} signed in",
    "auth.sign_out": lambda s: f"{s.who} signed out",
    "auth.sign_in_failed": _sign_in_failed,
    "auth.sign_in_throttled": _throttled,
    "auth.locked_out": _locked_out,
    "auth.session_unlocked": lambda s: f"{s.who} unlocked their session",
    "auth.password_changed": lambda s: f"{s.who} changed their password",
    "auth.password_change_failed": lambda s: f"{s.who} could not change their password{_reason(s)}",
    "user.created": _user_created,
    "user.updated": _user_updated,
    "user.enabled": lambda s: f"{s.who} enabled {s.person}'s account",
    "user.disabled": lambda s: f"{s.who} disabled {s.person}'s account",
    "user.unlocked": lambda s: f"{s.who} unlocked {s.person}'s account",
    "user.password_reset": lambda s: (
        f"{s.who if s.event.actor_id else OWNER} gave {s.person} a new temporary password"
    ),
    "user.change_refused": _refused("user"),
    "role.change_refused": _refused("role"),
    "role.created": _role_created,
    "role.updated": _role_updated,
    "role.deleted": lambda s: f"{s.who} deleted the role {s.get('name')}",
    # settings and backups
    "settings.changed": _settings,
    "backup.made": _backup_made,
    "backup.saved": lambda s: f"{s.who} saved the backup {s.event.object_id} to a file",
    "backup.verified": _verified,
    "backup.uploaded": lambda s: f"{s.who} added the backup {s.event.object_id} from a file",
    "backup.restore_refused": lambda s: (
        f"{s.who} was refused restoring the backup {s.event.object_id}{_reason(s)}"
    ),
    "backup.restore_scheduled": lambda s: (
        f"{s.who} chose to restore the backup {s.event.object_id} "
        f"({plural(s.get('datasets', 0), 'dataset')}) at the next start"
    ),
    "backup.restore_cancelled": lambda s: f"{s.who} cancelled the restore",
    "backup.restored": lambda s: (
        f"Sheaf restored a backup at start; the data before it is kept in {s.get('previous_data')}"
    ),
    "data.checked": _data_checked,
    # datasets
    "dataset.import_new": _imported,
    "dataset.import_append": _import_into("added rows to"),
    "dataset.import_replace": _import_into("replaced the rows of"),
    "dataset.import_failed": _import_ended("failed"),
    "dataset.import_cancelled": _import_ended("was cancelled"),
    "dataset.exported": _exported,
    "dataset.summary_exported": _summary_exported,
    "dataset.row_rule_added": lambda s: f"{s.who} added a row rule to {s.dataset}: {s.get('rule')}",
    "dataset.row_rule_removed": lambda s: (
        f"{s.who} removed a row rule from {s.dataset}: {s.get('rule')}"
    ),
    "dataset.shared": _shared,
    "dataset.share_refused": lambda s: (
        f"{s.who} was refused sharing {s.dataset} with {s.get('with')}{_reason(s)}"
    ),
    "dataset.unshared": lambda s: f"{s.who} stopped sharing {s.dataset} with {s.get('with')}",
    "dataset.described": _described,
    "dataset.deleted": lambda s: (
        f"{s.who} deleted the dataset {s.get('name')} ({plural(s.get('rows', 0), 'row')})"
    ),
    "dataset.step": _changed("cleaned"),
    "dataset.recipe_run": _changed("ran a recipe on"),
    "dataset.row_edited": _changed("edited a row of"),
    "dataset.row_added": _changed("added a row to"),
    "dataset.rows_deleted": _changed("deleted rows of"),
    "dataset.undo": _changed("undid a change to", "Undid: "),
    "dataset.redo": _changed("redid a change to", "Redid: "),
    "dataset.go_back": _changed("went back in the history of", "Went back "),
    "recipe.saved": lambda s: (
        f"{s.who} saved the recipe {s.get('name')} ({plural(s.get('steps', 0), 'step')}) from "
        f"{s.get('dataset')}"
    ),
    "recipe.renamed": lambda s: (
        f"{s.who} renamed the recipe {s.get('name')[0]} to {s.get('name')[1]}"
        if isinstance(s.get("name"), list)
        else f"{s.who} renamed a recipe"
    ),
    "recipe.deleted": lambda s: f"{s.who} deleted the recipe {s.get('name')}",
    "view.saved": _view("saved"),
    "view.renamed": _view("renamed"),
    "view.deleted": _view("deleted"),
    "view.shared": lambda s: (
        f"{s.who} shared the view {s.get('name')} of {s.dataset} with everyone who may read it"
    ),
    "view.unshared": lambda s: (
        f"{s.who} made the view {s.get('name')} of {s.dataset} its author's alone"
    ),
}


def _readable(said: Said) -> str:
    """An action this version has no sentence for: its name and details, as words."""
    event = said.event
    words = event.action.replace(".", " ").replace("_", " ")
    if event.object_type:
        words += f", {event.object_type} {event.object_id}".rstrip()
    details = "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in said.details.items())
    return f"{said.someone}: {words}" + (f" ({details})" if details else "")


def sentence(event: AuditEvent, names: Names | None = None) -> str:
    """The event as a sentence (no full stop). Never fails: a detail missing or of another
    shape than expected (an event written by an older version) gives the readable form."""
    said = Said(event, names or Names())
    build = SENTENCES.get(event.action)
    if build is not None:
        try:
            return build(said)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            pass
    return _readable(said)


_AREAS = {
    "auth": "Signing in",
    "setup": "Setup",
    "user": "People",
    "role": "Roles",
    "settings": "Settings",
    "backup": "Backups",
    "data": "Data files",
    "dataset": "Datasets",
    "recipe": "Recipes",
    "view": "Saved views",
}


def action_label(action: str) -> str:
    """An action for the log's filter, in words: "dataset.exported" as "Datasets: exported"."""
    area, _, what = action.partition(".")
    if not what:
        return action.replace("_", " ")
    return f"{_AREAS.get(area, area.capitalize())}: {what.replace('_', ' ')}"
