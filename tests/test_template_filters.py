"""The filters that show numbers (plain digits with separators, sensible decimals, shares that
never round a few cells to 0% or most to 100%) and write links."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.template_filters import number, plural, query, share


def test_numbers_people_read():
    assert number(12490.123) == "12,490.12"
    assert number(1.249e4) == "12,490"
    assert number(3.5) == "3.5"
    assert number(0.5) == "0.5"
    assert number(0.0123456) == "0.0123"
    assert number(-0.000045678) == "-0.0000457"
    assert number(1234567) == "1,234,567"
    assert number(2.0) == "2"
    assert number(None) == "—"
    assert number(float("nan")) == "nan"


@given(st.floats(min_value=-1e14, max_value=1e14, allow_nan=False))
def test_a_number_is_never_written_with_an_exponent_and_reads_back_close(value):
    text = number(value)
    assert "e" not in text.lower()
    back = float(text.replace(",", ""))
    assert math.isclose(back, value, rel_tol=0.01, abs_tol=0.006)


def test_shares():
    assert share(6, 5030) == "0.1%"
    assert share(1, 5030) == "< 0.1%"
    assert share(5029, 5030) == "> 99.9%"
    assert share(5030, 5030) == "100%"
    assert share(0, 5030) == "0%"
    assert share(1, 3) == "33.3%"
    assert share(1, 2) == "50%"
    assert share(3, 0) == "0%"


@given(st.integers(1, 10**9), st.integers(0, 10**9))
def test_a_share_of_some_is_never_zero_and_of_not_all_never_all(whole, part):
    part = min(part, whole)
    text = share(part, whole)
    if part > 0:
        assert text != "0%"
    if part < whole:
        assert text != "100%"


def test_plural_counts_have_separators():
    assert plural(3772, "value") == "3,772 values"
    assert plural(1, "value") == "1 value"


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"page": None},
        {"sort": "c2", "dir": "desc", "page": 3},
        {"q": "Müller & Söhne", "c6.in": "a/b|é & c|x=y;z+1", "before": "IjEi.x-_~"},
        {"c2.min": "99000", "after": "eyJ2IjoxfQ", "page": None, "last": "1"},
    ],
)
def test_query_writes_the_link_url_for_writes(app, args):
    """The table page builds its route once and adds each link's query with ``query``: the
    links must stay exactly what url_for made before."""
    from flask import url_for

    with app.test_request_context():
        base = url_for("datasets.dataset_view", dataset_id=7)
        assert query(base, **args) == url_for("datasets.dataset_view", dataset_id=7, **args)
