"""The audit log in words: every action recorded anywhere in server/ has a sentence (read from
the source, so a new action without one fails here), and the sentences say what happened with
the names of the things involved."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from server.admin.audit_sentences import SENTENCES, Names, action_label, sentence
from server.models import AuditEvent
from tests.helpers import make_dataset

SERVER = Path(__file__).resolve().parent.parent / "server"

# Actions written as f-strings, and every action each can be (a new one must be added here
# and given a sentence).
F_STRINGS = {
    "f'{kind}.change_refused'": {"user.change_refused", "role.change_refused"},
    "f'dataset.import_{status}'": {"dataset.import_failed", "dataset.import_cancelled"},
    "f'dataset.import_{plan.mode}'": {"dataset.import_append", "dataset.import_replace"},
    "f'dataset.{kind}'": {"dataset.undo", "dataset.redo"},
}
# Variables passed as the action: the function's parameter, whose callers pass the actions
# (found through the same calls: `_audit(...)` and `audit=...`).
PASSED_ON = {("datasets/versions.py", "action"), ("datasets/versions.py", "audit")}


def _actions_in(node: ast.expr, where: str) -> set[str]:
    if isinstance(node, ast.JoinedStr):
        text = ast.unparse(node)
        assert text in F_STRINGS, f"{where}: a new f-string action {text}: list it above"
        return F_STRINGS[text]
    if isinstance(node, ast.Name):
        assert (where.split(":")[0], node.id) in PASSED_ON, f"{where}: action from {node.id}"
        return set()
    found = {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)}
    assert found and all(isinstance(v, str) for v in found), f"{where}: {ast.unparse(node)}"
    return found


def recorded_actions() -> set[str]:
    """Every action the server can record: record(...)'s first argument, and the audit= and
    _audit(...) actions that functions pass on to it."""
    actions: set[str] = set()
    for path in SERVER.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            where = f"{path.relative_to(SERVER).as_posix()}:{node.lineno}"
            if name in ("record", "_audit") and node.args:
                actions |= _actions_in(node.args[0], where)
            for keyword in node.keywords:
                if keyword.arg == "audit":
                    actions |= _actions_in(keyword.value, where)
    return actions


def test_every_recorded_action_has_a_sentence():
    actions = recorded_actions()
    assert {"auth.sign_in", "dataset.exported", "view.saved", "dataset.step"} <= actions
    missing = sorted(actions - SENTENCES.keys())
    assert missing == [], (
        f"give these actions a sentence in server/admin/audit_sentences.py: {missing}"
    )


def test_no_sentence_for_an_action_never_recorded():
    assert sorted(SENTENCES.keys() - recorded_actions()) == []


def event(action: str, details: dict | None = None, **fields) -> AuditEvent:
    return AuditEvent.create(
        action=action, details=json.dumps(details or {}, ensure_ascii=False), **fields
    )


@pytest.fixture
def appointments(app, people):
    csv = "doctor,status,visits\nDr. Chen,open,3\nDr. Adams,done,4\n"
    with app.app_context():
        return make_dataset(app, people["editor"], csv, name="Appointments")


def test_an_export_reads_as_a_sentence_with_the_columns_names(app, people, appointments):
    exported = event(
        "dataset.exported",
        {"format": "csv", "rows": 1200, "view": {"c1.eq": "Dr. Chen", "sort": "c3", "dir": "desc"}},
        actor=people["editor"],
        actor_name="eddie",
        object_type="dataset",
        object_id=str(appointments.id),
    )
    assert sentence(exported) == (
        "Eddie Editor exported Appointments: CSV, 1,200 rows, filtered by doctor = Dr. Chen, "
        "sorted by visits (descending)"
    )


def test_a_summary_export_names_its_groupings(app, people, appointments):
    exported = event(
        "dataset.summary_exported",
        {
            "format": "csv",
            "rows": 2,
            "summary": {"by": "c1", "fn1": "sum", "of1": "c3"},
            "view": {"c2.eq": "open"},
        },
        actor=people["editor"],
        object_type="dataset",
        object_id=str(appointments.id),
    )
    assert sentence(exported) == (
        "Eddie Editor exported a summary of Appointments: CSV, 2 groups, grouped by doctor, "
        "filtered by status = open"
    )


def test_a_deleted_datasets_columns_stay_ids(app, people):
    exported = event(
        "dataset.exported",
        {"format": "xlsx", "rows": 1, "view": {"c8.min": "3", "q": "x"}},
        actor=people["editor"],
        object_id="999",
    )
    assert sentence(exported) == (
        "Eddie Editor exported dataset 999: Excel, 1 row, filtered by column c8 ≥ 3, "
        "searched for “x”"
    )


@pytest.mark.parametrize(
    ("action", "details", "fields", "expected"),
    [
        ("auth.sign_in", {}, {"actor": "viewer"}, "Vera Viewer signed in"),
        (
            "auth.sign_in_failed",
            {"login": "nobody", "reason": "unknown name"},
            {},
            "Someone tried to sign in as “nobody”: unknown name",
        ),
        (
            "role.created",
            {"name": "Lab", "permissions": ["datasets.import", "datasets.view_all"]},
            {"actor": "admin"},
            "Ada Admin created the role Lab with the permissions: Import files, Read every dataset",
        ),
        (
            "user.change_refused",
            {"action": "disable", "missing": ["users.manage"]},
            {"actor": "editor", "object_id": "admin"},
            "Eddie Editor was refused: to disable (Ada Admin) needs permissions they do not "
            "hold: Manage people",
        ),
        (
            "settings.changed",
            {"idle_lock_minutes": [15, 30]},
            {"actor": "admin"},
            "Ada Admin changed the settings: Idle lock (minutes) from 15 to 30",
        ),
        (
            "user.updated",
            {"role": ["Viewer", "Editor"]},
            {"actor": "admin", "object_id": "viewer"},
            "Ada Admin changed Vera Viewer: role from Viewer to Editor",
        ),
        (
            "backup.made",
            {"automatic": True, "datasets": 2, "pruned": 1},
            {"object_id": "sheaf-backup-1.zip"},
            "Sheaf made a backup automatically: sheaf-backup-1.zip, 2 datasets; 1 older backup "
            "removed",
        ),
        (
            "view.renamed",
            {"view": 3, "name": ["Chen", "Chen, newest"]},
            {"actor": "editor", "object_id": "dataset"},
            "Eddie Editor renamed the view Chen of Appointments to Chen, newest",
        ),
        (
            "view.unshared",
            {"view": 3, "name": "Chen"},
            {"actor": "admin", "object_id": "dataset"},
            "Ada Admin made the view Chen of Appointments its author's alone",
        ),
        (
            "dataset.step",
            {"version": 4, "what": "Trim spaces: doctor", "rows_touched": 2, "rows_after": 2},
            {"actor": "editor", "object_id": "dataset"},
            "Eddie Editor cleaned Appointments: Trim spaces: doctor, 2 rows changed (version 4)",
        ),
    ],
)
def test_sentences(app, people, appointments, action, details, fields, expected):
    fields = dict(fields)
    if "actor" in fields:
        fields["actor"] = people[fields["actor"]]
    if fields.get("object_id") in people:
        fields["object_id"] = str(people[fields["object_id"]].id)
    if fields.get("object_id") == "dataset":
        fields["object_id"] = str(appointments.id)
    assert sentence(event(action, details, **fields)) == expected


def test_an_unknown_action_and_odd_details_still_read_as_words(app, people):
    later = event(
        "chart.pinned",
        {"chart_kind": "bar"},
        actor=people["admin"],
        object_type="dataset",
        object_id="7",
    )
    assert sentence(later) == "Ada Admin: chart pinned, dataset 7 (chart kind bar)"
    odd = event("recipe.renamed", {"name": 5}, actor=people["admin"])
    assert sentence(odd) == "Ada Admin renamed a recipe"
    broken = event("dataset.shared", {"with": ["x"]})
    assert sentence(broken).startswith("Sheaf shared dataset")
    assert action_label("dataset.exported") == "Datasets: exported"
    assert action_label("auth.sign_in") == "Signing in: sign in"


def test_names_are_looked_up_once_per_page(app, people, appointments):
    names = Names()
    for _ in range(3):
        sentence(event("auth.sign_in", actor=people["viewer"]), names)
    assert list(names.people) == [str(people["viewer"].id)]


def test_the_audit_page_shows_sentences(admin_client, people, appointments):
    admin_client.get(f"/datasets/{appointments.id}/export?format=csv&c1.eq=Dr.+Chen")
    page = admin_client.get("/audit").get_data(as_text=True)
    assert "Ada Admin exported Appointments: CSV, 1 row, filtered by doctor = Dr. Chen" in page
    assert "Ada Admin signed in" in page
    assert "c1.eq" not in page and "<code>" not in page


def test_a_deleted_dataset_keeps_its_name_in_the_log(app, people, appointments, editor_client):
    exported = event(
        "dataset.exported",
        {"format": "json", "rows": 2, "view": {}},
        actor=people["editor"],
        object_type="dataset",
        object_id=str(appointments.id),
    )
    saved = event(
        "view.saved",
        {"view": 1, "name": "Chen", "shared": True},
        actor=people["editor"],
        object_type="dataset",
        object_id=str(appointments.id),
    )
    assert editor_client.post_form(f"/datasets/{appointments.id}/delete").status_code == 302
    assert sentence(exported) == "Eddie Editor exported Appointments: JSON, 2 rows"
    assert sentence(saved) == "Eddie Editor saved the shared view Chen of Appointments"
    undo = event(
        "dataset.undo",
        {"version": 3, "what": "Undid: Trim spaces: doctor", "rows_touched": 0, "rows_after": 2},
        actor=people["editor"],
        object_type="dataset",
        object_id="12345",
    )
    assert (
        sentence(undo)
        == "Eddie Editor undid a change to dataset 12345: Trim spaces: doctor (version 3)"
    )


def test_a_lock_out_says_until_when_in_this_computers_time(app, people):
    from datetime import UTC, datetime

    until = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    locked = event(
        "auth.locked_out",
        {"until": until.isoformat(timespec="seconds"), "after_failures": 5},
        actor=people["viewer"],
    )
    local = until.astimezone().strftime("%Y-%m-%d %H:%M")
    assert sentence(locked) == f"Vera Viewer was locked out after 5 wrong passwords, until {local}"


def test_a_row_rule_reads_as_what_it_lets_people_see(app, people, appointments):
    added = event(
        "dataset.row_rule_added",
        {"rule": "Everyone with the Doctor role see only rows where doctor equals their user name"},
        actor=people["editor"],
        object_type="dataset",
        object_id=str(appointments.id),
    )
    assert sentence(added) == (
        "Eddie Editor added a row rule to Appointments: Everyone with the Doctor role see only "
        "rows where doctor equals their user name"
    )
