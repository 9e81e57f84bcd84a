"""Recipes: a dataset's steps saved under a name, replayed on next month's file of the same
shape (at import, appending or replacing rows)."""

from __future__ import annotations

import json
from pathlib import Path

from ...audit_trail import record
from ...db import database
from ...models import Dataset, Recipe, User
from .. import versions
from ..storage import Column
from .steps import StepError, run_operation


def save_recipe(dataset: Dataset, name: str, user: User) -> Recipe:
    """The dataset's cleaning steps in effect (not undone), in order, as a named recipe; it
    starts from the columns the first of them was made on."""
    name = " ".join((name or "").split())[:200]
    if not name:
        raise StepError("Give the recipe a name.")
    done, _undone = versions.stacks(dataset)
    positions = [i for i, v in enumerate(done) if v.kind == "step"]
    if not positions:
        raise StepError("There are no steps to save yet.")
    steps = [done[i].param_dict for i in positions]
    with database.atomic():
        recipe = Recipe.create(
            name=name,
            owner=user,
            columns=done[positions[0] - 1].columns,
            steps=json.dumps(
                [{"kind": s["step"], "params": s["params"]} for s in steps], ensure_ascii=False
            ),
        )
        record(
            "recipe.saved",
            object_type="recipe",
            object_id=recipe.id,
            actor=user,
            details={"name": name, "steps": len(steps), "dataset": dataset.name},
        )
    return recipe


def recipe_columns(recipe: Recipe) -> list[Column]:
    return [Column.from_dict(c) for c in json.loads(recipe.columns)]


def recipes_for(user: User, labels: list[str]) -> list[Recipe]:
    """The person's recipes that start from columns named like ``labels`` (case aside)."""
    wanted = [label.casefold() for label in labels]
    return [
        r
        for r in Recipe.select().where(Recipe.owner == user.id).order_by(Recipe.name)
        if [c.label.casefold() for c in recipe_columns(r)] == wanted
    ]


def replay(path: Path, recipe: Recipe) -> tuple[list[Column], int]:
    """Apply every step of ``recipe`` to the dataset file at ``path``; StepError stops it."""
    columns = recipe_columns(recipe)
    rows = 0
    for number, item in enumerate(recipe.step_list, start=1):
        try:
            columns, _changed, _summary, rows = run_operation(
                path, columns, item["kind"], item["params"]
            )
        except StepError as exc:
            raise StepError(f"Step {number} of the recipe {recipe.name} failed: {exc}") from None
    return columns, rows
