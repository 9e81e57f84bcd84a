"""Hostile input, generated: the import readers get arbitrary bytes and near-miss CSV and JSON;
every form of the app gets arbitrary values in every one of its fields. Nothing may answer 500,
hang, or leave a partial write behind."""

from __future__ import annotations

import re
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.datasets.loading.bulk_load import BadValues
from server.datasets.loading.pipeline import load_file
from server.importers import Limits, UnreadableFile, inspect_file
from tests.helpers import make_app, make_role, make_user, signed_in
from tests.permission_matrix import MATRIX, case_url

QUICK = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- the readers -----------------------------------------------------------------------------

cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ['"', '""', "\r", "\n", ",", ";", "\t", "\x00", "=1+1", "00123", "1e999", "NaN", " "]
)
csv_like = st.lists(st.lists(cells, min_size=0, max_size=6), min_size=0, max_size=25).map(
    lambda rows: "\n".join(",".join(row) for row in rows)
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_like = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)


def _read(path: Path, dest: Path) -> None:
    """Inspect and load like an import does; only the importers' own refusals may come out."""
    limits = Limits(max_cell_chars=10_000, json_max_depth=8)
    try:
        sample = inspect_file(path, limits=limits)
        outcome = load_file(path, dest, sample, limits=limits)
    except (UnreadableFile, BadValues):
        assert not dest.exists()
    else:
        con = sqlite3.connect(dest)
        try:
            stored = con.execute("SELECT count(*) FROM rows").fetchone()[0]
        finally:
            con.close()
        assert stored == outcome.result.rows
    assert not list(dest.parent.glob("*.partial*")), "a partial file was left behind"


@QUICK
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".csv", ".json", ".xlsx", ".txt"]))
def test_readers_survive_arbitrary_bytes(tmp_path, data, suffix):
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    _read(path, tmp_path / "out.sqlite")
    (tmp_path / "out.sqlite").unlink(missing_ok=True)


@QUICK
@given(text=csv_like, encoding=st.sampled_from(["utf-8", "utf-16", "cp1252", "utf-8-sig"]))
def test_readers_survive_near_miss_csv(tmp_path, text, encoding):
    path = tmp_path / "input.csv"
    path.write_bytes(text.encode(encoding, "replace"))
    _read(path, tmp_path / "out.sqlite")
    (tmp_path / "out.sqlite").unlink(missing_ok=True)


@QUICK
@given(document=json_like, lines=st.booleans())
def test_readers_survive_odd_json(tmp_path, document, lines):
    import json

    if lines and isinstance(document, list):
        text = "\n".join(json.dumps(item) for item in document)
    else:
        text = json.dumps(document)  # NaN and Infinity included: they must be refused
    path = tmp_path / "input.json"
    path.write_text(text, encoding="utf-8")
    _read(path, tmp_path / "out.sqlite")
    (tmp_path / "out.sqlite").unlink(missing_ok=True)


# --- every form field ------------------------------------------------------------------------


class _Fields(HTMLParser):
    """The names of the fields of every form on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs):
        name = dict(attrs).get("name")
        if tag in ("input", "select", "textarea") and name and name != "csrf_token":
            self.names.add(name)


hostile = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", "0", "-1", "99999999999999999999", "1e308", "NaN", "' OR 1=1 --", "<script>x</script>",
         "../../etc/passwd", "\x00", "\ufffd\u202e", "\U0001f600" * 50,
         "a" * 5000, "c1", "c999", "on", "y", "true", "import", "refresh"]
    ),
)  # fmt: skip

POSTS = sorted(key for key in MATRIX if key[1] == "POST" and key[0] != "auth.sign_out")


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("fuzz"), LOCKOUT_THRESHOLD=100)
    make_user("ada", "admin")
    make_user("eddie", "editor")
    make_user("vera", "viewer")
    from server.models import Role

    make_role("Auditor", ["audit.view"])
    assert Role.select().count() >= 4
    return app


@pytest.mark.parametrize(("endpoint", "method"), POSTS)
def test_every_form_field_takes_anything_without_a_500(fuzz_world, endpoint, method):
    app = fuzz_world
    url = case_url(app, endpoint, method, "admin")
    client = signed_in(app, "ada")
    page = client.get(url)
    parser = _Fields()
    parser.feed(page.get_data(as_text=True) if page.status_code == 200 else "")
    names = sorted(parser.names) or ["value"]

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(values=st.fixed_dictionaries({name: hostile for name in names}))
    def post(values):
        fresh = signed_in(app, "ada")
        answer = fresh.post_form(url, values)
        assert answer.status_code < 500, f"{endpoint} {values!r}: {answer.status_code}"

    post()
    data_dir = Path(app.config["DATA_DIR"])
    con = sqlite3.connect(data_dir / "sheaf.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()
    partial = [p for p in data_dir.rglob("*") if re.search(r"\.partial", p.name)]
    assert partial == [], partial
