"""The type guess reads each shape of number once per reading (``123,45`` and ``987,65`` are
one shape): its answers must be exactly those of reading every sampled text, for the counts
of each reading, the integer and real fits, and the decimal-mark question."""

from hypothesis import given, settings
from hypothesis import strategies as st

from server.importers.readings import (
    PLAIN,
    Reading,
    _fit,
    _fit_count,
    _number_readings,
    _shapes,
    guess_column,
    parse_number,
    reader,
)

# Digits weighted towards 0 and 9 (zeros and nines are where a shape could mislead), the marks
# people group and split numbers with, signs, units, an exponent, a letter.
CHARS = "0000999912345678.,,'  \u00a0%€-+eEx"
texts = st.text(alphabet=CHARS, min_size=1, max_size=22)
columns = st.lists(texts, min_size=1, max_size=60) | st.lists(
    st.sampled_from(
        [
            *("1.234,56", "1,234.56", "1 234,5", "1'234.50", "007", "0,000", "9" * 16),
            *("9" * 15 + ".0", "12,5 %", "€ 12", "1e308", "9e999", "1,5", "1,234", "0", "+7"),
        ]
    ),
    min_size=1,
    max_size=40,
)


def naive_count(values: list[str], reading: Reading, spare: int | None) -> int:
    misses = sum(parse_number(v, reading) is None for v in values)
    return -1 if spare is not None and misses > spare else len(values) - misses


def naive_fit(kind: str, reading: Reading, values: list[str], spare: int) -> int:
    read = reader(kind, reading)
    misses = sum(read(v) is None for v in values)
    return 0 if misses > spare else len(values) - misses


@settings(max_examples=300, deadline=None)
@given(columns, st.integers(min_value=0, max_value=30))
def test_counts_and_fits_by_shape_are_those_of_every_text(values, spare):
    shapes = _shapes(values)
    for reading in _number_readings(values):
        assert _fit_count(values, reading, spare, shapes) == naive_count(values, reading, spare)
        assert _fit_count(values, reading, None, shapes) == naive_count(values, reading, None)
        for kind in ("integer", "real"):
            assert _fit(kind, reading, values, [], spare, shapes) == naive_fit(
                kind, reading, values, spare
            )


@settings(max_examples=300, deadline=None)
@given(columns)
def test_the_guess_is_the_one_every_text_gives(values):
    point, comma = Reading("", ".", ","), Reading("", ",", ".")
    differ = any(parse_number(v, point) != parse_number(v, comma) for v in values)
    shaped = _shapes(values)
    assert differ == any(
        parse_number(v, point) != parse_number(v, comma) for v in (*shaped[0], *shaped[1])
    )
    guess = guess_column(values)
    plain = {k: naive_fit(k, guess.reading, values, len(values)) for k in ("integer", "real")}
    if guess.kind in plain:
        assert guess.fit == plain[guess.kind]


def test_one_shape_stands_for_the_texts_it_covers():
    shapes, rest = _shapes(["123,45", "987,65", "100,05", "1e5", "1234567890123456"])
    assert shapes == {"111,11": 2, "100,01": 1}
    assert rest == ["1e5", "1234567890123456"]
    assert parse_number("100,05", Reading("", ",", "")) == 100.05
    codes = ["007", "123"]
    assert _fit_count(codes, PLAIN, None, _shapes(codes)) == 1  # a leading 0 stays in the shape
