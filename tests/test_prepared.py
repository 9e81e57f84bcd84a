"""Prepared lookups (server/prepared.py) give the rows Peewee's own query gives, run with new
values each time; the per-request lookups built on them answer as before."""

from __future__ import annotations

import pytest

from server.datasets import sharing
from server.datasets.catalog import visible_dataset, visible_datasets
from server.db import database
from server.models import Dataset, Role, RolePermission, User
from server.prepared import Prepared
from tests.helpers import make_dataset, make_role, make_user

CSV = "name,n\nA,1\nB,2\n"


def test_rows_are_the_models_peewee_gives(app, people):
    by_id = Prepared(User, lambda user_id: User.select().where(User.id == user_id).limit(1), 1)
    with database.connection_context():
        for person in people.values():
            mine = by_id.first(person.id)
            theirs = User.get_by_id(person.id)
            assert isinstance(mine, User) and mine.__data__ == theirs.__data__
            assert mine.role.name == theirs.role.name  # the foreign key still loads
        assert by_id.first(10_000) is None


def test_values_go_in_their_places(app, people):
    """Two values, in the opposite order from the arguments, and a constant between them."""
    named = Prepared(
        User,
        lambda role_id, user_id: (
            User.select()
            .where((User.id == user_id) & (User.active == True) & (User.role == role_id))  # noqa: E712
            .order_by(User.id)
        ),
        2,
    )
    editor = people["editor"]
    with database.connection_context():
        assert [u.id for u in named.all(editor.role_id, editor.id)] == [editor.id]
        assert named.all(editor.role_id + 100, editor.id) == []
        assert named.tuples(editor.role_id, editor.id)[0][0] == editor.id
        assert named.params(7, 9) == [9, True, 7]


def test_every_argument_must_be_a_value(app):
    unused = Prepared(User, lambda a, b: User.select().where(User.id == a), 2)
    with database.connection_context(), pytest.raises(ValueError, match="every argument"):
        unused.first(1, 2)
    with pytest.raises(TypeError):
        Prepared(User, lambda a: User.select().where(User.id == a), 1).params(1, 2)
    with pytest.raises(ValueError):
        Prepared(User, lambda: User.select(), 0)


def test_visible_dataset_answers_as_the_listing(app, people):
    """For each person and dataset: visible_dataset finds exactly what visible_datasets lists,
    with its owner loaded (own, shared with them, shared with their role, view_all, none)."""
    editor, viewer, admin = people["editor"], people["viewer"], people["admin"]
    with database.connection_context():
        other = make_user("olga", "editor")
        reader_role = make_role("Readers", [])
        member = make_user("mia", reader_role)
    own = make_dataset(app, editor, CSV, "Own")
    to_viewer = make_dataset(app, other, CSV, "To Vera")
    to_role = make_dataset(app, other, CSV, "To role")
    private = make_dataset(app, other, CSV, "Private")
    with database.connection_context(), app.app_context():
        sharing.share(to_viewer, by=other, user=viewer, can_edit=False)
        sharing.share(to_role, by=other, role=reader_role, can_edit=False)
        for person in (editor, viewer, admin, other, member):
            person = User.get_by_id(person.id)
            listed = {d.id for d in visible_datasets(person)}
            for dataset in (own, to_viewer, to_role, private):
                found = visible_dataset(person, dataset.id)
                assert (found is not None) == (dataset.id in listed), (person.login, dataset.name)
                if found is not None:
                    record = Dataset.get_by_id(dataset.id)
                    assert found.__data__ == record.__data__
                    assert found.owner.display_name == record.owner.display_name
        assert visible_dataset(User.get_by_id(member.id), to_role.id).name == "To role"
        assert visible_dataset(User.get_by_id(viewer.id), private.id) is None
        assert visible_dataset(User.get_by_id(admin.id), private.id).name == "Private"
        assert visible_dataset(User.get_by_id(admin.id), 10_000) is None


def test_permissions_follow_a_role_change_at_once(app, people, editor_client):
    """Grants are read at every request (nothing cached across requests)."""
    with database.connection_context():
        role = Role.get_by_id(people["editor"].role_id)
        assert "datasets.import" in role.permission_names()
    assert editor_client.get("/import").status_code == 200
    with database.connection_context():
        RolePermission.delete().where(
            (RolePermission.role == role.id) & (RolePermission.permission == "datasets.import")
        ).execute()
        assert "datasets.import" not in Role.get_by_id(role.id).permission_names()
    assert editor_client.get("/import").status_code == 403
