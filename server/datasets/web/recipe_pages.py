"""Recipes you can see: every recipe of yours with its steps in words, where it came from and
which imports ran it; rename and delete; and, from a dataset, run one on it now (checked step
by step first, so a recipe that no longer fits says which step and why before anything runs).

Recipes are personal, as at import: only their author sees, runs, renames or deletes them;
anyone else gets 404 for them."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ...models import Recipe
from ...template_filters import plural
from .. import versions
from ..catalog import columns_of, may
from ..cleaning import recipes
from ..cleaning.steps import StepError
from .access import dataset_or_404, limit_of
from .history_pages import base_version

bp = Blueprint("recipes", __name__)


class RecipeNameForm(FlaskForm):
    name = StringField(
        "New name",
        validators=[DataRequired(message="Give the recipe a name."), Length(max=recipes.NAME_MAX)],
    )


def _own_recipe(recipe_id: int) -> Recipe:
    recipe = recipes.recipe_of(current_user, recipe_id)
    if recipe is None:
        abort(404)
    return recipe


def _cards(found: list[Recipe], dataset=None) -> list[dict]:
    cards = []
    for recipe in found:
        card = {
            "recipe": recipe,
            "steps": recipes.steps_in_words(recipe),
            "imports": recipes.imports_using(recipe),
            "source": recipe.dataset if recipe.dataset_id else None,
            "problem": None,
        }
        if dataset is not None:
            try:
                recipes.fit_recipe(recipe, columns_of(dataset), dataset.name)
            except StepError as exc:
                card["problem"] = str(exc)
        cards.append(card)
    return cards


@bp.route("/recipes")
def recipe_list() -> str:
    return render_template(
        "datasets/recipes.html",
        cards=_cards(recipes.recipes_of(current_user)),
        dataset=None,
        form=RecipeNameForm(),
    )


@bp.route("/datasets/<int:dataset_id>/recipes")
def dataset_recipes(dataset_id: int) -> str:
    dataset = dataset_or_404(dataset_id)
    mine = recipes.recipes_of(current_user)
    # Those saved from this dataset first, then the rest of the person's.
    mine.sort(key=lambda r: r.dataset_id != dataset.id)
    return render_template(
        "datasets/recipes.html",
        cards=_cards(mine, dataset),
        dataset=dataset,
        # Running a recipe changes every row: not offered to someone limited by row rules.
        editable=may(current_user, dataset, "edit") and limit_of(dataset) is None,
        form=RecipeNameForm(),
    )


@bp.route("/recipes/<int:recipe_id>/rename", methods=["POST"])
def recipe_rename(recipe_id: int) -> Response:
    recipe = _own_recipe(recipe_id)
    form = RecipeNameForm()
    if form.validate_on_submit():
        try:
            recipes.rename_recipe(recipe, form.name.data, current_user._get_current_object())
        except StepError as exc:
            flash(str(exc), "error")
        else:
            flash(f"The recipe is now called {recipe.name}.", "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("recipes.recipe_list", _anchor=f"recipe-{recipe.id}"))


@bp.route("/recipes/<int:recipe_id>/delete", methods=["POST"])
def recipe_delete(recipe_id: int) -> Response:
    recipe = _own_recipe(recipe_id)
    if FlaskForm().validate_on_submit():
        recipes.delete_recipe(recipe, current_user._get_current_object())
        flash(
            f"The recipe {recipe.name} is deleted; what it already did stays in the datasets' "
            "histories.",
            "success",
        )
    return redirect(url_for("recipes.recipe_list"))


@bp.route("/datasets/<int:dataset_id>/recipes/<int:recipe_id>/run", methods=["POST"])
def recipe_run(dataset_id: int, recipe_id: int) -> Response:
    dataset = dataset_or_404(dataset_id, "all_rows")
    recipe = _own_recipe(recipe_id)
    back = redirect(url_for("recipes.dataset_recipes", dataset_id=dataset.id))
    if not FlaskForm().validate_on_submit():
        return back
    try:
        version = recipes.run_recipe(
            recipe,
            dataset,
            current_user._get_current_object(),
            current_app.config["DATA_DIR"],
            base_version(),
        )
    except (StepError, versions.VersionError) as exc:
        flash(f"{exc} Nothing was changed.", "error")
        return back
    flash(
        f"{version.summary} ran on {dataset.name}: "
        f"{plural(version.rows_touched, 'row')} changed. "
        f"Now at version {version.number:,}; Undo takes the whole recipe back.",
        "success",
    )
    return redirect(url_for("datasets.dataset_view", dataset_id=dataset.id))
