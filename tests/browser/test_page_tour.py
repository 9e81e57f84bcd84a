"""A tour of every page in a real browser, in light and dark colour schemes.

A data folder is seeded with one person per role, a custom "Auditor" role, a disabled account,
and (through the real sign-in form) failed sign-ins and an account locked by them. The admin
then signs in through the form and visits every page; a viewer sees a 403 page and, after the
page's own idle timer fires, the lock page. Each page is checked for its status, its heading and
a clean console (no errors, no CSP violations), for not scrolling sideways (at 1366 px wide in
the light scheme, 800 px in the dark), and saved as
tests/artifacts/tour-<name>-<light|dark>.png.

The idle lock needs time to pass on both sides: Playwright's clock moves the page's timer, and
the server's idea of "now" (``time.time`` as seen by ``server.auth.session``) is moved forward
for that one step, in-process, instead of waiting a real minute.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from tests.browser.helpers import (
    ConsoleLog,
    assert_fits_width,
    new_page,
    shot,
    sign_in,
    submit,
    unexpected_errors,
)
from tests.helpers import PASSWORD, make_app, make_role, make_user

pytestmark = pytest.mark.browser

SCHEMES = ("light", "dark")
WIDTH = {"light": 1366, "dark": 800}  # each page seen at both widths, once in each scheme
IDLE_LOCK_MINUTES = 1
LOCKOUT_THRESHOLD = 3


@dataclass(frozen=True)
class Site:
    url: str
    people: dict[str, int]  # key → user id
    roles: dict[str, int]  # "admin" / "auditor" → role id


# --- helpers ---------------------------------------------------------------------------------
def _check(page, log: ConsoleLog, response, *, name: str, scheme: str, status: int, heading: str):
    from playwright.sync_api import expect

    assert response is not None, f"{name}: no response"
    assert response.status == status, f"{name}: status {response.status}, expected {status}"
    h1 = page.locator("main h1")
    expect(h1).to_have_count(1)
    expect(h1).to_be_visible()
    expect(h1).to_contain_text(heading)
    page.evaluate("document.fonts.ready")
    assert_fits_width(page)
    shot(page, f"tour-{name}-{scheme}")
    errors = unexpected_errors(log.errors, status)
    assert errors == [], f"{name} ({scheme}):\n" + "\n".join(errors)
    log.errors.clear()


# --- the site --------------------------------------------------------------------------------
def _seed_audit_events(browser, base: str) -> None:
    """Failed and successful sign-ins through the form; 'lola' ends up locked."""
    context, page, _log = new_page(browser)
    try:
        assert sign_in(page, base, "nobody", "not a password").status == 401
        for _ in range(LOCKOUT_THRESHOLD):
            assert sign_in(page, base, "lola", "wrong password entirely").status == 401
        assert sign_in(page, base, "dora").status == 401  # disabled
        for login in ("eddie", "cus"):
            context.clear_cookies()
            assert sign_in(page, base, login).status == 200
    finally:
        context.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[Site]:
    from waitress.server import create_server

    from server.db import database
    from server.models import Role

    app = make_app(
        tmp_path_factory.mktemp("tour") / "data",
        IDLE_LOCK_MINUTES=IDLE_LOCK_MINUTES,
        LOCKOUT_THRESHOLD=LOCKOUT_THRESHOLD,
    )
    auditor = make_role("Auditor", ["audit.view"])
    auditor.description = "Reads the audit log; changes nothing."
    auditor.save()
    users = {
        "admin": make_user("ada", "admin", display_name="Ada Admin"),
        "editor": make_user("eddie", "editor", display_name="Eddie Editor"),
        "viewer": make_user("vera", "viewer", display_name="Vera Viewer"),
        "auditor": make_user("cus", auditor, display_name="Cus Auditor"),
        "locked": make_user("lola", "editor", display_name="Lola Locked"),
        "disabled": make_user("dora", "viewer", display_name="Dora Disabled", active=False),
    }
    people = {key: user.id for key, user in users.items()}
    roles = {"admin": Role.get(Role.builtin == "admin").id, "auditor": auditor.id}
    database.close()

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-tour", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.effective_port}"
    try:
        _seed_audit_events(browser, base)
        yield Site(base, people, roles)
    finally:
        server.close()
        thread.join(timeout=5)


# --- tests -----------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", SCHEMES)
def test_admin_tour(site: Site, browser, scheme: str) -> None:
    from playwright.sync_api import expect

    base = site.url
    context, page, log = new_page(browser, scheme, WIDTH[scheme])
    try:

        def visit(name: str, path: str, heading: str, status: int = 200):
            response = page.goto(base + path)
            _check(page, log, response, name=name, scheme=scheme, status=status, heading=heading)

        def after_submit(name: str, button: str, heading: str, status: int = 200):
            response = submit(page, button)
            _check(page, log, response, name=name, scheme=scheme, status=status, heading=heading)

        # Sign-in: the page, a wrong password, then the admin through the form.
        visit("sign-in", "/sign-in", "Sign in to Sheaf")
        page.get_by_label("Sign-in name").fill("ada")
        page.get_by_label("Password").fill("not the password")
        after_submit("sign-in-failed", "Sign in", "Sign in to Sheaf", status=401)
        expect(page.get_by_role("alert")).to_contain_text("did not match an account")
        page.get_by_label("Password").fill(PASSWORD)
        after_submit("home", "Sign in", "Hello, Ada Admin")
        expect(page).to_have_url(base + "/")
        expect(page.get_by_role("navigation", name="Main")).to_contain_text("Audit log")

        visit("people", "/people", "People")
        table = page.locator("main table")
        for name in ("Ada Admin", "Lola Locked", "Dora Disabled", "Cus Auditor"):
            expect(table.get_by_role("link", name=name)).to_be_visible()
        expect(table.locator(".status-locked")).to_have_count(1)
        expect(table.locator(".status-disabled")).to_have_count(1)

        visit("people-empty", "/people?q=zzz", "People")
        expect(page.locator("main .empty")).to_have_text("Nobody matches “zzz”.")
        expect(page.locator("main table")).to_have_count(0)

        visit("person-new", "/people/new", "Add a person")
        page.get_by_label("Role").select_option(label="Viewer")
        after_submit("person-new-errors", "Add person", "Add a person")
        expect(page.locator("#display_name-error")).to_have_text("Enter the person's name.")
        expect(page.locator("#login-error")).to_have_text("Choose a sign-in name.")
        expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")

        visit("person-locked", f"/people/{site.people['locked']}", "Lola Locked")
        expect(page.locator("main h1 .status")).to_have_text("locked")
        expect(page.locator("main dl.facts")).to_contain_text("Locked until")
        expect(page.get_by_role("button", name="Unlock", exact=True)).to_be_visible()

        visit("person-disabled", f"/people/{site.people['disabled']}", "Dora Disabled")
        expect(page.locator("main h1 .status")).to_have_text("disabled")
        expect(page.get_by_role("button", name="Enable", exact=True)).to_be_visible()
        expect(page.get_by_role("button", name="Disable", exact=True)).to_have_count(0)

        visit("roles", "/roles", "Roles")
        auditor_row = page.locator("main tbody tr", has_text="Auditor")
        expect(auditor_row.locator(".pill")).to_have_text("Read the audit log")
        expect(auditor_row).to_contain_text("Reads the audit log")

        visit("role-new", "/roles/new", "Make a role")
        after_submit("role-new-errors", "Make role", "Make a role")
        expect(page.locator("#name-error")).to_have_text("Name the role.")

        visit("role-admin", f"/roles/{site.roles['admin']}", "Admin")
        expect(page.locator("main .lead")).to_contain_text("always holds every permission")
        expect(page.get_by_role("checkbox")).to_have_count(0)

        visit("role-auditor", f"/roles/{site.roles['auditor']}", "Auditor")
        expect(page.get_by_role("checkbox", name="Read the audit log", exact=True)).to_be_checked()
        manage = page.get_by_role("checkbox", name=re.compile(r"^Manage people: "))
        expect(manage).not_to_be_checked()
        expect(page.locator("main")).to_contain_text("1 person holds this role")

        visit("audit", "/audit", "Audit log")
        rows = page.locator("main table tbody tr")
        for said in (
            "Eddie Editor signed in",
            "Someone tried to sign in as “nobody”: unknown name",
            "Lola Locked was locked out after 3 wrong passwords",
        ):
            expect(rows.filter(has_text=said).first).to_be_visible()
        expect(page.locator("main table")).not_to_contain_text("auth.sign_in")

        visit("audit-filtered", "/audit?action=auth.sign_in_failed", "Audit log")
        expect(page.get_by_label("Action")).to_have_value("auth.sign_in_failed")
        actions = [row.get_attribute("data-action") for row in rows.all()]
        assert actions, "the filter should leave some events"
        assert set(actions) == {"auth.sign_in_failed"}, actions

        visit("backups", "/backups", "Backups")  # the light run's backup is there in the dark
        after_submit("backups-made", "Make a backup now", "Backups")
        expect(page.locator(".notice-success")).to_contain_text("made (0 datasets)")
        page.get_by_role("button", name="Verify").first.click()
        page.wait_for_load_state()
        expect(page.locator(".notice-success")).to_contain_text("is sound")
        shot(page, f"tour-backups-verified-{scheme}")
        page.get_by_role("link", name="Restore…").first.click()
        expect(page.locator("main h1")).to_contain_text("Restore sheaf-backup-")
        shot(page, f"tour-backup-restore-{scheme}")

        visit("settings", "/settings", "Settings")
        expect(page.get_by_label("Idle lock (minutes)")).to_have_value(str(IDLE_LOCK_MINUTES))
        page.get_by_label("Lock-out (minutes)").fill("20" if scheme == "light" else "25")
        after_submit("settings-saved", "Save settings", "Settings")
        expect(page.locator(".notice-success")).to_contain_text("in force now (Lock-out")

        visit("account", "/account", "Your account")
        expect(page.get_by_label("Your name")).to_have_value("Ada Admin")
        expect(page.locator("main dl.facts")).to_contain_text("ada")

        visit("account-password", "/account/password", "Change your password")
        expect(page.get_by_label("Current password")).to_be_visible()

        visit("not-found", "/nope", "Not found", status=404)
        expect(page.locator("main .error-code")).to_have_text("404")
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_viewer_forbidden_and_idle_lock(
    site: Site, browser, scheme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    import server.auth.session as guard

    base = site.url
    context, page, log = new_page(browser, scheme)
    try:
        page.clock.install()
        assert sign_in(page, base, "vera").status == 200
        expect(page.locator("main h1")).to_have_text("Hello, Vera Viewer")
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link")).to_have_text(["Home", "Datasets"])

        response = page.goto(base + "/people")
        _check(
            page, log, response, name="forbidden", scheme=scheme, status=403, heading="Not allowed"
        )
        expect(page.locator("main .error-code")).to_have_text("403")

        # Idle: a minute and more passes for the page's timer and for the server.
        page.goto(base + "/")
        real_time = time.time
        monkeypatch.setattr(guard, "time", SimpleNamespace(time=lambda: real_time() + 90))
        with page.expect_response(re.compile(r"/lock\?next=%2F$")) as locked:
            page.clock.fast_forward(IDLE_LOCK_MINUTES * 60_000 + 6_000)
        page.wait_for_load_state()
        monkeypatch.undo()
        expect(page).to_have_url(re.compile(r"/lock\?next=%2F$"))
        _check(
            page,
            log,
            locked.value,
            name="lock",
            scheme=scheme,
            status=200,
            heading="Sheaf is locked",
        )
        expect(page.locator("main .lead")).to_contain_text("Vera Viewer was away")
        expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
        expect(page.locator("body")).not_to_have_attribute("data-idle-seconds", re.compile(".*"))

        # The server agrees the session is locked: other pages send it back here.
        response = page.goto(base + "/account")
        assert response is not None and response.status == 200
        expect(page).to_have_url(re.compile(r"/lock\?next=(%2F|/)account$"))

        # And the password unlocks it, back where the person was going.
        page.get_by_label("Password").fill(PASSWORD)
        assert submit(page, "Unlock").status == 200
        expect(page.locator("main h1")).to_have_text("Your account")
        assert unexpected_errors(log.errors, 200) == [], "\n".join(log.errors)
    finally:
        context.close()


def test_sign_in_by_keyboard(site: Site, browser) -> None:
    from playwright.sync_api import expect

    context, page, log = new_page(browser)
    try:
        page.goto(site.url + "/sign-in")
        describe = """() => {
            const e = document.activeElement;
            if (!e || e === document.body) return "body";
            if (e.classList.contains("skip-link")) return "skip-link";
            if (e.id === "login" || e.id === "password") return e.id;
            if (e.tagName === "BUTTON") return "button:" + e.textContent.trim();
            return e.tagName.toLowerCase() + ":" + e.textContent.trim();
        }"""
        # The sign-in name has autofocus, so the first Tab goes on to the password; focus then
        # leaves the page and comes back in at the top. Tab round until the top is reached, then
        # check the order from there.
        assert page.evaluate(describe) == "login"
        seen = []
        for _ in range(12):
            page.keyboard.press("Tab")
            seen.append(page.evaluate(describe))
        assert "skip-link" in seen, seen
        order = seen[seen.index("skip-link") :]
        wanted = ["skip-link", "login", "password", "button:Sign in"]
        positions = [order.index(item) for item in wanted if item in order]
        assert len(positions) == len(wanted), order
        assert positions == sorted(positions), order
        assert positions[-1] < 6, order  # nothing much else on the way

        # The skip link shows itself when focused.
        page.locator(".skip-link").focus()
        expect(page.locator(".skip-link")).to_be_in_viewport()
        shot(page, "tour-sign-in-keyboard-light")

        # Type the name, Tab to the password, Enter submits.
        page.locator("#login").focus()
        page.keyboard.type("ada")
        page.keyboard.press("Tab")
        assert page.evaluate(describe) == "password"
        page.keyboard.type(PASSWORD)
        with page.expect_navigation() as navigation:
            page.keyboard.press("Enter")
        assert navigation.value.status == 200
        expect(page).to_have_url(site.url + "/")
        expect(page.locator("main h1")).to_have_text("Hello, Ada Admin")
        assert log.errors == [], "\n".join(log.errors)
    finally:
        context.close()
