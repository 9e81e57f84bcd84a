"""Recipes: a dataset's steps saved and replayed on next month's file (new, append, replace)."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from server.datasets.catalog import columns_of, dataset_file
from server.datasets.cleaning.recipes import replay
from server.datasets.cleaning.steps import StepError
from server.models import AuditEvent, Dataset, Recipe
from tests.datasets.helpers import preview_form, run_import, stored, upload

JANUARY = b"id,name,amount,unit\n1,  Ada ,10,kg\n2,Grace,x,kg\n"
FEBRUARY = b"ID,Name,Amount,Unit\n3, Alan ,7.5,g\n4,Hedy,,kg\n"


def clean_like_january(client, dataset_id: int) -> None:
    for fields in [
        {"kind": "trim", "column": "c2"},
        {"kind": "cast", "column": "c3", "type": "real"},
        {"kind": "drop", "column": "c4"},
        {"kind": "case", "column": "c2", "mode": "upper"},
    ]:
        fields["version"] = Dataset.get_by_id(dataset_id).version
        assert client.post_form(f"/datasets/{dataset_id}/clean", fields).status_code == 302


def make_recipe(app, client) -> tuple[Dataset, Recipe]:
    january = run_import(app, client, JANUARY, "january.csv").dataset
    clean_like_january(client, january.id)
    response = client.post_form(f"/datasets/{january.id}/recipes", {"name": "Monthly"})
    assert response.status_code == 302
    return Dataset.get_by_id(january.id), Recipe.get(Recipe.name == "Monthly")


def test_a_recipe_replays_to_the_same_result(app, editor_client):
    january, recipe = make_recipe(app, editor_client)
    assert [s["kind"] for s in recipe.step_list] == ["trim", "cast", "drop", "case"]
    assert AuditEvent.get(AuditEvent.action == "recipe.saved").details_dict["steps"] == 4
    # The same file imported again with the recipe gives the same table as the manual steps.
    again = run_import(app, editor_client, JANUARY, "january-again.csv", recipe=str(recipe.id))
    assert again.status == "done"
    assert stored(app, again.dataset) == stored(app, january)
    assert [(c.label, c.type) for c in columns_of(again.dataset)] == [
        (c.label, c.type) for c in columns_of(january)
    ]


def test_next_months_file_is_appended_after_the_recipe(app, editor_client):
    january, recipe = make_recipe(app, editor_client)
    response = upload(editor_client, FEBRUARY, "february.csv")
    job_id = int(response.headers["Location"].split("/")[2])
    page = editor_client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    assert re.search(rf'<option value="{recipe.id}">Monthly</option>', page)
    job = run_import(
        app,
        editor_client,
        FEBRUARY,
        "february.csv",
        recipe=str(recipe.id),
        mode="append",
        target=str(january.id),
    )
    assert job.status == "done", job.message
    assert stored(app, Dataset.get_by_id(january.id)) == [
        (1, "ADA", 10.0),
        (2, "GRACE", "x"),  # kept as written when the recipe's cast met it, and marked
        (3, "ALAN", 7.5),
        (4, "HEDY", None),
    ]
    assert Dataset.get_by_id(january.id).row_count == 4


def test_a_replacement_with_the_recipe(app, editor_client):
    january, recipe = make_recipe(app, editor_client)
    job = run_import(
        app,
        editor_client,
        FEBRUARY,
        "february.csv",
        recipe=str(recipe.id),
        mode="replace",
        target=str(january.id),
    )
    assert job.status == "done", job.message
    assert stored(app, Dataset.get_by_id(january.id)) == [(3, "ALAN", 7.5), (4, "HEDY", None)]


def test_a_recipe_for_other_columns_is_not_offered_or_accepted(app, editor_client):
    _january, recipe = make_recipe(app, editor_client)
    response = upload(editor_client, b"code,price\nA,1\n", "other.csv")
    job_id = int(response.headers["Location"].split("/")[2])
    page = editor_client.get(f"/import/{job_id}/preview").get_data(as_text=True)
    assert "Monthly" not in page
    form = preview_form(editor_client, job_id) | {"recipe": str(recipe.id)}
    page = editor_client.post(f"/import/{job_id}/preview", data=form).get_data(as_text=True)
    assert "was made for other columns" in page


def test_the_recipe_decides_the_column_types(app, editor_client):
    _january, recipe = make_recipe(app, editor_client)
    # "name" holds digits this month: guessed alone it would be a number, but the recipe's
    # steps were made on text, so it is read as text and every step still applies.
    job = run_import(
        app, editor_client, b"id,name,amount,unit\n5, 6 ,7,g\n", "odd.csv", recipe=str(recipe.id)
    )
    assert job.status == "done", job.message
    assert stored(app, job.dataset) == [(5, "6", 7.0)]


def test_a_failing_step_is_named_in_words_and_changes_nothing(app, editor_client, tmp_path):
    _january, recipe = make_recipe(app, editor_client)
    broken = Recipe(
        name="Broken",
        owner=recipe.owner,
        columns=recipe.columns,
        steps=json.dumps(
            [
                {"kind": "trim", "params": {"column": "c2"}},
                {"kind": "case", "params": {"column": "c9", "mode": "upper"}},
            ]
        ),
    )
    raw = run_import(app, editor_client, JANUARY, "raw.csv").dataset
    before = stored(app, raw)
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(dataset_file(app.config["DATA_DIR"], raw.storage_key), copy)
    with pytest.raises(StepError) as caught:
        replay(copy, broken)
    assert str(caught.value) == (
        "Step 2 of the recipe Broken (Change c9 to UPPER case) failed: Choose a column."
    )
    assert stored(app, raw) == before
