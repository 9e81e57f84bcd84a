"""Desktop mode: without the launch cookie, with a wrong Host, or from a foreign Origin:
nothing."""

import os

from server import db
from server.models import User
from tests.desktop.helpers import HOST, SECRET, client_for
from tests.helpers import PASSWORD, make_app


def test_the_window_gets_in_with_the_launch_token(desktop):
    client = client_for(desktop)
    assert client.get("/sign-in").status_code == 200
    token = client.csrf_token()
    response = client.post(
        "/sign-in", data={"login": "vera", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_requests_without_the_launch_cookie_get_nothing(desktop):
    client = client_for(desktop, launched=False)
    for path in ["/", "/sign-in", "/setup", "/assets/css/sheaf.css", "/api/v1/datasets"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert b"Sheaf" in response.data and b"<html" not in response.data
    assert client.get("/launch?token=wrong").status_code == 403
    assert client.post("/sign-in", data={"login": "vera", "password": PASSWORD}).status_code == 403


def test_a_wrong_host_is_refused_even_with_the_cookie(desktop):
    client = client_for(desktop)
    for host in ["localhost:50123", "127.0.0.1:9999", "evil.example", "127.0.0.1"]:
        assert client.get("/sign-in", base_url=f"http://{host}").status_code == 400, host


def test_a_post_from_a_foreign_origin_is_refused(desktop):
    client = client_for(desktop)
    token = client.csrf_token()
    data = {"login": "vera", "password": PASSWORD, "csrf_token": token}
    response = client.post("/sign-in", data=data, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert User.get().last_sign_in is None
    response = client.post("/sign-in", data=data, headers={"Origin": f"http://{HOST}"})
    assert response.status_code == 302


def test_without_a_launch_secret_nothing_is_locked(app, anon):
    assert anon.get("/launch").status_code == 404


def test_the_lockdown_check_runs_before_every_other_hook(desktop, monkeypatch):
    """Flask runs before-request hooks in the order they were added, and create_app calls
    lockdown.init_app first: nothing else (the database connection, the sign-in guard) sees a
    request it refuses, and it sees every request first."""
    called = []
    ensure_sync = desktop.ensure_sync  # Flask calls every hook and view through it

    def spy(func):
        called.append(f"{func.__module__}.{func.__name__}")
        return ensure_sync(func)

    monkeypatch.setattr(desktop, "ensure_sync", spy)
    for launched, status in ((False, 403), (True, 200)):
        client = client_for(desktop, launched)
        called.clear()
        assert client.get("/sign-in").status_code == status
        assert called[0] == "server.lockdown._lockdown", called
        assert ("server.db._connect" in called) is launched, called


def test_a_hook_added_by_a_later_init_runs_after_the_lockdown_check(tmp_path, monkeypatch):
    ran = []
    db_init_app = db.init_app  # the first init after lockdown's in create_app

    def init_app(app):
        db_init_app(app)

        @app.before_request
        def _too_early():
            ran.append(True)
            return "a hook that answers itself", 418

    monkeypatch.setattr(db, "init_app", init_app)
    app = make_app(tmp_path / "d", LAUNCH_SECRET=SECRET, LAUNCH_HOST=HOST)
    assert client_for(app, launched=False).get("/sign-in").status_code == 403
    assert not ran
    assert client_for(app).get("/sign-in").status_code == 418  # it runs, but after
    assert ran


def test_a_launch_link_works_once_and_only_within_a_minute(desktop, monkeypatch):
    """Round one's link was the cookie's secret itself, good for as long as Sheaf ran, and it
    was passed to the browser on its command line, where every account can read it."""
    from server import lockdown

    tokens = desktop.extensions[lockdown.EXTENSION]
    token = tokens.issue()
    first, second = desktop.test_client(), desktop.test_client()
    assert first.get(f"/launch?token={token}", headers={"Host": HOST}).status_code == 302
    again = second.get(f"/launch?token={token}", headers={"Host": HOST})
    assert again.status_code == 403 and "used already" in again.get_data(as_text=True)
    old = tokens.issue()
    clock = lockdown.time.monotonic() + 61
    monkeypatch.setattr(lockdown.time, "monotonic", lambda: clock)
    assert second.get(f"/launch?token={old}", headers={"Host": HOST}).status_code == 403
    assert second.get(f"/launch?token={SECRET}", headers={"Host": HOST}).status_code == 403


def test_the_browser_is_given_a_file_not_the_link(tmp_path):
    """Without a window the browser opens a page in the data folder (mode 0600) that forwards
    to the link: the link never appears on a command line."""
    import stat

    from desktop import shell

    page = shell._launch_page(tmp_path, "http://127.0.0.1:1/launch?token=abc&x=<y>")
    if os.name == "posix":  # Windows: an access list (tests/test_private_files.py)
        assert stat.S_IMODE(page.stat().st_mode) == 0o600
    text = page.read_text()
    assert 'content="0;url=http://127.0.0.1:1/launch?token=abc&amp;x=&lt;y&gt;"' in text
    assert "token" not in page.as_uri()  # what the browser's command line shows
