"""Files as offices in other countries write them, imported with the defaults through the web
routes and read back value by value through the API: every value arrives typed, or as written
and flagged; none is emptied unless the person chose it. Each case of the "faithful import"
issue is here as a regression test. The files are made by the tests."""

from __future__ import annotations

import io
import re

import pytest

from server.models import Dataset, ImportJob
from tests.datasets.helpers import preview_form, run_import, upload
from tests.importers.helpers import api_rows, columns


def imported(app, client, text: str, encoding="utf-8", name="data.csv", **changes):
    job = run_import(app, client, text.encode(encoding), name, confirmed="1", **changes)
    assert job.status == "done", job.message
    return job, api_rows(client, job.dataset.id), columns(client, job.dataset.id)


# --- generated locale files, one per convention ------------------------------------------------

CASES = {
    "german": (
        "Datum;Betrag;Bezahlt;Uhrzeit\n"
        "09.03.2024;1.234,56;ja;09.03.2024 14:05\n"
        "31.12.2023;343,36;nein;31.12.2023 08:00\n"
        "01.02.2024;-12,5;Ja;01.02.2024 23:59\n",
        [
            ("date", ""),
            ("real", ""),
            ("boolean", ""),
            ("datetime", ""),
        ],
        [
            ["2024-03-09", 1234.56, 1, "2024-03-09 14:05:00"],
            ["2023-12-31", 343.36, 0, "2023-12-31 08:00:00"],
            ["2024-02-01", -12.5, 1, "2024-02-01 23:59:00"],
        ],
    ),
    "us": (
        "Visit,Fee,Paid,At\n"
        '03/13/2024,"1,234.50",yes,3/13/2024 2:30 PM\n'
        "12/01/2023,99.00,no,12/1/2023 12:15 AM\n"
        "1/2/24,+5,Y,1/2/2024 11:59 pm\n",
        [("date", ""), ("real", ""), ("boolean", ""), ("datetime", "")],
        [
            ["2024-03-13", 1234.5, 1, "2024-03-13 14:30:00"],
            ["2023-12-01", 99.0, 0, "2023-12-01 00:15:00"],
            ["2024-01-02", 5.0, 1, "2024-01-02 23:59:00"],
        ],
    ),
    "french": (
        "jour;montant;payé;taux\n"
        "7 mars 2024;1 234,56;oui;12,5 %\n"
        "1er mars 2024;;non;3 %\n"
        "15 févr. 2024;12;non;100 %\n",
        [("date", ""), ("real", ""), ("boolean", ""), ("real", "%")],
        [
            ["2024-03-07", 1234.56, 1, 12.5],
            ["2024-03-01", None, 0, 3.0],
            ["2024-02-15", 12.0, 0, 100.0],
        ],
    ),
    "swiss": (
        "Tag,Preis,Bestand\n2024-03-11,1'234.50,CHF 10\n2024-03-12,12.00,CHF 1'200\n",
        [("date", ""), ("real", ""), ("integer", "CHF")],
        [["2024-03-11", 1234.5, 10], ["2024-03-12", 12.0, 1200]],
    ),
    "months": (
        'when,who\n07 Mar 2024,a\n7. März 2024,b\n3 de marzo de 2024,c\n"March 7, 2024",d\n'
        "1 maggio 2024,e\n2 maio 2024,f\n3 mei 2024,g\n4 maja 2024,h\n",
        [("date", ""), ("text", "")],
        [
            ["2024-03-07", "a"],
            ["2024-03-07", "b"],
            ["2024-03-03", "c"],
            ["2024-03-07", "d"],
            ["2024-05-01", "e"],
            ["2024-05-02", "f"],
            ["2024-05-03", "g"],
            ["2024-05-04", "h"],
        ],
    ),
    "yes_no": (
        "a,b,c,d,e\nja,oui,sí,sim,tak\nnein,non,no,não,nie\nJa,Oui,Si,Sim,Tak\n",
        [("boolean", "")] * 5,
        [[1] * 5, [0] * 5, [1] * 5],
    ),
    "offsets": (
        "at\n2024-03-11T10:00:00+01:00\n11.03.2024 10:00 +0530\n2024-03-11 10:00Z\n",
        [("datetime", "")],
        [
            ["2024-03-11 10:00:00+01:00"],
            ["2024-03-11 10:00:00+05:30"],
            ["2024-03-11 10:00:00Z"],
        ],
    ),
    "euro_signs": (
        "Betrag;Wer\n€ 12,50;a\n€ 1.200,00;b\n-€ 3;c\n",
        [("real", "€"), ("text", "")],
        [[12.5, "a"], [1200.0, "b"], [-3.0, "c"]],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_locale_file_arrives_typed_value_by_value(app, editor_client, people, case):
    text, kinds, expected = CASES[case]
    job, rows, cols = imported(app, editor_client, text)
    assert [(c["type"], c.get("unit", "")) for c in cols] == kinds
    names = [c["name"] for c in cols]
    assert [[row[n] for n in names] for row in rows] == expected
    assert job.problem_count == 0


def test_two_digit_years_follow_excels_pivot(app, editor_client, people):
    _, rows, cols = imported(app, editor_client, "d\n31/12/29\n01/01/30\n15/06/99\n")
    assert cols[0]["type"] == "date"
    assert [r["c1"] for r in rows] == ["2029-12-31", "1930-01-01", "1999-06-15"]


# --- the cases at the top of the issue ---------------------------------------------------------


def test_appointments_with_three_date_forms_keep_every_date(app, editor_client, people):
    lines = ["patient,visit"]
    forms = ["{d:02d}/{m:02d}/2024", "{d:02d} {mon} 2024", "2024-{m:02d}-{d:02d}"]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    expected = []
    for i in range(600):
        d, m = i % 28 + 1, i % 12 + 1
        lines.append(f"P{i}," + forms[i % 3].format(d=d, m=m, mon=months[m - 1]))
        expected.append(f"2024-{m:02d}-{d:02d}")
    job, rows, cols = imported(app, editor_client, "\n".join(lines) + "\n")
    assert cols[1]["type"] == "date" and job.problem_count == 0
    assert [r["c2"] for r in rows] == expected


def test_a_us_file_is_read_month_first_when_its_values_say_so(app, editor_client, people):
    _, rows, _ = imported(app, editor_client, "d\n03/03/2024\n04/13/2024\n12/01/2024\n")
    assert [r["c1"] for r in rows] == ["2024-03-03", "2024-04-13", "2024-12-01"]


def test_a_semicolon_cp1252_file_keeps_all_its_values(app, editor_client, people):
    text = "Name;Betrag;Datum;Aktiv;Ort\n" + "".join(
        f"Müller {i};{i},36;09.03.2024;{'ja' if i % 2 else 'nein'};Köln\n" for i in range(800)
    )
    job, rows, cols = imported(app, editor_client, text, encoding="cp1252")
    assert [c["type"] for c in cols] == ["text", "real", "date", "boolean", "text"]
    assert job.problem_count == 0 and len(rows) == 800 and job.rows == 800
    assert rows[5] == {"c1": "Müller 5", "c2": 5.36, "c3": "2024-03-09", "c4": 1, "c5": "Köln"}


def test_odd_values_no_longer_make_a_column_text(app, editor_client, people):
    text = "n\n" + "".join(f"{i}\n" for i in range(60)) + "n/a\nunknown\nmaybe\n"
    job, rows, cols = imported(app, editor_client, text)
    assert cols[0]["type"] == "integer"
    values = [r["c1"] for r in rows]
    assert values[:60] == list(range(60))
    assert values[60:] == [None, "unknown", "maybe"]  # n/a: missing; the others kept, flagged
    assert job.problem_count == 2
    outcome = job.outcome_dict
    assert outcome["misfits"] == {"n": 2} and outcome["missing"] == {"n": 1}
    page = editor_client.get(f"/import/{job.id}").get_data(as_text=True)
    assert "notice-warning" in page and "notice-success" not in page
    assert "kept as written, flagged" in page
    link = re.search(r'href="([^"]*c1\.misfit=1[^"]*)"', page).group(1).replace("&amp;", "&")
    shown = editor_client.get(link).get_data(as_text=True)
    assert "2 of 63 rows match" in shown and "maybe" in shown


def test_the_preview_shows_fit_counts_and_asks_before_flagging(app, editor_client, people):
    text = "n\n" + "".join(f"{i}\n" for i in range(150)) + "".join(f"x{i}\n" for i in range(4))
    text += "a\nb\nc\n"
    response = upload(editor_client, text.encode(), "odd.csv")
    job_id = int(response.headers["Location"].split("/")[2])
    page = editor_client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    assert 'data-fit="150" data-sampled="157"' in page  # 95.5%: a whole-number column
    assert "<code>x0</code>" in page
    form = preview_form(editor_client, job_id)
    asked = editor_client.post(f"/import/{job_id}/preview", data={**form, "action": "import"})
    assert asked.status_code == 200 and "data-ask-first" in asked.get_data(as_text=True)
    assert ImportJob.get_by_id(job_id).status == "ready"  # nothing imported yet
    done = editor_client.post(
        f"/import/{job_id}/preview", data={**form, "action": "import", "confirmed": "1"}
    )
    assert done.status_code == 302
    assert app.extensions["sheaf.imports"].wait(job_id, 30)  # not left running into the next test
    assert ImportJob.get_by_id(job_id).problem_count == 7


def test_the_missing_markers_are_adjustable_on_the_preview(app, editor_client, people):
    job, rows, _ = imported(app, editor_client, "n\n1\n2\n-\nNA\n", missing="NA")
    assert [r["c1"] for r in rows] == [1, 2, "-", None]  # "-" is no marker now: kept, flagged
    assert job.problem_count == 1


def test_the_order_of_an_ambiguous_column_is_asked_and_can_be_changed(app, editor_client, people):
    body = b"d\n03/04/2024\n05/06/2024\n"
    response = upload(editor_client, body, "d.csv")
    job_id = int(response.headers["Location"].split("/")[2])
    page = editor_client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    assert 'data-question="order"' in page and "day first" in page
    form = preview_form(editor_client, job_id)
    assert form["order_0"] == "dmy"
    editor_client.post(f"/import/{job_id}/preview", data={**form, "order_0": "mdy"})
    form = preview_form(editor_client, job_id)
    form["order_0"] = "mdy"
    done = editor_client.post(f"/import/{job_id}/preview", data={**form, "action": "import"})
    assert done.status_code == 302
    assert app.extensions["sheaf.imports"].wait(job_id, 30)
    dataset = ImportJob.get_by_id(job_id).dataset
    assert [r["c1"] for r in api_rows(editor_client, dataset.id)] == ["2024-03-04", "2024-05-06"]


def test_the_decimal_mark_of_an_ambiguous_column_can_be_changed(app, editor_client, people):
    text = 'n;m\n"1,234";a\n"2,500";b\n'
    _, rows, cols = imported(app, editor_client, text)
    assert [r["c1"] for r in rows] == [1234, 2500]  # a point decides when nothing else does
    _, rows, cols = imported(app, editor_client, text, decimal_0=",")
    assert [r["c1"] for r in rows] == [1.234, 2.5] and cols[0]["type"] == "real"


def test_a_change_of_sheet_guesses_the_types_again(app, editor_client, people, tmp_path):
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    for title, rows in (
        ("Names", [["name"], ["Ada"], ["Grace"]]),
        ("Figures", [["amount"], [1.5], [2.25]]),
    ):
        sheet = book.add_worksheet(title)
        for number, row in enumerate(rows):
            sheet.write_row(number, 0, row)
    book.close()
    response = upload(editor_client, buffer.getvalue(), "two.xlsx")
    job_id = int(response.headers["Location"].split("/")[2])
    form = preview_form(editor_client, job_id)
    assert form["type_0"] == "text"
    page = editor_client.post(
        f"/import/{job_id}/preview", data={**form, "sheet": "Figures", "action": "refresh"}
    ).get_data(as_text=True)
    assert re.search(r'<option value="real" selected>', page)
    form = preview_form(editor_client, job_id, page)
    assert form["type_0"] == "real"
    done = editor_client.post(f"/import/{job_id}/preview", data={**form, "action": "import"})
    assert done.status_code == 302
    assert app.extensions["sheaf.imports"].wait(job_id, 30)
    dataset = ImportJob.get_by_id(job_id).dataset
    assert [r["c1"] for r in api_rows(editor_client, dataset.id)] == [1.5, 2.25]


def test_excel_error_cells_are_listed_per_column(app, editor_client, people, tmp_path):
    from tests.importers.helpers import minimal_workbook

    cells = [["item", "ratio"]] + [[f"i{n}", n / 4] for n in range(40)]
    cells += [["b", ("e", "#DIV/0!")], ["c", ("e", "#N/A")]]
    path = minimal_workbook(tmp_path / "e.xlsx", cells)
    job = run_import(app, editor_client, path.read_bytes(), "e.xlsx", confirmed="1")
    assert job.status == "done"
    rows = api_rows(editor_client, job.dataset.id)
    assert [r["c2"] for r in rows] == [n / 4 for n in range(40)] + ["#DIV/0!", None]
    assert job.outcome_dict["excel_errors"] == {"ratio": 2}
    page = editor_client.get(f"/import/{job.id}").get_data(as_text=True)
    assert "2 (such as #DIV/0!), kept as written" in page
    assert Dataset.get_by_id(job.dataset.id).row_count == 42


def test_the_change_type_step_reads_values_as_an_import_does(app, editor_client, people):
    from tests.helpers import make_dataset

    body = 'd,n\n09.03.2024,"1.234,56"\n31.12.2023,"343,36"\nsoon,x\n'
    dataset = make_dataset(app, people["editor"], body, name="Later")  # text: 1 in 3 odd
    for column, kind in (("c1", "date"), ("c2", "real")):
        version = Dataset.get_by_id(dataset.id).version
        answer = editor_client.post_form(
            f"/datasets/{dataset.id}/clean",
            {"kind": "cast", "column": column, "type": kind, "version": version},
        )
        assert answer.status_code == 302
    rows = api_rows(editor_client, dataset.id)
    assert [(r["c1"], r["c2"]) for r in rows] == [
        ("2024-03-09", 1234.56),
        ("2023-12-31", 343.36),
        ("soon", "x"),  # kept as written, flagged
    ]


def test_a_thousand_written_with_groups_after_a_sample_without_them_is_read(
    app, editor_client, people
):
    """The sample (the file's first rows) shows only small decimal-comma numbers; in a
    decimal-comma column a point can only group thousands, so later rows' ``1.000,5`` and
    ``1.000`` are read as a thousand and a half and a thousand, nothing flagged."""
    lines = ["n;Wert"] + [f"{i};{i % 97},{i % 10}" for i in range(1, 3001)]
    lines += ["3001;1.000,5", "3002;12.345.678,25", "3003;1.000"]
    job, rows, cols = imported(app, editor_client, "\n".join(lines) + "\n", name="wert.csv")
    assert cols[1]["type"] == "real"
    assert [r["c2"] for r in rows[:3]] == [1.1, 2.2, 3.3]
    last = editor_client.get(f"/api/v1/datasets/{job.dataset.id}/rows?sort=c1&dir=desc&limit=3")
    assert [r["c2"] for r in last.get_json()["rows"]] == [1000.0, 12345678.25, 1000.5]
    assert job.problem_count == 0
