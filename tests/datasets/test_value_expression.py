"""The insert's SQL for a bound value (``CASE ?n WHEN '' THEN NULL ELSE ?n END``, cheaper than
a function call) stores exactly what ``NULLIF(?n, '')`` stores, type and value, in a column of
every storage type."""

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from server.datasets.loading.bulk_load import bulk_insert, new_table
from server.datasets.storage import STORAGE_TYPES, make_columns, value_expression
from server.importers.types import BOOLEAN_SPELLINGS

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


yes_no = st.one_of(
    st.sampled_from(sorted(BOOLEAN_SPELLINGS)), st.sampled_from(["", "x", "2", "'", "ja'"])
)


@settings(max_examples=100, deadline=None)
@given(st.lists(yes_no, min_size=1, max_size=20), st.lists(yes_no, max_size=6))
def test_a_yes_no_column_stores_the_same_whichever_words_come_first(cells, first):
    """The bulk load puts the words of a column's first rows first in its CASE (and ignores
    any that are not yes/no words): the stored values are those of the usual order."""
    con = sqlite3.connect(":memory:")
    stored = []
    for words in ((), first):
        con.execute("DROP TABLE IF EXISTS t")
        con.execute(f"CREATE TABLE t (v {STORAGE_TYPES['boolean']})")
        expression = value_expression("?1", "boolean", words)
        con.executemany(f"INSERT INTO t VALUES ({expression})", [(c,) for c in cells])
        stored.append(con.execute("SELECT typeof(v), quote(v) FROM t ORDER BY rowid").fetchall())
    assert stored[0] == stored[1]


def test_the_words_a_column_uses_are_compared_first():
    expression = value_expression("?5", "boolean", ["nein", "ja", "maybe'", "nein"])
    assert expression.startswith("CASE ?5 WHEN 'nein' THEN 0 WHEN 'ja' THEN 1 WHEN 'true'")
    assert expression.count("WHEN 'ja' ") == 1 and "maybe" not in expression


def test_the_bulk_insert_compares_a_columns_own_words_first():
    con = sqlite3.connect(":memory:", isolation_level=None)
    columns = make_columns(["n", "active"], ["integer", "boolean"])
    new_table(con, columns)
    statements = []
    con.set_trace_callback(statements.append)
    rows = [["1", "nein"], ["2", "ja"], ["3", "nein"], ["4", ""]]
    bulk_insert(con, columns, [list(r) for r in rows], None)
    insert = next(s for s in statements if s.startswith("INSERT"))
    assert "CASE 'nein' WHEN 'nein' THEN 0 WHEN 'ja' THEN 1 WHEN 'true'" in insert  # bound
    assert con.execute("SELECT c1, c2 FROM rows ORDER BY rowid").fetchall() == [
        (1, 0),
        (2, 1),
        (3, 0),
        (4, None),
    ]
