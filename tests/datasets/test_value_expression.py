"""The insert's SQL for a bound value (``CASE ?n WHEN '' THEN NULL ELSE ?n END``, cheaper than
a function call) stores exactly what ``NULLIF(?n, '')`` stores, type and value, in a column of
every storage type."""

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from server.datasets.storage import STORAGE_TYPES, value_expression

values = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "0", "00", "-0", "1.0", "1e3", "nan", "''", "NULL", "\x00", "é"]),
    st.text(max_size=12),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.binary(max_size=4),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(values, min_size=1, max_size=30))
def test_a_bound_value_is_stored_as_nullif_stores_it(cells):
    kinds = sorted({k for k in STORAGE_TYPES if k not in ("boolean", "datetime")})
    con = sqlite3.connect(":memory:")
    for kind in kinds:
        con.execute(f"CREATE TABLE a_{kind} (v {STORAGE_TYPES[kind]})")
        con.execute(f"CREATE TABLE b_{kind} (v {STORAGE_TYPES[kind]})")
        expression = value_expression("?1", kind)
        assert expression.startswith("CASE ?1 WHEN '' THEN NULL")
        con.executemany(f"INSERT INTO a_{kind} VALUES ({expression})", [(c,) for c in cells])
        con.executemany(f"INSERT INTO b_{kind} VALUES (NULLIF(?1, ''))", [(c,) for c in cells])
        read = "SELECT typeof(v), quote(v) FROM {} ORDER BY rowid"
        assert (
            con.execute(read.format(f"a_{kind}")).fetchall()
            == con.execute(read.format(f"b_{kind}")).fetchall()
        )


def test_an_expression_keeps_nullif_which_reads_it_once():
    assert value_expression("upper(c1)", "text") == "NULLIF(upper(c1), '')"
