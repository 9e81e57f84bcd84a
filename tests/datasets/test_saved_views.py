"""Saved views: kept by column identity, shared or personal, opened after the dataset changed
(rename, drop, change of type, rows replaced), renamed and deleted by the right people, also
two at once."""

from __future__ import annotations

import threading
from urllib.parse import parse_qsl, urlsplit

import pytest

from server.datasets import layouts, saved_views
from server.datasets.catalog import columns_of
from server.datasets.cleaning.steps import apply_step
from server.datasets.reading import browse
from server.datasets.sharing import share
from server.db import database
from server.models import AuditEvent, Dataset, SavedView
from tests.datasets.helpers import run_import
from tests.helpers import make_dataset, signed_in

CSV = (
    "id,doctor,visits,seen\n"
    "1,Dr. Chen,3,2024-01-02\n"
    "2,Dr. Adams,5,2024-02-03\n"
    "3,Dr. Chen,7,2024-03-04\n"
)
ARGS = {"c2.eq": "Dr. Chen", "c3.min": "4", "sort": "c4", "dir": "desc", "q": "Chen"}


@pytest.fixture
def dataset(app, people):
    with app.app_context():
        return make_dataset(app, people["editor"], CSV, name="Appointments")


def fresh(dataset: Dataset) -> Dataset:
    return Dataset.get_by_id(dataset.id)


def save(app, dataset, user, name="Chen", args=ARGS, shared=False, layout=None):
    with app.test_request_context():
        view = browse.View.from_args(args, columns_of(dataset))
        return saved_views.save_view(user, fresh(dataset), name, view, layout, shared=shared)


def opened(app, saved):
    with app.test_request_context():
        return saved_views.open_view(
            SavedView.get_by_id(saved.id), fresh(Dataset.get_by_id(saved.dataset_id))
        )


def step(app, dataset, kind, user, **params):
    with app.test_request_context():
        current = fresh(dataset)
        apply_step(current, kind, params, user, app.config["DATA_DIR"], current.version)


def test_a_saved_view_opens_as_it_was_saved(app, dataset, people):
    layout = layouts.Layout(order=("c4", "c2", "c1", "c3"), hidden=frozenset({"c1"}))
    saved = save(app, dataset, people["editor"], layout=layout)
    result = opened(app, saved)
    assert result.problems == []
    assert result.args == ARGS
    assert result.layout.order == ("c4", "c2", "c1", "c3")
    assert result.layout.hidden == {"c1"}
    assert saved_views.in_words(SavedView.get_by_id(saved.id)) == (
        "search “Chen” · doctor is “Dr. Chen” · visits at least “4” · sorted by seen, "
        "newest first · 3 of 4 columns"
    )
    event = AuditEvent.get(AuditEvent.action == "view.saved")
    assert event.details_dict == {"view": saved.id, "name": "Chen", "shared": False}
    assert event.object_id == str(dataset.id)


def test_names_are_cleaned_and_unique_per_person_and_dataset(app, dataset, people):
    save(app, dataset, people["editor"], name="  Chen   only ")
    assert SavedView.get().name == "Chen only"
    with pytest.raises(saved_views.ViewError, match="already have a view called CHEN ONLY"):
        save(app, dataset, people["editor"], name="CHEN ONLY")
    share(dataset, user=people["viewer"], by=people["editor"])
    save(app, dataset, people["viewer"], name="Chen only")  # another person: their own
    with pytest.raises(saved_views.ViewError, match="Give the view a name"):
        save(app, dataset, people["editor"], name="   ")
    with pytest.raises(saved_views.ViewError, match="at most 100"):
        save(app, dataset, people["editor"], name="x" * 101)
    assert SavedView.select().count() == 2


def test_a_renamed_column_keeps_the_view_working(app, dataset, people):
    saved = save(app, dataset, people["editor"])
    step(app, dataset, "rename", people["editor"], column="c2", label="Physician")
    result = opened(app, saved)
    assert result.problems == []
    assert result.args["c2.eq"] == "Dr. Chen"


def test_a_dropped_column_is_named_in_words(app, dataset, people):
    saved = save(app, dataset, people["editor"])
    step(app, dataset, "drop", people["editor"], column="c2")
    result = opened(app, saved)
    assert result.problems == [
        "It searches for “Chen”, and this dataset has no text columns now.",
        "It keeps the rows where doctor is “Dr. Chen”, and this dataset no longer has a "
        "column doctor.",
    ]
    assert result.args == {"c3.min": "4", "sort": "c4", "dir": "desc"}


def test_a_sort_column_dropped(app, dataset, people):
    saved = save(app, dataset, people["editor"], args={"sort": "c4"})
    step(app, dataset, "drop", people["editor"], column="c4")
    assert opened(app, saved).problems == [
        "It is sorted by seen, a column this dataset no longer has."
    ]


def test_a_changed_type_that_no_longer_fits_the_filter_says_why(app, dataset, people):
    saved = save(app, dataset, people["editor"], args={"c3.min": "4"})
    step(app, dataset, "cast", people["editor"], column="c3", type="text")
    assert opened(app, saved).problems == [
        "It keeps the rows where visits at least “4”, which does not apply now that visits "
        "holds text values."
    ]
    other = save(app, dataset, people["editor"], name="Adams", args={"c2.eq": "Dr. Adams"})
    step(app, dataset, "cast", people["editor"], column="c2", type="integer")
    problems = opened(app, other).problems
    assert problems == [
        "Its filter no longer fits doctor (it was text): doctor: “Dr. Adams” is not a whole number."
    ]


def test_a_changed_type_that_still_fits_keeps_working(app, dataset, people):
    saved = save(app, dataset, people["editor"], args={"c3.eq": "5"})
    step(app, dataset, "cast", people["editor"], column="c3", type="real")
    assert opened(app, saved).problems == []
    assert opened(app, saved).args == {"c3.eq": "5"}


def test_after_the_rows_are_replaced_columns_are_found_by_name(app, editor_client, people):
    job = run_import(app, editor_client, CSV.encode(), "jan.csv")
    dataset = job.dataset
    step(app, dataset, "drop", people["editor"], column="c2")  # id c1, visits c3, seen c4
    saved = save(app, dataset, people["editor"], args={"c3.min": "4", "sort": "c4"})
    job = run_import(
        app,
        editor_client,
        b"id,visits,seen\n9,4,2024-05-06\n10,2,2024-05-07\n",
        "feb.csv",
        mode="replace",
        target=str(dataset.id),
    )
    assert job.status == "done"
    columns = {c.label: c.name for c in columns_of(fresh(dataset))}
    assert columns["visits"] != "c3"  # the new file's columns are named afresh
    result = opened(app, saved)
    assert result.problems == []
    assert result.args == {f"{columns['visits']}.min": "4", "sort": columns["seen"]}


def test_personal_views_are_their_authors_shared_ones_every_readers(app, dataset, people):
    mine = save(app, dataset, people["editor"], name="Mine")
    ours = save(app, dataset, people["editor"], name="Ours", shared=True)
    share(dataset, user=people["viewer"], by=people["editor"])
    with app.test_request_context():
        names = [v.name for v in saved_views.views_of(people["viewer"], fresh(dataset))]
        assert names == ["Ours"]
        assert saved_views.view_of(people["viewer"], fresh(dataset), mine.id) is None
        assert saved_views.may_change(people["viewer"], ours, fresh(dataset)) is False
        assert saved_views.may_change(people["admin"], ours, fresh(dataset)) is True  # shares


def test_deleting_the_dataset_deletes_its_views(app, dataset, people, editor_client):
    save(app, dataset, people["editor"])
    response = editor_client.post_form(f"/datasets/{dataset.id}/delete")
    assert response.status_code == 302
    assert SavedView.select().count() == 0


# --- pages ---------------------------------------------------------------------------------------


def test_save_from_the_table_then_open_it(app, dataset, editor_client, people):
    page = editor_client.get(f"/datasets/{dataset.id}?c2.eq=Dr.+Chen").get_data(as_text=True)
    assert "No saved views yet." in page
    assert 'name="view" value="c2.eq=Dr.+Chen"' in page
    response = editor_client.post_form(
        f"/datasets/{dataset.id}/views",
        {"name": "Chen", "view": "c2.eq=Dr.+Chen&sort=c3", "shared": "y"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/datasets/{dataset.id}?c2.eq=Dr.+Chen&sort=c3"
    saved = SavedView.get()
    assert (saved.name, saved.shared, saved.owner_id) == ("Chen", True, people["editor"].id)
    page = editor_client.get(f"/datasets/{dataset.id}").get_data(as_text=True)
    assert f'href="/datasets/{dataset.id}/views/{saved.id}">Chen</a>' in page
    assert "Views (1)" in page
    opened_page = editor_client.get(f"/datasets/{dataset.id}/views/{saved.id}")
    assert opened_page.status_code == 302
    target = urlsplit(opened_page.headers["Location"])
    assert target.path == f"/datasets/{dataset.id}"
    assert dict(parse_qsl(target.query)) == {"c2.eq": "Dr. Chen", "sort": "c3"}
    table = editor_client.get(opened_page.headers["Location"]).get_data(as_text=True)
    assert "2 of 3 rows match" in table


def test_opening_a_view_arranges_the_columns(app, dataset, editor_client, people):
    layout = layouts.Layout(order=("c3", "c1", "c2", "c4"), hidden=frozenset({"c4"}))
    saved = save(app, dataset, people["editor"], args={}, layout=layout, shared=True)
    share(dataset, user=people["viewer"], by=people["editor"])
    vera = signed_in(app, "vera")
    assert vera.get(f"/datasets/{dataset.id}/views/{saved.id}").status_code == 302
    mine = layouts.layout_of(people["viewer"].id, dataset.id)
    assert (mine.order, mine.hidden) == (("c3", "c1", "c2", "c4"), {"c4"})
    table = vera.get(f"/datasets/{dataset.id}").get_data(as_text=True)
    assert table.index('data-column="c3"') < table.index('data-column="c1"')
    assert 'data-column="c4"' not in table


def test_a_view_that_no_longer_applies_says_why(app, dataset, editor_client, people):
    saved = save(app, dataset, people["editor"])
    step(app, dataset, "drop", people["editor"], column="c2")
    page = editor_client.get(f"/datasets/{dataset.id}/views/{saved.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Chen no longer applies as saved" in text
    assert "this dataset no longer has a column doctor." in text
    assert "Open the table with what still applies" in text
    listing = editor_client.get(f"/datasets/{dataset.id}/views").get_data(as_text=True)
    assert "It no longer applies as saved" in listing


def test_the_list_page_empty_state(app, dataset, editor_client):
    page = editor_client.get(f"/datasets/{dataset.id}/views").get_data(as_text=True)
    assert "No saved views yet." in page
    assert "Save this view as" in page


def test_saving_without_a_name_or_a_duplicate_changes_nothing(app, dataset, editor_client):
    response = editor_client.post_form(f"/datasets/{dataset.id}/views", {"name": " "})
    assert response.status_code == 302
    assert SavedView.select().count() == 0
    assert "Give the view a name." in editor_client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    editor_client.post_form(f"/datasets/{dataset.id}/views", {"name": "A"})
    response = editor_client.post_form(f"/datasets/{dataset.id}/views", {"name": "a"})
    text = editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You already have a view called a on Appointments" in text
    assert SavedView.select().count() == 1


def test_bad_view_arguments_are_ignored_not_an_error(app, dataset, editor_client):
    response = editor_client.post_form(
        f"/datasets/{dataset.id}/views", {"name": "Odd", "view": "c99.eq=1&sort=zz&%ff=1"}
    )
    assert response.status_code == 302
    assert saved_views.spec_dict(SavedView.get())["filters"] == []


def test_rename_and_delete_by_the_author(app, dataset, editor_client, people):
    saved = save(app, dataset, people["editor"])
    base = f"/datasets/{dataset.id}/views/{saved.id}"
    assert editor_client.post_form(f"{base}/rename", {"name": "Chen, newest"}).status_code == 302
    assert SavedView.get_by_id(saved.id).name == "Chen, newest"
    event = AuditEvent.get(AuditEvent.action == "view.renamed")
    assert event.details_dict["name"] == ["Chen", "Chen, newest"]
    assert editor_client.post_form(f"{base}/delete").status_code == 302
    assert SavedView.select().count() == 0
    assert AuditEvent.get(AuditEvent.action == "view.deleted").details_dict["name"] == (
        "Chen, newest"
    )
    assert editor_client.get(base).status_code == 404


def test_a_reader_may_not_change_anothers_shared_view(app, dataset, people):
    saved = save(app, dataset, people["editor"], shared=True)
    share(dataset, user=people["viewer"], by=people["editor"])
    vera = signed_in(app, "vera")
    base = f"/datasets/{dataset.id}/views/{saved.id}"
    assert vera.post_form(f"{base}/rename", {"name": "Mine now"}).status_code == 403
    assert vera.post_form(f"{base}/delete").status_code == 403
    assert SavedView.get_by_id(saved.id).name == "Chen"
    listing = vera.get(f"/datasets/{dataset.id}/views").get_data(as_text=True)
    assert "Chen" in listing and "Rename" not in listing


def test_the_views_menu_names_the_author_of_anothers_shared_view(app, dataset, people):
    save(app, dataset, people["editor"], name="Chen", shared=True)
    save(app, dataset, people["editor"], name="Editor only")
    share(dataset, user=people["viewer"], by=people["editor"])
    save(app, dataset, people["viewer"], name="Vera's own")
    vera = signed_in(app, "vera")
    page = vera.get(f"/datasets/{dataset.id}").get_data(as_text=True)
    menu = page[page.index('id="views-menu"') : page.index("save-view-form")]
    author = people["editor"].display_name
    assert f'Chen</a> <span class="muted small">shared, by {author}</span>' in menu
    assert 'Vera&#39;s own</a> <span class="muted small">yours</span>' in menu
    assert "Editor only" not in menu
    with app.test_request_context():
        seen = saved_views.views_of(people["viewer"], fresh(dataset))
        with database.atomic():  # the authors come with the views: no query per view
            queries = []
            database.obj.connection().set_trace_callback(queries.append)
            names = [(v.name, v.owner.display_name) for v in seen]
            database.obj.connection().set_trace_callback(None)
        assert names == [("Chen", author), ("Vera's own", people["viewer"].display_name)]
        assert [q for q in queries if "SELECT" in q] == []


def test_a_viewer_not_shared_the_dataset_never_sees_its_views(app, dataset, people):
    saved = save(app, dataset, people["editor"], shared=True)
    vera = signed_in(app, "vera")
    base = f"/datasets/{dataset.id}/views"
    assert vera.get(base).status_code == 404
    assert vera.get(f"{base}/{saved.id}").status_code == 404
    assert vera.post_form(base, {"name": "x"}).status_code == 404
    assert vera.post_form(f"{base}/{saved.id}/rename", {"name": "x"}).status_code == 404
    assert vera.post_form(f"{base}/{saved.id}/delete").status_code == 404
    assert SavedView.get_by_id(saved.id).name == "Chen"


def test_a_personal_view_is_404_to_another_reader(app, dataset, people):
    saved = save(app, dataset, people["editor"])
    share(dataset, user=people["viewer"], by=people["editor"])
    vera = signed_in(app, "vera")
    assert vera.get(f"/datasets/{dataset.id}/views/{saved.id}").status_code == 404
    assert vera.post_form(f"/datasets/{dataset.id}/views/{saved.id}/delete").status_code == 404


def test_a_view_of_another_dataset_is_404(app, dataset, editor_client, people):
    saved = save(app, dataset, people["editor"])
    with app.app_context():
        other = make_dataset(app, people["editor"], CSV, name="Other")
    assert editor_client.get(f"/datasets/{other.id}/views/{saved.id}").status_code == 404


# --- two at once ---------------------------------------------------------------------------------


def _at_once(*calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_people_save_and_rename_at_once(app, dataset, people):
    share(dataset, user=people["viewer"], by=people["editor"], can_edit=True)
    eddie, vera = signed_in(app, "eddie"), signed_in(app, "vera")
    url = f"/datasets/{dataset.id}/views"
    e_token, v_token = eddie.csrf_token(), vera.csrf_token()
    results = _at_once(
        lambda: eddie.post(url, data={"name": "Same", "csrf_token": e_token}),
        lambda: vera.post(url, data={"name": "Same", "csrf_token": v_token}),
    )
    assert [r.status_code for r in results] == [302, 302]
    owners = sorted(v.owner_id for v in SavedView.select())
    assert owners == sorted([people["editor"].id, people["viewer"].id])
    # The same person twice at once: one is kept, the other told why.
    results = _at_once(
        lambda: eddie.post(url, data={"name": "Twice", "csrf_token": e_token}),
        lambda: eddie.post(url, data={"name": "twice", "csrf_token": e_token}),
    )
    assert [r.status_code for r in results] == [302, 302]
    assert SavedView.select().where(SavedView.name_key == "twice").count() == 1
    # The author and an admin (who manages sharing) rename one view at once: one name wins.
    saved = save(app, dataset, people["editor"], name="Both", shared=True)
    ada = signed_in(app, "ada")
    a_token = ada.csrf_token()
    rename = f"{url}/{saved.id}/rename"
    results = _at_once(
        lambda: eddie.post(rename, data={"name": "By Eddie", "csrf_token": e_token}),
        lambda: ada.post(rename, data={"name": "By Ada", "csrf_token": a_token}),
    )
    assert [r.status_code for r in results] == [302, 302]
    assert SavedView.get_by_id(saved.id).name in ("By Eddie", "By Ada")
    assert AuditEvent.select().where(AuditEvent.action == "view.renamed").count() == 2


def test_rename_and_delete_at_once(app, dataset, people):
    saved = save(app, dataset, people["editor"], shared=True)
    eddie, ada = signed_in(app, "eddie"), signed_in(app, "ada")
    e_token, a_token = eddie.csrf_token(), ada.csrf_token()
    base = f"/datasets/{dataset.id}/views/{saved.id}"
    results = _at_once(
        lambda: eddie.post(f"{base}/rename", data={"name": "Later", "csrf_token": e_token}),
        lambda: ada.post(f"{base}/delete", data={"csrf_token": a_token}),
    )
    assert all(r.status_code in (302, 404) for r in results)
    assert SavedView.select().count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "view.deleted").count() == 1


def test_two_deletes_at_once_delete_once(app, dataset, people):
    saved = save(app, dataset, people["editor"])
    with app.test_request_context():
        view = SavedView.get_by_id(saved.id)
        outcomes = _at_once(
            lambda: saved_views.delete_view(view, people["editor"]),
            lambda: saved_views.delete_view(view, people["editor"]),
        )
    assert sorted(outcomes) == [False, True]
    assert AuditEvent.select().where(AuditEvent.action == "view.deleted").count() == 1


def test_rename_of_a_view_deleted_meanwhile(app, dataset, people):
    saved = save(app, dataset, people["editor"])
    with app.test_request_context():
        view = SavedView.get_by_id(saved.id)
        assert saved_views.delete_view(view, people["editor"])
        with pytest.raises(saved_views.ViewError, match="deleted meanwhile"):
            saved_views.rename_view(view, "New", people["editor"])


def test_unreadable_spec_opens_as_the_whole_table(app, dataset, people):
    saved = save(app, dataset, people["editor"])
    SavedView.update(spec="not json").where(SavedView.id == saved.id).execute()
    result = opened(app, saved)
    assert (result.args, result.problems, result.layout) == ({}, [], None)


def test_share_and_unshare_a_view(app, dataset, editor_client, people):
    saved = save(app, dataset, people["editor"])
    share(dataset, user=people["viewer"], by=people["editor"])
    vera = signed_in(app, "vera")
    base = f"/datasets/{dataset.id}/views/{saved.id}"
    assert vera.get(base).status_code == 404  # personal: Eddie's alone
    listing = editor_client.get(f"/datasets/{dataset.id}/views").get_data(as_text=True)
    assert "Share it</button>" in listing
    response = editor_client.post_form(f"{base}/share", {"shared": "1"})
    assert response.status_code == 302
    assert SavedView.get_by_id(saved.id).shared is True
    assert vera.get(base).status_code == 302  # now everyone who reads the dataset opens it
    assert vera.post_form(f"{base}/share", {"shared": "0"}).status_code == 403
    assert editor_client.post_form(f"{base}/share", {"shared": "1"}).status_code == 302
    assert AuditEvent.select().where(AuditEvent.action == "view.shared").count() == 1  # once
    listing = editor_client.get(f"/datasets/{dataset.id}/views").get_data(as_text=True)
    assert "Make it yours alone</button>" in listing
    assert editor_client.post_form(f"{base}/share", {"shared": "0"}).status_code == 302
    assert SavedView.get_by_id(saved.id).shared is False
    assert AuditEvent.get(AuditEvent.action == "view.unshared").details_dict == {
        "view": saved.id,
        "name": "Chen",
    }
    # A choice that is neither: nothing changes, and the page says so.
    response = editor_client.post_form(f"{base}/share", {"shared": "maybe"})
    assert "Not a valid choice" in editor_client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert SavedView.get_by_id(saved.id).shared is False


def test_sharing_a_view_deleted_meanwhile(app, dataset, people):
    saved = save(app, dataset, people["editor"])
    with app.test_request_context():
        view = SavedView.get_by_id(saved.id)
        saved_views.delete_view(view, people["editor"])
        with pytest.raises(saved_views.ViewError, match="deleted meanwhile"):
            saved_views.set_shared(view, True, people["editor"])


def test_a_search_when_no_text_column_is_left(app, dataset, people):
    saved = save(app, dataset, people["editor"], args={"q": "Chen", "c3.min": "4"})
    assert opened(app, saved).args == {"q": "Chen", "c3.min": "4"}
    step(app, dataset, "drop", people["editor"], column="c2")  # doctor, the one text column
    result = opened(app, saved)
    assert result.problems == ["It searches for “Chen”, and this dataset has no text columns now."]
    assert result.args == {"c3.min": "4"}
