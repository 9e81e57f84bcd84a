"""Signing in and out: generic failures, lock-out, sessions ended, idle lock, forced change."""

import time
from datetime import timedelta

from argon2 import PasswordHasher

from server.auth.signin import GENERIC_FAILURE
from server.models import AuditEvent, User, utcnow
from tests.helpers import PASSWORD, make_app, make_user, signed_in


def events(action):
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


def test_sign_in_lands_on_the_page_asked_for(anon, people):
    response = anon.get("/account")
    assert response.headers["Location"] == "/sign-in?next=/account"
    response = anon.post_form("/sign-in?next=/account", {"login": "ada", "password": PASSWORD})
    assert response.headers["Location"] == "/account"
    assert User.get(User.login == "ada").last_sign_in is not None
    assert events("auth.sign_in")[-1].actor_id == people["admin"].id


def test_sign_in_ignores_names_case_and_off_site_next(anon, people):
    response = anon.post_form(
        "/sign-in?next=//evil.example/x", {"login": "ADA", "password": PASSWORD}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_failure_message_never_tells_whether_the_name_exists(app, anon, people):
    make_user("gone", active=False)
    answers = set()
    for login, password in [("ada", "wrong password!"), ("nobody", PASSWORD), ("gone", PASSWORD)]:
        response = anon.sign_in(login, password)
        assert response.status_code == 401
        body = response.get_data(as_text=True)
        assert GENERIC_FAILURE in body
        answers.add(body.replace(login, ""))
    assert len({len(a) for a in answers}) == 1
    reasons = [e.details_dict["reason"] for e in events("auth.sign_in_failed")]
    assert reasons == ["wrong password", "unknown name", "account disabled"]


def test_five_failures_lock_the_account_for_fifteen_minutes(anon, admin_client, people):
    for _ in range(5):
        assert anon.sign_in("vera", "not her password").status_code == 401
    vera = User.get(User.login == "vera")
    assert vera.is_locked()
    remaining = vera.locked_until - utcnow()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
    assert len(events("auth.locked_out")) == 1
    # The right password does not help while locked, and the message stays the same.
    response = anon.sign_in("vera")
    assert response.status_code == 401 and GENERIC_FAILURE in response.get_data(as_text=True)
    # An admin unlocks; then the right password works.
    assert "locked" in admin_client.get(f"/people/{vera.id}").get_data(as_text=True)
    assert admin_client.post_form(f"/people/{vera.id}/unlock").status_code == 302
    assert not User.get_by_id(vera.id).is_locked()
    assert events("user.unlocked")[-1].actor_id == people["admin"].id
    assert anon.sign_in("vera").status_code == 302


def test_lock_out_threshold_and_duration_are_settings(tmp_path):
    app = make_app(tmp_path / "d", LOCKOUT_THRESHOLD=2, LOCKOUT_MINUTES=1)
    make_user("vera")
    client = app.test_client()
    client.sign_in("vera", "nope nope nope")
    assert not User.get().is_locked()
    client.sign_in("vera", "nope nope nope")
    user = User.get()
    assert user.is_locked() and user.locked_until - utcnow() <= timedelta(minutes=1)


def test_a_lock_ends_by_itself(anon, people):
    User.update(locked_until=utcnow() - timedelta(seconds=1)).where(User.login == "vera").execute()
    assert anon.sign_in("vera").status_code == 302


def test_sign_in_starts_a_new_session(app, anon, people):
    anon.get("/sign-in")
    with anon.session_transaction() as session:
        session["planted"] = "by an attacker"
    anon.sign_in("vera")
    with anon.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].startswith(f"{people['viewer'].id}:")


def test_sign_out_ends_this_and_other_sessions(app, people):
    here, there = signed_in(app, "vera"), signed_in(app, "vera")
    response = here.post_form("/sign-out")
    assert response.headers["Location"] == "/sign-in"
    assert here.get("/").status_code == 302
    assert there.get("/").headers["Location"].startswith("/sign-in")


def test_password_change_keeps_this_session_and_ends_the_others(app, people):
    here, there = signed_in(app, "vera"), signed_in(app, "vera")
    new = "a brand new passphrase"
    response = here.post_form(
        "/account/password",
        {"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    assert response.status_code == 302
    assert here.get("/").status_code == 200
    assert there.get("/").headers["Location"].startswith("/sign-in")
    fresh = app.test_client()
    assert fresh.sign_in("vera", PASSWORD).status_code == 401
    assert fresh.sign_in("vera", new).status_code == 302


def test_password_change_needs_the_current_password(app, viewer_client):
    before = User.get(User.login == "vera").password_hash
    response = viewer_client.post_form(
        "/account/password",
        {
            "current_password": "guess guess",
            "new_password": "another fine phrase",
            "confirm": "another fine phrase",
        },
    )
    assert "The current password is not right." in response.get_data(as_text=True)
    assert User.get(User.login == "vera").password_hash == before


def test_disabling_ends_the_persons_sessions(app, admin_client, viewer_client, people):
    assert viewer_client.get("/").status_code == 200
    admin_client.post_form(f"/people/{people['viewer'].id}/disable")
    assert viewer_client.get("/").headers["Location"].startswith("/sign-in")
    assert app.test_client().sign_in("vera").status_code == 401


def test_role_change_ends_the_persons_sessions(app, admin_client, viewer_client, people):
    admin_client.post_form(
        f"/people/{people['viewer'].id}",
        {"display_name": "Vera Viewer", "role": people["editor"].role_id},
    )
    assert User.get_by_id(people["viewer"].id).role.builtin == "editor"
    assert viewer_client.get("/").headers["Location"].startswith("/sign-in")


def test_passwords_are_rehashed_when_the_parameters_change(app, anon, people):
    old_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    User.update(password_hash=old_hash).where(User.login == "vera").execute()
    from server.users.accounts import PasswordPolicy

    app.extensions["sheaf.password_policy"] = PasswordPolicy(min_length=8, argon2_cost=(2, 16, 1))
    assert anon.sign_in("vera").status_code == 302
    new_hash = User.get(User.login == "vera").password_hash
    assert new_hash != old_hash and "t=2" in new_hash and "m=16" in new_hash


def test_long_passwords_are_accepted_and_compared_exactly(app, viewer_client):
    long = "x" * 63 + "ä" + "y" * 70  # 134 characters
    response = viewer_client.post_form(
        "/account/password", {"current_password": PASSWORD, "new_password": long, "confirm": long}
    )
    assert response.status_code == 302
    client = app.test_client()
    assert client.sign_in("vera", long[:-1]).status_code == 401
    assert client.sign_in("vera", long[:64]).status_code == 401
    assert client.sign_in("vera", long).status_code == 302


def test_forced_password_change_holds_the_person_until_done(app, anon):
    make_user("newbie", must_change_password=True)
    response = anon.sign_in("newbie")
    assert response.status_code == 302
    for path in ["/", "/account", "/people"]:
        assert anon.get(path).headers["Location"] == "/account/password"
    page = anon.get("/account/password").get_data(as_text=True)
    assert "temporary password" in page
    # Typed a moment ago to sign in: not asked for again.
    assert "Current password" not in page and 'name="current_password"' not in page
    new = "my very own phrase"
    response = anon.post_form("/account/password", {"new_password": new, "confirm": new})
    assert response.headers["Location"] == "/"
    newbie = User.get(User.login == "newbie")
    assert not newbie.must_change_password
    assert PasswordHasher().verify(newbie.password_hash, new)
    assert events("auth.password_changed")[-1].actor_id == newbie.id
    assert anon.get("/").status_code == 200
    # The ordinary change page asks for the current password again.
    page = anon.get("/account/password").get_data(as_text=True)
    assert 'name="current_password"' in page
    response = anon.post_form(
        "/account/password", {"new_password": "another long one", "confirm": "another long one"}
    )
    assert response.status_code == 200 and "Enter your current password." in response.get_data(
        as_text=True
    )
    assert PasswordHasher().verify(User.get(User.login == "newbie").password_hash, new)


def test_the_temporary_password_is_not_kept_as_the_new_one(app, anon):
    make_user("newbie", must_change_password=True)
    anon.sign_in("newbie")
    response = anon.post_form("/account/password", {"new_password": PASSWORD, "confirm": PASSWORD})
    assert "different from the temporary one" in response.get_data(as_text=True)
    assert User.get(User.login == "newbie").must_change_password


def test_a_stale_temporary_sign_in_asks_for_the_password_again(app, anon):
    make_user("newbie", must_change_password=True)
    anon.sign_in("newbie")
    with anon.session_transaction() as session:
        session["temporary_sign_in"] -= 16 * 60
    page = anon.get("/account/password").get_data(as_text=True)
    assert 'name="current_password"' in page
    new = "my very own phrase"
    response = anon.post_form("/account/password", {"new_password": new, "confirm": new})
    assert "Enter your current password." in response.get_data(as_text=True)
    assert User.get(User.login == "newbie").must_change_password


def test_a_password_reset_during_a_session_still_asks_for_it(app, anon):
    """Signed in with the old password, then an admin reset it: this session never typed the
    temporary one, so it must prove it."""
    newbie = make_user("newbie")
    anon.sign_in("newbie")
    User.update(must_change_password=True).where(User.id == newbie.id).execute()
    page = anon.get("/account/password").get_data(as_text=True)
    assert "temporary password" in page and 'name="current_password"' in page


def _age_session(client, seconds):
    with client.session_transaction() as session:
        session["seen"] = time.time() - seconds


def test_idle_session_locks_and_returns_to_where_the_person_was(app, viewer_client):
    token = viewer_client.csrf_token()
    _age_session(viewer_client, 15 * 60 + 1)
    response = viewer_client.get("/account?tab=1")
    assert response.headers["Location"] == "/lock?next=/account?tab%3D1"
    # Everything else stays locked, and posts are refused too.
    assert viewer_client.get("/").headers["Location"].startswith("/lock")
    assert (
        viewer_client.post("/account", data={"csrf_token": token, "display_name": "X"}).status_code
        == 302
    )
    assert User.get(User.login == "vera").display_name == "Vera Viewer"
    page = viewer_client.get("/lock?next=/account")
    assert "Sheaf is locked" in page.get_data(as_text=True)
    wrong = viewer_client.post(
        "/lock?next=/account", data={"csrf_token": token, "password": "nope nope"}
    )
    assert wrong.status_code == 401
    right = viewer_client.post(
        "/lock?next=/account", data={"csrf_token": token, "password": PASSWORD}
    )
    assert right.headers["Location"] == "/account"
    assert viewer_client.get("/account").status_code == 200


def test_idle_time_is_a_setting(tmp_path):
    app = make_app(tmp_path / "d", IDLE_LOCK_MINUTES=1)
    make_user("vera")
    client = signed_in(app, "vera")
    _age_session(client, 50)
    assert client.get("/").status_code == 200
    _age_session(client, 61)
    assert client.get("/").headers["Location"].startswith("/lock")


def test_wrong_passwords_at_the_lock_count_towards_lock_out(app, viewer_client):
    token = viewer_client.csrf_token()
    _age_session(viewer_client, 16 * 60)
    for _ in range(4):
        viewer_client.post("/lock", data={"csrf_token": token, "password": "wrong wrong"})
    response = viewer_client.post("/lock", data={"csrf_token": token, "password": "wrong wrong"})
    assert response.headers["Location"] == "/sign-in"
    assert User.get(User.login == "vera").is_locked()


def test_switch_user_from_the_lock_screen(app, viewer_client):
    token = viewer_client.csrf_token()
    _age_session(viewer_client, 16 * 60)
    response = viewer_client.post("/sign-out", data={"csrf_token": token})
    assert response.headers["Location"] == "/sign-in"
    assert viewer_client.sign_in("eddie").status_code == 302
    assert "Hello, Eddie Editor" in viewer_client.get("/").get_data(as_text=True)


def test_switch_user_is_on_every_page(viewer_client):
    for path in ["/", "/account", "/account/password"]:
        page = viewer_client.get(path).get_data(as_text=True)
        assert 'action="/sign-out"' in page and "Switch user" in page


def test_keep_alive_resets_the_idle_timer(viewer_client):
    token = viewer_client.csrf_token()
    _age_session(viewer_client, 14 * 60)
    assert viewer_client.post("/session/alive", headers={"X-CSRFToken": token}).status_code == 204
    with viewer_client.session_transaction() as session:
        session["seen"] -= 2 * 60  # 16 minutes since the last page, 2 since the last input
    assert viewer_client.get("/").status_code == 200
