"""The window's pages ask the server for the system's dialogs (server.native_dialogs): the
chosen place comes back as a token; only in the desktop window, only signed in, with a CSRF
token, and the open dialog only for people who may import."""

import pytest

from server import native_dialogs
from tests.desktop.helpers import client_for
from tests.helpers import PASSWORD, make_role, make_user


class StubDialogs:
    def __init__(self):
        self.asked = []

    def choose_import_file(self):
        self.asked.append("open")
        return {"token": "t-open", "name": "visits.csv"}

    def choose_save_path(self, suggested_name):
        self.asked.append(("save", suggested_name))
        return None  # cancelled


@pytest.fixture
def dialogs(desktop):
    stub = StubDialogs()
    desktop.extensions[native_dialogs.EXTENSION] = stub
    return stub


def signed_in(app, login):
    client = client_for(app)
    data = {"login": login, "password": PASSWORD, "csrf_token": client.csrf_token()}
    assert client.post("/sign-in", data=data).status_code == 302
    return client


def ask(client, kind, **fields):
    headers = {"X-CSRFToken": client.csrf_token()}
    return client.post(f"/desktop/dialog/{kind}", data=fields, headers=headers)


def test_a_page_gets_the_chosen_file_as_a_token(desktop, dialogs):
    editor = signed_in(desktop, make_user("eddie", "editor").login)
    page = editor.get("/import").get_data(as_text=True)
    assert '<meta name="sheaf-dialogs" content="/desktop/dialog/">' in page
    response = ask(editor, "open")
    assert response.status_code == 200
    assert response.get_json() == {"token": "t-open", "name": "visits.csv"}
    response = ask(editor, "save", name="orders.csv")
    assert response.get_json() == {}  # the person cancelled
    assert dialogs.asked == ["open", ("save", "orders.csv")]


def test_who_may_not_ask_is_refused(desktop, dialogs):
    viewer = signed_in(desktop, make_user("val", "viewer").login)
    assert ask(viewer, "open").status_code == 403  # a viewer may not import
    assert ask(viewer, "save", name="x.csv").status_code == 200  # but may save an export
    assert ask(viewer, "delete").status_code == 404
    assert viewer.get("/desktop/dialog/open").status_code == 405
    assert viewer.post("/desktop/dialog/save", data={"name": "x"}).status_code == 400  # no CSRF
    anonymous = client_for(desktop)
    response = anonymous.post(
        "/desktop/dialog/open", headers={"X-CSRFToken": anonymous.csrf_token()}
    )
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert client_for(desktop, launched=False).post("/desktop/dialog/open").status_code == 403
    assert dialogs.asked == [("save", "x.csv")]


def test_without_the_window_there_are_no_dialogs(app, editor_client):
    assert editor_client.post_form("/desktop/dialog/open").status_code == 404
    assert 'name="sheaf-dialogs"' not in editor_client.get("/import").get_data(as_text=True)


def test_one_dialog_at_a_time(desktop):
    import threading

    from desktop.bridge import Bridge

    shown, release = threading.Event(), threading.Event()

    class SlowWindow:
        def create_file_dialog(self, kind, **options):
            shown.set()
            release.wait(10)
            return None

    bridge = Bridge(desktop.extensions["sheaf.picked"])
    bridge._attach(SlowWindow())
    desktop.extensions[native_dialogs.EXTENSION] = bridge
    editor = signed_in(desktop, make_user("eddie", "editor").login)
    first = threading.Thread(target=bridge.choose_import_file)
    first.start()
    try:
        assert shown.wait(10)
        response = ask(editor, "save", name="orders.csv")
        assert response.status_code == 409
        assert response.get_json() == {"error": "A file dialog is already open."}
    finally:
        release.set()
        first.join(10)
    shown.clear()
    release.set()
    assert ask(editor, "save", name="orders.csv").get_json() == {}  # free again: cancelled


# Who may ask for which dialog, as in tests/test_permission_matrix.py (whose app has no window,
# so these desktop-only routes are not in its table): the open dialog needs datasets.import.
DIALOG_MATRIX = {
    "anonymous": {"open": 302, "save": 302},
    "viewer": {"open": 403, "save": 200},
    "editor": {"open": 200, "save": 200},
    "admin": {"open": 200, "save": 200},
    "custom": {"open": 403, "save": 200},  # a role with audit.view only
}


@pytest.mark.parametrize("who", DIALOG_MATRIX)
def test_every_kind_of_person_against_the_dialog_routes(desktop, dialogs, who):
    if who == "anonymous":
        client = client_for(desktop)
    else:
        role = make_role("Auditor", ["audit.view"]) if who == "custom" else who
        client = signed_in(desktop, make_user(f"{who}-person", role).login)
    for kind, expected in DIALOG_MATRIX[who].items():
        assert ask(client, kind, name="x.csv").status_code == expected, (who, kind)
