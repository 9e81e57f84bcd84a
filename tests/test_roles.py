"""Roles: built-in ones stay, custom ones from any permissions, changes apply at once."""

from server.models import AuditEvent, Role, User
from server.permissions import PERMISSIONS
from tests.helpers import make_role, make_user, signed_in


def test_builtin_roles_exist_and_cannot_be_deleted(admin_client):
    builtins = {role.builtin: role for role in Role.select().where(Role.builtin.is_null(False))}
    assert set(builtins) == {"admin", "editor", "viewer"}
    for role in builtins.values():
        response = admin_client.post_form(f"/roles/{role.id}/delete", follow_redirects=True)
        assert "Built-in roles cannot be deleted." in response.get_data(as_text=True)
    assert Role.select().where(Role.builtin.is_null(False)).count() == 3


def test_admin_holds_every_permission(people):
    assert people["admin"].role.permission_names() == frozenset(PERMISSIONS)


def test_create_a_custom_role(admin_client):
    response = admin_client.post_form(
        "/roles/new",
        {
            "name": "Front desk",
            "description": "Reception",
            "permissions": ["datasets.import", "datasets.export"],
        },
    )
    assert response.status_code == 302
    role = Role.get(Role.name == "Front desk")
    assert role.permission_names() == {"datasets.import", "datasets.export"}
    assert AuditEvent.get(AuditEvent.action == "role.created").details_dict["permissions"] == [
        "datasets.export",
        "datasets.import",
    ]
    assert "Front desk" in admin_client.get("/roles").get_data(as_text=True)


def test_role_names_are_unique_and_permissions_known(admin_client):
    response = admin_client.post_form("/roles/new", {"name": "editor", "permissions": []})
    assert "already exists" in response.get_data(as_text=True)
    response = admin_client.post_form(
        "/roles/new", {"name": "Sneaky", "permissions": ["root.everything"]}
    )
    assert response.status_code == 200 and "not a valid choice" in response.get_data(as_text=True)
    assert not Role.select().where(Role.name.in_(["editor", "Sneaky"])).exists()


def test_role_changes_apply_on_the_next_request(app, admin_client):
    role = make_role("Clerk", [])
    make_user("clara", role)
    clara = signed_in(app, "clara")
    assert clara.get("/audit").status_code == 403
    admin_client.post_form(f"/roles/{role.id}", {"name": "Clerk", "permissions": ["audit.view"]})
    assert clara.get("/audit").status_code == 200
    assert 'href="/audit"' in clara.get("/").get_data(as_text=True)


def test_a_role_in_use_cannot_be_deleted(admin_client):
    role = make_role("Temp", [])
    user = make_user("tim", role)
    response = admin_client.post_form(f"/roles/{role.id}/delete", follow_redirects=True)
    assert "1 person holds this role" in response.get_data(as_text=True)
    User.update(role=Role.get(Role.builtin == "viewer")).where(User.id == user.id).execute()
    assert admin_client.post_form(f"/roles/{role.id}/delete").status_code == 302
    assert not Role.select().where(Role.name == "Temp").exists()
    assert AuditEvent.get(AuditEvent.action == "role.deleted").details_dict == {"name": "Temp"}


def test_the_admin_role_keeps_every_permission_and_builtins_their_names(admin_client):
    admin = Role.get(Role.builtin == "admin")
    response = admin_client.post_form(
        f"/roles/{admin.id}", {"name": "Admin", "permissions": ["audit.view"]}
    )
    assert "always holds every permission" in response.get_data(as_text=True)
    editor = Role.get(Role.builtin == "editor")
    response = admin_client.post_form(f"/roles/{editor.id}", {"name": "Boss", "permissions": []})
    assert "keep their names" in response.get_data(as_text=True)
    assert Role.get_by_id(editor.id).name == "Editor"
    # The admin role's page still saves its description.
    response = admin_client.post_form(
        f"/roles/{admin.id}",
        {"name": "Admin", "description": "Runs the office", "permissions": list(PERMISSIONS)},
    )
    assert response.status_code == 302
    assert Role.get_by_id(admin.id).description == "Runs the office"


def test_editor_permissions_can_change(admin_client, editor_client):
    editor = Role.get(Role.builtin == "editor")
    admin_client.post_form(f"/roles/{editor.id}", {"name": "Editor", "permissions": ["audit.view"]})
    assert editor_client.get("/audit").status_code == 200
    event = AuditEvent.get(AuditEvent.action == "role.updated")
    assert event.details_dict["added"] == ["audit.view"]
    assert event.details_dict["removed"] == ["datasets.export", "datasets.import"]
