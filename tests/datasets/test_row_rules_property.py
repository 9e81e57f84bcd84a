"""The property row rules promise: for random datasets, rules and people, a person limited by
rules receives every row inside them and never a value from a row outside them, on the table
pages, search, every export format, the API, facets, summaries (their counts too), the profile
and charts (compared with a plain-Python filter of the same rows)."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.parse
import zipfile
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.datasets import row_rules
from server.datasets.sharing import share
from server.models import RowRule, User
from tests.helpers import make_dataset, make_role, make_user, signed_in

WHO = ["ann", "bob", "cy", "Ann Ash"]
TAGS = ["red", "green", "blue"]
PEOPLE = {"ann": "Ann Ash", "bob": "Bob Birch"}
COLUMNS = {"who": "c2", "tag": "c3"}

rows_strategy = st.lists(
    st.tuples(st.sampled_from(WHO), st.sampled_from(TAGS)), min_size=1, max_size=25
)
rule_strategy = st.tuples(
    st.sampled_from(["ann", "bob", "Staff"]),  # a person, or the role
    st.sampled_from(["who", "tag"]),
    st.sampled_from(["value", "one_of", "user_name", "display_name"]),
    st.lists(st.sampled_from(WHO + TAGS), min_size=1, max_size=3, unique=True),
)


@pytest.fixture
def clinic_people(app, people):
    staff = make_role("Staff", ["datasets.export"])
    for login, name in PEOPLE.items():
        make_user(login, staff, display_name=name)
    clients = {login: signed_in(app, login) for login in PEOPLE}
    return staff, clients


def expected_rows(data, rules, login: str) -> set[str]:
    """The secrets of the rows ``login`` should see, worked out in plain Python."""
    user = User.get(User.login == login)
    mine = [r for r in rules if r[0] in (login, "Staff")]
    if not mine:
        return {secret for _, _, secret in data}
    seen = set()
    for who, tag, secret in data:
        values = {"who": who, "tag": tag}
        for _, column, kind, wanted in mine:
            allowed = {
                "value": wanted[:1],
                "one_of": wanted,
                "user_name": [user.login],
                "display_name": [user.display_name],
            }[kind]
            if values[column] in allowed:
                seen.add(secret)
    return seen


def checker(login: str, expected: set[str], hidden: set[str]):
    """A check that what ``login`` received holds no hidden row (and, if ``complete``, every
    row they should see)."""

    def check(received: set[str], complete: bool = True) -> None:
        assert not received & hidden, (login, received & hidden)
        if complete:
            assert received == expected, (login, received, expected)

    return check


def secrets_in(text: str) -> set[str]:
    return set(re.findall(r"sec\d+q", text))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=rows_strategy,
    rules=st.lists(rule_strategy, max_size=3),
    who=st.sampled_from(WHO),
    tags=st.lists(st.sampled_from(TAGS), min_size=1, max_size=2, unique=True),
)
def test_a_limited_person_gets_exactly_their_rows(
    app, people, clinic_people, data, rules, who, tags
):
    staff, clients = clinic_people
    rows = [(who, tag, f"sec{n}q") for n, (who, tag) in enumerate(data)]
    text = "id,who,tag,secret\n" + "".join(
        f"{n},{who},{tag},{secret}\n" for n, (who, tag, secret) in enumerate(rows)
    )
    dataset = make_dataset(app, people["editor"], text, name="Visits")
    share(dataset, by=people["editor"], role=staff)
    RowRule.delete().execute()
    for target, column, kind, wanted in rules:
        whom = {"role": staff} if target == "Staff" else {"user": User.get(User.login == target)}
        row_rules.add_rule(
            dataset,
            column=COLUMNS[column],
            kind=kind,
            values=wanted[:1] if kind == "value" else wanted,
            data_dir=app.config["DATA_DIR"],
            **whom,
        )
    every = {secret for *_, secret in rows}
    base = f"/datasets/{dataset.id}"
    for login, client in clients.items():
        expected = expected_rows(rows, rules, login)
        check = checker(login, expected, every - expected)
        page = client.get(base).get_data(as_text=True)
        check(secrets_in(page))
        assert f"{len(expected)} row" in page
        check(secrets_in(client.get(f"{base}?sort=c4&dir=desc").get_data(as_text=True)))
        check(secrets_in(client.get(f"{base}?c3.in=red|green|blue").get_data(as_text=True)))
        # Filters on the rules' own columns (values inside the rules or not), sorted or not.
        wanted = {s for w, t, s in rows if s in expected and w == who and t in tags}
        query = urllib.parse.urlencode({"c2.eq": who, "c3.in": "|".join(tags)})
        for order in ("", "&sort=c3", "&sort=c4&dir=desc"):
            page = client.get(f"{base}?{query}{order}").get_data(as_text=True)
            assert secrets_in(page) == wanted, (login, who, tags, order)
            assert f"{len(wanted)} of {len(expected)} row" in page, (login, order)
        for n in range(3):  # a search for some rows' words (not echoing one in the search box)
            found = secrets_in(client.get(f"{base}?q=sec{n}").get_data(as_text=True))
            assert found == {s for s in expected if s.startswith(f"sec{n}")}, (login, n)
        answer = client.get(f"/api/v1/datasets/{dataset.id}/rows?limit=1000").get_json()
        check({r["c4"] for r in answer["rows"]})
        assert answer["matching"] == answer["total"] == len(expected)
        exported = client.get(f"{base}/export?format=csv").get_data(as_text=True)
        check({r[3] for r in list(csv.reader(io.StringIO(exported)))[1:]})
        check({r["secret"] for r in json.loads(client.get(f"{base}/export?format=json").data)})
        sheet = zipfile.ZipFile(io.BytesIO(client.get(f"{base}/export?format=xlsx").data))
        check(secrets_in("".join(sheet.read(n).decode() for n in sheet.namelist())))
        check(secrets_in(client.get(f"{base}/profile").get_data(as_text=True)), complete=False)
        for column in ("c2", "c4"):
            chart = client.get(f"{base}/chart?kind=bar&column={column}").get_data(as_text=True)
            check(secrets_in(chart), complete=False)
        api = f"/api/v1/datasets/{dataset.id}"
        seen = [(who, tag) for who, tag, secret in rows if secret in expected]
        facet = client.get(f"{api}/facets/c2").get_json()
        assert {i["label"]: i["count"] for i in facet["items"]} == Counter(w for w, _ in seen)
        check(secrets_in(client.get(f"{base}/facets/c4").get_data(as_text=True)), complete=False)
        summary = client.get(f"{api}/summary?by=c4&fn1=count").get_json()
        check({key for key, _count in summary["rows"]})
        summary = client.get(f"{api}/summary?by=c2&then=c3&fn1=count").get_json()
        assert {(w, t): n for w, t, n in summary["rows"]} == Counter(seen), login
        check(secrets_in(client.get(f"{base}/summary.csv?by=c4&fn1=count").get_data(as_text=True)))
        who_chart = client.get(f"{base}/chart.svg?kind=bar&column=c2").get_data(as_text=True)
        seen_who = {who for who, _, secret in rows if secret in expected}
        for who in set(WHO) - seen_who:
            assert f">{who}<" not in who_chart, (login, who)
