"""First run: nothing but /setup until the first admin exists; then /setup is gone."""

from server.models import AuditEvent, Role, User
from tests.helpers import PASSWORD


def test_every_page_leads_to_setup_while_no_account_exists(anon):
    for path in ["/", "/people", "/sign-in", "/audit", "/account"]:
        response = anon.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == "/setup"


def test_no_default_account_exists(app):
    assert User.select().count() == 0


def test_setup_creates_the_first_admin_and_signs_in(anon):
    response = anon.post_form(
        "/setup",
        {"login": "Ada", "display_name": "Ada Lovelace", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = User.get()
    assert (user.login, user.display_name, user.role.builtin) == ("Ada", "Ada Lovelace", "admin")
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert not user.must_change_password
    assert "Hello, Ada Lovelace" in anon.get("/").get_data(as_text=True)
    assert AuditEvent.get(AuditEvent.action == "setup.completed").actor_id == user.id
    assert AuditEvent.get(AuditEvent.action == "auth.sign_in").actor_id == user.id
    assert user.last_sign_in is not None


def test_setup_answers_404_once_an_account_exists(anon, people):
    assert anon.get("/setup").status_code == 404
    response = anon.post_form(
        "/setup",
        {"login": "mallory", "display_name": "M", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 404
    assert not User.select().where(User.login == "mallory").exists()


def test_setup_refuses_weak_or_mismatched_passwords(anon):
    cases = [
        ("short", "short", "Use at least 8 characters."),
        ("password123", "password123", "commonly used"),
        (PASSWORD, PASSWORD + "x", "The two passwords differ."),
    ]
    for password, confirm, message in cases:
        response = anon.post_form(
            "/setup",
            {"login": "ada", "display_name": "Ada", "password": password, "confirm": confirm},
        )
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    assert User.select().count() == 0
    assert Role.select().count() == 3
