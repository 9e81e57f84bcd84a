"""Headers, cookies and CSRF: what protects every page, whatever its content."""

from server.models import User
from tests.helpers import PASSWORD


def test_pages_carry_the_security_headers(anon, people):
    response = anon.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_assets_may_be_cached_but_not_sniffed(anon):
    response = anon.get("/assets/css/sheaf.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_pages_have_no_inline_script_or_style(admin_client, people):
    for path in [
        "/",
        "/people",
        f"/people/{people['viewer'].id}",
        "/roles",
        "/roles/new",
        "/audit",
        "/account",
        "/account/password",
    ]:
        page = admin_client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "<style" not in page and " style=" not in page, path
        assert " on" + "click=" not in page


def test_session_cookie_is_httponly_and_samesite_strict(anon, people):
    response = anon.sign_in("vera")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("sheaf_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_posts_without_a_csrf_token_are_refused(anon, viewer_client, people):
    response = anon.post("/sign-in", data={"login": "vera", "password": PASSWORD})
    assert response.status_code == 400
    assert "did not come from Sheaf" in response.get_data(as_text=True)
    response = viewer_client.post("/account", data={"display_name": "Hacked"})
    assert response.status_code == 400
    response = viewer_client.post(
        "/account", data={"display_name": "Hacked", "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert User.get(User.login == "vera").display_name == "Vera Viewer"


def test_a_token_from_another_session_is_refused(app, viewer_client, editor_client):
    stolen = editor_client.csrf_token()
    response = viewer_client.post("/account", data={"display_name": "Hacked", "csrf_token": stolen})
    assert response.status_code == 400


def test_state_changes_need_post(admin_client, people):
    assert admin_client.get(f"/people/{people['viewer'].id}/disable").status_code == 405
    assert admin_client.get("/sign-out").status_code == 405
    assert User.get_by_id(people["viewer"].id).active
