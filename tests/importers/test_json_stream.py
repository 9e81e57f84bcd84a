"""JSON is read one record at a time: across chunk boundaries, in its three table shapes."""

import json

import pytest

from server.importers import Limits, ReadOptions, UnreadableFile, inspect_file, iter_rows, jsonfile


def read_all(path, limits=None):
    sample = inspect_file(path, limits=limits)
    problems = []
    rows = list(
        iter_rows(
            path,
            sample.options,
            len(sample.labels),
            lambda n, m: problems.append((n, m)),
            limits=limits,
        )
    )
    return sample, rows, problems


def test_a_large_array_streams_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(jsonfile, "CHUNK", 64)  # force many refills, mid-token
    records = [
        {"id": i, "name": f"n{i}", "score": i / 3, "tags": ["a", {"b": i}]} for i in range(500)
    ]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(records, indent=1))
    sample, rows, problems = read_all(path)
    assert sample.labels == ["id", "name", "score", "tags"]
    assert len(rows) == 500 and problems == []
    assert rows[499][:3] == [499, "n499", 499 / 3]
    assert json.loads(rows[7][3]) == ["a", {"b": 7}]
    assert "Nested values are kept as JSON text." in sample.warnings


def test_json_lines_and_an_object_holding_records(tmp_path):
    lines = tmp_path / "x.jsonl"
    lines.write_text('{"a": 1}\n{"a": 2, "b": "x"}\n\n{"b": "y"}\n')
    sample, rows, _ = read_all(lines)
    assert sample.labels == ["a", "b"] and rows == [[1, None], [2, "x"], [None, "y"]]
    wrapped = tmp_path / "w.json"
    wrapped.write_text('{"meta": 1, "records": [{"a": 1}, {"a": 2}]}')
    assert read_all(wrapped)[1] == [[1], [2]]


def test_arrays_with_a_header_array(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('[["id", "name"], [1, "a"], [2, "b", "extra"]]')
    sample, rows, _ = read_all(path)
    assert sample.labels == ["id", "name"] and rows == [[1, "a"], [2, "b"]]


def test_fields_first_seen_after_the_sample_are_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(jsonfile, "SAMPLE_ROWS", 2)
    path = tmp_path / "late.json"
    path.write_text('[{"a": 1}, {"a": 2}, {"a": 3, "late": 4}]')
    _, rows, problems = read_all(path)
    assert rows == [[1], [2], [3]]
    assert problems == [(3, "has fields not seen in the first records, dropped: late")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"a": Infinity}]', "Infinity, which is not a JSON number"),
        ('[{"a": 1e999}]', "too large"),
        ('[{"a": 1}] trailing', "more text after the end"),
        ('[{"a": 1} {"a": 2}]', "expected ',' or ']'"),
        ("[1, 2]", "Record 1 is int"),
        ('"just text"', "single value, not a table"),
        ("[]", "holds no records"),
    ],
)
def test_json_that_is_not_a_table_is_refused(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(UnreadableFile, match=message):
        read_all(path)


def test_depth_is_limited_by_the_setting(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('[{"a": {"b": {"c": 1}}}]')
    assert read_all(path, Limits(json_max_depth=3))[1] == [['{"b": {"c": 1}}']]
    with pytest.raises(UnreadableFile, match="nested more than 2 levels"):
        read_all(path, Limits(json_max_depth=2))


def test_a_lone_surrogate_is_stored_as_a_replacement_character(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('[{"a": "x\\udfaay"}]')
    assert read_all(path)[1] == [["x\ufffdy"]]


def test_encoding_can_be_chosen(tmp_path):
    path = tmp_path / "latin.json"
    path.write_bytes('[{"name": "café"}]'.encode("cp1252"))
    sample = inspect_file(path, ReadOptions(format="json", encoding="cp1252"))
    assert sample.rows == [["café"]]


def test_records_without_fields_are_refused_with_a_message(tmp_path):
    from server.importers import UnreadableFile, inspect_file

    path = tmp_path / "empty-records.json"
    path.write_text("[{}, {}]")
    with pytest.raises(UnreadableFile, match="holds no columns"):
        inspect_file(path)
