"""First run in a real browser: create the admin, add an editor, sign in as the editor, choose
a new password, land on the home page. Each step is saved to tests/artifacts/NN-*.png."""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import VIEWPORT, shot

pytestmark = pytest.mark.browser

ADMIN_NAME = "Ada Lovelace"
ADMIN_LOGIN = "ada"
ADMIN_PASSWORD = "analytical engine notes"
EDITOR_NAME = "Eddie Editor"
EDITOR_LOGIN = "eddie"
EDITOR_PASSWORD = "tide pools at low water"


def test_first_run_to_editor_home(live_server: str, browser, page, console) -> None:
    from playwright.sync_api import expect

    # 1. A fresh Sheaf sends everyone to set-up.
    page.goto(live_server + "/")
    expect(page).to_have_url(re.compile(r"/setup$"))
    expect(page.get_by_role("heading", name="Welcome to Sheaf")).to_be_visible()
    shot(page, "01-setup")

    page.get_by_label("Your name").fill(ADMIN_NAME)
    page.get_by_label("Sign-in name").fill(ADMIN_LOGIN)
    page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_label("Password again").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Create admin account").click()

    # 2. The admin lands on the home page.
    expect(page.get_by_role("heading", name=f"Hello, {ADMIN_NAME}")).to_be_visible()
    expect(page).to_have_url(live_server + "/")
    shot(page, "02-admin-home")

    # 3. People, from the main navigation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    expect(page).to_have_url(re.compile(r"/people"))
    expect(page.get_by_role("heading", name="People", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=ADMIN_LOGIN, exact=True)).to_be_visible()
    shot(page, "03-people")

    # 4. Add an editor.
    page.get_by_role("link", name="Add a person").click()
    expect(page.get_by_role("heading", name="Add a person")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(EDITOR_NAME)
    page.get_by_label("Sign-in name").fill(EDITOR_LOGIN)
    page.get_by_label("Role").select_option(label="Editor")
    shot(page, "04-add-person")
    page.get_by_role("button", name="Add person").click()

    # 5. The temporary password is shown once.
    expect(page.get_by_role("heading", name=f"{EDITOR_NAME} is added")).to_be_visible()
    temporary = page.locator("#temporary-password").inner_text().strip()
    assert len(temporary) >= 8, temporary
    shot(page, "05-temporary-password")

    # 6. Switch user: back to the sign-in page.
    page.get_by_role("button", name="Switch user").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    expect(page.get_by_role("heading", name="Sign in to Sheaf")).to_be_visible()
    shot(page, "06-sign-in")

    page.get_by_label("Sign-in name").fill(EDITOR_LOGIN)
    page.get_by_label("Password").fill(temporary)
    page.get_by_role("button", name="Sign in").click()

    # 7. A temporary password must be replaced before anything else.
    expect(page.get_by_role("heading", name="Choose a password")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    shot(page, "07-forced-change")

    # Signed in with it moments ago, so the temporary password is not asked again.
    expect(page.get_by_label("Current password")).to_have_count(0)
    page.get_by_label("New password", exact=True).fill(EDITOR_PASSWORD)
    page.get_by_label("New password again").fill(EDITOR_PASSWORD)
    page.get_by_role("button", name="Change password").click()

    # 8. The editor's home page.
    expect(page.get_by_role("heading", name=f"Hello, {EDITOR_NAME}")).to_be_visible()
    expect(page).to_have_url(live_server + "/")
    expect(page.locator("main .lead")).to_contain_text("with the Editor role")
    expect(page.locator(".usermenu .role-badge")).to_have_text("Editor")
    shot(page, "08-editor-home")

    # 9. The sign-in page in a dark colour scheme (a separate, signed-out context).
    dark = browser.new_context(color_scheme="dark", viewport=VIEWPORT)
    try:
        dark_page = dark.new_page()
        console.watch(dark_page)
        dark_page.goto(live_server + "/sign-in")
        expect(dark_page.get_by_role("heading", name="Sign in to Sheaf")).to_be_visible()
        shot(dark_page, "09-sign-in-dark")
    finally:
        dark.close()

    assert console.errors == [], "\n".join(console.errors)
