"""Every route, for every kind of person, against one table of expected answers (MATRIX, in
tests/permission_matrix.py).

A route added without a row there fails ``test_every_route_is_in_the_table``: deciding who may
use a new route is part of adding it.
"""

from __future__ import annotations

import pytest

from tests.helpers import make_app, make_role, make_user, signed_in
from tests.permission_matrix import LOGIN, MATRIX, WHO, case_url

# The form data sent with each POST: enough to pass validation where that matters.
FORM_DATA = {
    "auth.sign_in": {"login": "nobody", "password": "wrong password"},
}


def _rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_in_the_table(app):
    routes = {(rule.endpoint, method) for rule, method in _rules(app)}
    assert routes - MATRIX.keys() == set(), "add these routes to MATRIX"
    assert MATRIX.keys() - routes == set(), "these MATRIX rows name no route"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One app per module; each case gets fresh clients (and objects to act on)."""
    app = make_app(tmp_path_factory.mktemp("matrix"))
    make_user("ada", "admin")
    make_user("eddie", "editor")
    make_user("vera", "viewer")
    make_user("cus", make_role("Auditor", ["audit.view"]))
    return app


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("endpoint", "method"), sorted(MATRIX))
def test_route_answers_as_the_table_says(world, endpoint, method, who):
    logins = {"viewer": "vera", "editor": "eddie", "admin": "ada", "custom": "cus"}
    client = world.test_client() if who == "anonymous" else signed_in(world, logins[who])
    url = case_url(world, endpoint, method, who)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post_form(url, FORM_DATA.get(endpoint, {}))
    expected = MATRIX[(endpoint, method)][who]
    assert response.status_code == expected, f"{who} {method} {url}"
    if expected == LOGIN and who == "anonymous" and endpoint != "auth.sign_in":
        assert response.headers["Location"].startswith("/sign-in")
