"""People: list and search, add with a temporary password, edit, disable, enable, reset."""

import re

from server.models import AuditEvent, Role, User
from tests.helpers import PASSWORD, make_user


def test_people_list_and_search(admin_client, people):
    page = admin_client.get("/people").get_data(as_text=True)
    for person in people.values():
        assert person.display_name in page
    page = admin_client.get("/people?q=EDIT").get_data(as_text=True)
    assert "Eddie Editor" in page and "Vera Viewer" not in page
    page = admin_client.get("/people?q=%25").get_data(as_text=True)  # a LIKE wildcard
    assert "Nobody matches" in page


def test_add_a_person_shows_the_temporary_password_once(app, admin_client):
    editor_role = Role.get(Role.builtin == "editor")
    response = admin_client.post_form(
        "/people/new", {"login": "Nia", "display_name": "Nia Nurse", "role": editor_role.id}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    password = re.search(r'id="temporary-password">([^<]+)<', page).group(1)
    nia = User.get(User.login == "Nia")
    assert nia.must_change_password and nia.role_id == editor_role.id
    assert password not in nia.password_hash
    assert password not in admin_client.get(f"/people/{nia.id}").get_data(as_text=True)
    event = AuditEvent.get(AuditEvent.action == "user.created")
    assert event.details_dict["role"] == "Editor" and password not in event.details
    client = app.test_client()
    assert client.sign_in("nia", password).headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/account/password"


def test_login_names_are_unique_whatever_their_case(admin_client, people):
    response = admin_client.post_form(
        "/people/new",
        {"login": "VERA", "display_name": "Other Vera", "role": people["viewer"].role_id},
    )
    assert "already taken" in response.get_data(as_text=True)
    assert User.select().where(User.display_name == "Other Vera").count() == 0


def test_bad_person_input_gets_a_message_and_changes_nothing(admin_client, people):
    before = User.select().count()
    for login, name, message in [
        ("", "No Login", "Choose a sign-in name."),
        ("has space", "Spacey", "Use only letters"),
        ("x" * 65, "Long", "Field cannot be longer than 64 characters."),
        ("ok", "", "Enter the person"),
        ("ok", "bell\x07", "control characters"),
    ]:
        response = admin_client.post_form(
            "/people/new", {"login": login, "display_name": name, "role": people["viewer"].role_id}
        )
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), message
    response = admin_client.post_form(
        "/people/new", {"login": "ok", "display_name": "Ok", "role": "999"}
    )
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert User.select().count() == before


def test_edit_name_and_role(admin_client, people):
    vera = people["viewer"]
    response = admin_client.post_form(
        f"/people/{vera.id}", {"display_name": "Vera V.", "role": people["editor"].role_id}
    )
    assert response.status_code == 302
    vera = User.get_by_id(vera.id)
    assert vera.display_name == "Vera V." and vera.role.builtin == "editor"
    event = AuditEvent.get(AuditEvent.action == "user.updated")
    assert event.details_dict == {
        "display_name": ["Vera Viewer", "Vera V."],
        "role": ["Viewer", "Editor"],
    }


def test_disable_and_enable(app, admin_client, people):
    vera = people["viewer"]
    admin_client.post_form(f"/people/{vera.id}/disable")
    assert not User.get_by_id(vera.id).active
    assert app.test_client().sign_in("vera").status_code == 401
    admin_client.post_form(f"/people/{vera.id}/enable")
    assert User.get_by_id(vera.id).active
    assert app.test_client().sign_in("vera").status_code == 302
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.object_id == str(vera.id))]
    assert "user.disabled" in actions and "user.enabled" in actions


def test_reset_password_gives_a_new_temporary_one(app, admin_client, viewer_client, people):
    vera = people["viewer"]
    page = admin_client.post_form(f"/people/{vera.id}/reset-password").get_data(as_text=True)
    password = re.search(r'id="temporary-password">([^<]+)<', page).group(1)
    assert viewer_client.get("/").headers["Location"].startswith("/sign-in")
    client = app.test_client()
    assert client.sign_in("vera", PASSWORD).status_code == 401
    assert client.sign_in("vera", password).status_code == 302
    assert client.get("/").headers["Location"] == "/account/password"


def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(admin_client, people):
    ada = people["admin"]
    response = admin_client.post_form(f"/people/{ada.id}/disable", follow_redirects=True)
    assert "last active admin" in response.get_data(as_text=True)
    response = admin_client.post_form(
        f"/people/{ada.id}", {"display_name": "Ada", "role": people["viewer"].role_id}
    )
    assert "last active admin" in response.get_data(as_text=True)
    ada = User.get_by_id(ada.id)
    assert ada.active and ada.role.is_admin
    # With a second admin, the first one can step down.
    make_user("second", "admin")
    response = admin_client.post_form(
        f"/people/{ada.id}", {"display_name": "Ada", "role": people["viewer"].role_id}
    )
    assert response.status_code == 302
    assert User.get_by_id(ada.id).role.builtin == "viewer"


def test_a_disabled_admin_does_not_count_as_active(admin_client, people):
    make_user("sleeping", "admin", active=False)
    response = admin_client.post_form(
        f"/people/{people['admin'].id}/disable", follow_redirects=True
    )
    assert "last active admin" in response.get_data(as_text=True)


def test_unknown_person_is_404(admin_client):
    assert admin_client.get("/people/999").status_code == 404
    assert admin_client.post_form("/people/999/disable").status_code == 404


def test_everyone_can_change_their_own_name(viewer_client, people):
    response = viewer_client.post_form("/account", {"display_name": "  Vera   Q.  "})
    assert response.status_code == 302
    assert User.get_by_id(people["viewer"].id).display_name == "Vera Q."
