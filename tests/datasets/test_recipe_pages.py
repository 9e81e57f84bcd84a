"""The Recipes pages: every recipe of yours with its steps in words, who saved it and when,
which imports used it; rename and delete (audited); run one on a dataset now, as one version
that one Undo takes back; a recipe that no longer fits says which step and why before anything
runs. Recipes are personal: anybody else gets 404."""

from __future__ import annotations

import html
import re
import threading

from server.datasets.catalog import columns_of
from server.models import AuditEvent, Dataset, DatasetShare, Recipe
from tests.datasets.helpers import run_import, stored
from tests.helpers import make_dataset, make_user, signed_in

JANUARY = "id,name,city,notes\n1,  Ada ,london,x\n2,Grace ,paris, y\n"


def _step(client, dataset_id: int, **fields) -> None:
    fields["version"] = Dataset.get_by_id(dataset_id).version
    response = client.post_form(f"/datasets/{dataset_id}/clean", fields)
    assert response.status_code == 302, response.get_data(as_text=True)


def _recipe(app, people, client, name: str = "Monthly tidy") -> tuple[Dataset, Recipe]:
    january = make_dataset(app, people["editor"], JANUARY, name="January")
    _step(client, january.id, kind="trim", column="c2")
    _step(client, january.id, kind="case", column="c3", mode="title")
    _step(client, january.id, kind="rename", column="c3", label="Town")
    _step(client, january.id, kind="trim", column="c4")
    assert client.post_form(f"/datasets/{january.id}/recipes", {"name": name}).status_code == 302
    return Dataset.get_by_id(january.id), Recipe.get(Recipe.name == name)


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def test_the_recipes_page_shows_each_step_in_words(app, people, editor_client):
    january, _recipe_made = _recipe(app, people, editor_client)
    page = _page(editor_client, "/recipes")
    assert "Monthly tidy" in page
    steps = re.findall(r"<li>(.*?)</li>", page.split('class="recipe-steps"')[1].split("</ol>")[0])
    assert steps == [
        "Trim spaces in name",
        "Change city to Title case",
        "Rename city to Town",
        "Trim spaces in notes",
    ]
    assert f"Saved by {people['editor'].display_name}" in page
    assert f'href="/datasets/{january.id}">January</a>' in page
    assert "No import has used it yet." in page


def test_imports_that_used_a_recipe_are_listed(app, people, editor_client):
    _january, recipe = _recipe(app, people, editor_client)
    job = run_import(
        app,
        editor_client,
        b"id,name,city,notes\n3, Alan,oslo,z\n",
        "february.csv",
        recipe=str(recipe.id),
    )
    assert job.status == "done", job.message
    page = _page(editor_client, "/recipes")
    assert "Used by 1 import:" in page
    assert f'<a href="/import/{job.id}">february.csv</a>' in page


def test_rename_and_delete_are_audited(app, people, editor_client):
    january, recipe = _recipe(app, people, editor_client)
    response = editor_client.post_form(f"/recipes/{recipe.id}/rename", {"name": "  Tidy   names "})
    assert response.status_code == 302
    assert Recipe.get_by_id(recipe.id).name == "Tidy names"
    event = AuditEvent.get(AuditEvent.action == "recipe.renamed")
    assert event.details_dict == {"name": ["Monthly tidy", "Tidy names"]}
    # An empty name is refused and changes nothing.
    editor_client.post_form(f"/recipes/{recipe.id}/rename", {"name": "   "})
    assert Recipe.get_by_id(recipe.id).name == "Tidy names"
    assert "Give the recipe a name." in _page(editor_client, "/recipes")

    before = stored(app, Dataset.get_by_id(january.id))
    assert editor_client.post_form(f"/recipes/{recipe.id}/delete").status_code == 302
    assert Recipe.get_or_none(Recipe.id == recipe.id) is None
    assert AuditEvent.get(AuditEvent.action == "recipe.deleted").details_dict == {
        "name": "Tidy names",
        "steps": 4,
    }
    assert stored(app, Dataset.get_by_id(january.id)) == before  # what it did stays
    assert "No recipes yet." in _page(editor_client, "/recipes")


def test_someone_elses_recipe_is_not_found(app, people, editor_client, admin_client):
    _january, recipe = _recipe(app, people, editor_client)
    other = make_user("olga", "editor")
    mine = make_dataset(app, other, JANUARY, name="Olga's")
    olga = signed_in(app, "olga")
    assert "Monthly tidy" not in _page(olga, "/recipes")
    assert "Monthly tidy" not in _page(olga, f"/datasets/{mine.id}/recipes")
    for client in (olga, admin_client):
        assert client.post_form(f"/recipes/{recipe.id}/rename", {"name": "x"}).status_code == 404
        assert client.post_form(f"/recipes/{recipe.id}/delete").status_code == 404
    run = olga.post_form(f"/datasets/{mine.id}/recipes/{recipe.id}/run", {"version": mine.version})
    assert run.status_code == 404
    assert Recipe.get_by_id(recipe.id).name == "Monthly tidy"
    assert stored(app, Dataset.get_by_id(mine.id)) == [
        (1, "  Ada ", "london", "x"),
        (2, "Grace ", "paris", " y"),
    ]


def test_running_a_recipe_on_a_dataset_now_is_one_version(app, people, editor_client):
    _january, recipe = _recipe(app, people, editor_client)
    # Same columns in another order and case, and one the recipe does not know.
    march = make_dataset(
        app,
        people["editor"],
        "ID,Extra,Notes,City,Name\n7,keep me ,  n1 ,rome, Hedy \n8,, n2,oslo,Alan  \n",
        name="March",
    )
    page = _page(editor_client, f"/datasets/{march.id}/recipes")
    assert "Run on March now" in page
    response = editor_client.post_form(
        f"/datasets/{march.id}/recipes/{recipe.id}/run", {"version": march.version}
    )
    assert response.status_code == 302 and response.headers["Location"] == f"/datasets/{march.id}"
    march = Dataset.get_by_id(march.id)
    assert march.version == 2
    # The dataset's columns keep their names and places (but the one the recipe renames).
    assert [c.label for c in columns_of(march)] == ["ID", "Extra", "Notes", "Town", "Name"]
    assert stored(app, march) == [
        (7, "keep me ", "n1", "Rome", "Hedy"),
        (8, None, "n2", "Oslo", "Alan"),
    ]
    assert AuditEvent.get(AuditEvent.action == "dataset.recipe_run").details_dict["steps"] == 4
    # The table searches the new file, and one Undo takes the whole recipe back.
    search = editor_client.get(f"/api/v1/datasets/{march.id}/rows?q=Rome").get_json()["rows"]
    assert [r["_rowid"] for r in search] == [1]
    undo = editor_client.post_form(f"/datasets/{march.id}/undo", {"version": march.version})
    assert undo.status_code == 302
    march = Dataset.get_by_id(march.id)
    assert [c.label for c in columns_of(march)] == ["ID", "Extra", "Notes", "City", "Name"]
    assert stored(app, march) == [
        (7, "keep me ", "  n1 ", "rome", " Hedy "),
        (8, None, " n2", "oslo", "Alan  "),
    ]


def test_a_recipe_that_no_longer_fits_says_which_step_before_running(app, people, editor_client):
    _january, recipe = _recipe(app, people, editor_client)
    april = make_dataset(
        app, people["editor"], "id,name,city\n1, Ada,london\n", name="April"
    )  # no "notes"
    page = _page(editor_client, f"/datasets/{april.id}/recipes")
    message = "Step 4 (Trim spaces in notes): April has no column notes."
    assert f"It cannot run on April: {message}" in page
    assert "Run on April now" not in page
    response = editor_client.post_form(
        f"/datasets/{april.id}/recipes/{recipe.id}/run", {"version": april.version}
    )
    assert response.status_code == 302
    assert message in _page(editor_client, f"/datasets/{april.id}/recipes")
    april = Dataset.get_by_id(april.id)
    assert april.version == 1 and stored(app, april) == [(1, " Ada", "london")]

    # A column of another type than the recipe was made on is named too.
    may = make_dataset(app, people["editor"], "id,name,city,notes\n1,Ada,x,5\n", name="May")
    page = _page(editor_client, f"/datasets/{may.id}/recipes")
    assert (
        "Step 4 (Trim spaces in notes): notes is whole number in May; the recipe was made "
        "when it was text." in page
    )


def test_running_needs_edit_access(app, people, editor_client, viewer_client):
    _january, recipe = _recipe(app, people, editor_client)
    shared = make_dataset(app, people["editor"], JANUARY, name="Shared")
    DatasetShare.create(dataset=shared, user=people["viewer"], can_edit=False)
    # The viewer may read the dataset but has no recipe and may not change it.
    assert "No recipes yet." in _page(viewer_client, f"/datasets/{shared.id}/recipes")
    response = viewer_client.post_form(
        f"/datasets/{shared.id}/recipes/{recipe.id}/run", {"version": shared.version}
    )
    assert response.status_code == 403
    assert Dataset.get_by_id(shared.id).version == 1


def test_two_people_running_recipes_at_once_make_one_version(app, people, editor_client):
    _january, recipe = _recipe(app, people, editor_client)
    target = make_dataset(app, people["editor"], JANUARY, name="Busy")
    other = make_user("otto", "admin")
    otto = signed_in(app, "otto")
    # Otto saves a recipe of his own on another dataset of the same shape.
    his = make_dataset(app, other, JANUARY, name="Otto's")
    _step(otto, his.id, kind="case", column="c2", mode="upper")
    assert otto.post_form(f"/datasets/{his.id}/recipes", {"name": "Shout"}).status_code == 302
    shout = Recipe.get(Recipe.name == "Shout")
    version = target.version
    answers: list[int] = []
    barrier = threading.Barrier(2)

    def run(client, recipe_id):
        barrier.wait()
        answers.append(
            client.post_form(
                f"/datasets/{target.id}/recipes/{recipe_id}/run", {"version": version}
            ).status_code
        )

    threads = [
        threading.Thread(target=run, args=(editor_client, recipe.id)),
        threading.Thread(target=run, args=(otto, shout.id)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [302, 302]
    target = Dataset.get_by_id(target.id)
    assert target.version == 2  # the second, made on version 1, was refused as out of date
    rows = stored(app, target)
    assert rows in (
        [(1, "Ada", "London", "x"), (2, "Grace", "Paris", "y")],
        [(1, "  ADA ", "london", "x"), (2, "GRACE ", "paris", " y")],
    )


def test_a_recipe_that_splits_runs_beside_columns_it_does_not_know(app, people, editor_client):
    """The steps after a split name the columns it made (c3, c4 here); the dataset's own extra
    columns must not be taken for them."""
    source = make_dataset(app, people["editor"], "id,name\n1,Ada Lovelace\n", name="Source")
    _step(editor_client, source.id, kind="split", column="c2", delimiter=" ")
    _step(editor_client, source.id, kind="case", column="c4", mode="upper")
    _step(editor_client, source.id, kind="drop", column="c2")
    assert (
        editor_client.post_form(f"/datasets/{source.id}/recipes", {"name": "Names"}).status_code
        == 302
    )
    recipe = Recipe.get(Recipe.name == "Names")
    target = make_dataset(
        app,
        people["editor"],
        "name,phone,id,email\nGrace Hopper,555,2,g@x\nAlan Turing,,3,a@x\n",
        name="Target",
    )
    response = editor_client.post_form(
        f"/datasets/{target.id}/recipes/{recipe.id}/run", {"version": target.version}
    )
    assert response.status_code == 302
    target = Dataset.get_by_id(target.id)
    assert [c.label for c in columns_of(target)] == ["phone", "id", "email", "name 1", "name 2"]
    assert stored(app, target) == [
        (555, 2, "g@x", "Grace", "HOPPER"),
        (None, 3, "a@x", "Alan", "TURING"),
    ]
