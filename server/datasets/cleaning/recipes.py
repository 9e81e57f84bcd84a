"""Recipes: a dataset's steps saved under a name, replayed on next month's file of the same
shape (at import, appending or replacing rows)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from peewee import fn

from ...audit_trail import record
from ...db import database
from ...importers.types import TYPE_LABELS
from ...models import Dataset, DatasetVersion, ImportJob, Recipe, User
from ...sqlite_files import connect
from .. import versions
from ..catalog import columns_of
from ..reading.browse import OPERATORS
from ..storage import Column, build_search_index, drop_name_bound
from .steps import MAX_SPLIT, STEPS, StepError, run_operation


def save_recipe(dataset: Dataset, name: str, user: User) -> Recipe:
    """The dataset's cleaning steps in effect (not undone), in order, as a named recipe; it
    starts from the columns the first of them was made on."""
    name = _clean_name(name)
    done, _undone = versions.stacks(dataset)
    positions = [i for i, v in enumerate(done) if v.kind == "step"]
    if not positions:
        raise StepError("There are no steps to save yet.")
    steps = [done[i].param_dict for i in positions]
    with database.atomic():
        recipe = Recipe.create(
            name=name,
            owner=user,
            dataset=dataset.id,
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
    columns, _touched, rows = _run_steps(path, recipe, recipe_columns(recipe), 0)
    return columns, rows


def _labeller(columns: list[Column]) -> Callable[[str], str]:
    labels = {c.name: c.label for c in columns}
    return lambda name: labels.get(name, name)


def _run_steps(
    path: Path, recipe: Recipe, columns: list[Column], rows: int
) -> tuple[list[Column], int, int]:
    """The recipe's steps applied in turn to the file at ``path``: the columns after them, the
    most rows one step changed, and the row count. A failing step is named in words."""
    touched = 0
    for number, item in enumerate(recipe.step_list, start=1):
        try:
            columns, changed, _summary, rows = run_operation(
                path, columns, item["kind"], item.get("params") or {}
            )
        except StepError as exc:
            said = _describe(item["kind"], item.get("params") or {}, _labeller(columns))
            raise StepError(
                f"Step {number} of the recipe {recipe.name} ({said}) failed: {exc}"
            ) from None
        touched = max(touched, changed)
    return columns, touched, rows


# --- seeing and managing recipes -------------------------------------------------------------
NAME_MAX = 200
_CASE_WORDS = {"upper": "UPPER", "lower": "lower", "title": "Title"}


@dataclass(frozen=True)
class StepInWords:
    number: int
    kind: str
    text: str


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())[:NAME_MAX]
    if not name:
        raise StepError("Give the recipe a name.")
    return name


def _referenced(kind: str, params: dict[str, Any]) -> list[str]:
    """The column names (``cN``) a step's parameters name."""
    names = [params["column"]] if isinstance(params.get("column"), str) else []
    names += [n for n in params.get("columns") or [] if isinstance(n, str)]
    if kind == "delete_rows":
        names += [k.split(".", 1)[0] for k in params.get("view") or {} if "." in k]
    return names


def _describe(kind: str, p: dict[str, Any], label: Callable[[str], str]) -> str:
    """One step as a sentence; ``label`` names a column as the recipe knew it."""
    column = label(p["column"]) if isinstance(p.get("column"), str) else "a column"
    if kind == "trim":
        return f"Trim spaces in {column}"
    if kind == "case":
        return f"Change {column} to {_CASE_WORDS.get(p.get('mode'), p.get('mode'))} case"
    if kind == "replace":
        what = "the pattern " if p.get("regex") else ""
        find, replacement = p.get("find", ""), p.get("replacement", "")
        return f"In {column}, replace {what}“{find}” with “{replacement}”"
    if kind == "split":
        return f"Split {column} on “{p.get('delimiter', '')}” into new columns"
    if kind == "cast":
        order = {"dmy": ", dates day first", "mdy": ", dates month first"}.get(p.get("order"), "")
        empty = "; values that do not fit are emptied" if p.get("on_bad") == "empty" else ""
        return f"Change {column} to {TYPE_LABELS.get(p.get('type'), p.get('type'))}{order}{empty}"
    if kind == "fill":
        return f"Fill the empty cells of {column} with “{p.get('value', '')}”"
    if kind == "dedupe":
        chosen = [label(n) for n in p.get("columns") or []]
        return "Remove duplicate rows" + (f" (comparing {', '.join(chosen)})" if chosen else "")
    if kind == "delete_rows":
        parts = []
        for key, value in (p.get("view") or {}).items():
            name, _, op = key.partition(".")
            if op:
                parts.append(f"{label(name)} {OPERATORS.get(op, op)} {value}".strip())
            elif key == "q":
                parts.append(f"search “{value}”")
        return "Delete the rows where " + (" and ".join(parts) or "the filter matches")
    if kind == "rename":
        return f"Rename {column} to {p.get('label', '')}"
    if kind == "drop":
        return f"Drop {column}"
    return STEPS.get(kind, kind)


def steps_in_words(recipe: Recipe) -> list[StepInWords]:
    """Each step of ``recipe`` as a sentence, naming columns as they were at that step."""
    labels = {c.name: c.label for c in recipe_columns(recipe)}
    out = []
    for number, item in enumerate(recipe.step_list, start=1):
        kind, params = item["kind"], item.get("params") or {}

        def label(name: str, number: int = number) -> str:
            return labels.get(name, f"a column made by an earlier step ({name})")

        out.append(StepInWords(number, kind, _describe(kind, params, label)))
        if kind == "rename" and params.get("column") in labels:
            labels[params["column"]] = str(params.get("label", ""))
    return out


def recipes_of(user: User) -> list[Recipe]:
    """The person's recipes, newest first (recipes are personal: only their author uses them)."""
    return list(
        Recipe.select().where(Recipe.owner == user.id).order_by(Recipe.created_at.desc(), Recipe.id)
    )


def recipe_of(user: User, recipe_id: int) -> Recipe | None:
    return Recipe.get_or_none((Recipe.id == recipe_id) & (Recipe.owner == user.id))


def imports_using(recipe: Recipe) -> list[ImportJob]:
    """The imports that ran ``recipe`` (their plan names it), newest first."""
    return list(
        ImportJob.select()
        .where(fn.json_extract(ImportJob.options, "$.recipe_id") == recipe.id)
        .order_by(ImportJob.id.desc())
    )


def rename_recipe(recipe: Recipe, name: str, user: User) -> Recipe:
    name = _clean_name(name)
    if name != recipe.name:
        with database.atomic():
            record(
                "recipe.renamed",
                object_type="recipe",
                object_id=recipe.id,
                actor=user,
                details={"name": [recipe.name, name]},
            )
            Recipe.update(name=name).where(Recipe.id == recipe.id).execute()
            recipe.name = name
    return recipe


def delete_recipe(recipe: Recipe, user: User) -> None:
    """Delete the recipe; datasets and imports it cleaned keep what it did (their versions)."""
    with database.atomic():
        record(
            "recipe.deleted",
            object_type="recipe",
            object_id=recipe.id,
            actor=user,
            details={"name": recipe.name, "steps": len(recipe.step_list)},
        )
        Recipe.delete().where(Recipe.id == recipe.id).execute()


@dataclass(frozen=True)
class RecipeFit:
    """How ``recipe`` maps onto a dataset's columns, found before anything runs."""

    start: list[Column]  # the recipe's starting columns the dataset has (with the recipe's names)
    renames: dict[str, str]  # the dataset's column name → the recipe's name for it
    extras: list[Column]  # the dataset's columns the recipe does not know: kept, untouched


def fit_recipe(recipe: Recipe, columns: list[Column], dataset_name: str) -> RecipeFit:
    """Match the recipe's starting columns to ``columns`` by name (case aside) and check each
    step against them; StepError names the first step that cannot run, and why."""
    theirs = {c.label.casefold(): c for c in columns}
    start, renames, missing, retyped = [], {}, {}, {}
    for column in recipe_columns(recipe):
        found = theirs.get(column.label.casefold())
        if found is None:
            missing[column.name] = column.label
        else:
            start.append(replace(column, label=found.label, type=found.type, unit=found.unit))
            renames[found.name] = column.name
            if found.type != column.type:
                retyped[column.name] = (column, found.type)
    words = steps_in_words(recipe)
    for item, said in zip(recipe.step_list, words, strict=True):
        kind, params = item["kind"], item.get("params") or {}
        for name in _referenced(kind, params):
            where = f"Step {said.number} ({said.text})"
            if name in missing:
                raise StepError(f"{where}: {dataset_name} has no column {missing[name]}.")
            if name in retyped:
                expected, now = retyped[name]
                if kind == "cast" and params.get("type") != now:
                    continue  # it changes the type anyway
                raise StepError(
                    f"{where}: {expected.label} is {TYPE_LABELS[now].lower()} in "
                    f"{dataset_name}; the recipe was made when it was "
                    f"{TYPE_LABELS[expected.type].lower()}."
                )
        if kind == "cast":
            retyped.pop(params.get("column"), None)
    known = {c.label.casefold() for c in recipe_columns(recipe)}
    extras = [c for c in columns if c.label.casefold() not in known]
    return RecipeFit(start, renames, extras)


def _spare_names(recipe: Recipe, fit: RecipeFit) -> list[str]:
    """Names for the dataset's extra columns that no step of the recipe can make or name: past
    every name it mentions, and past what its splits could add."""
    highest = max(
        [int(c.name[1:]) for c in recipe_columns(recipe)]
        + [
            int(n[1:])
            for item in recipe.step_list
            for n in _referenced(item["kind"], item.get("params") or {})
            if n[1:].isdigit()
        ]
    )
    splits = sum(1 for item in recipe.step_list if item["kind"] == "split")
    first = highest + MAX_SPLIT * splits + 1
    return [f"c{first + i}" for i in range(len(fit.extras))]


def run_recipe(
    recipe: Recipe, dataset: Dataset, user: User, data_dir: Path, base: int | None
) -> DatasetVersion:
    """Run every step of ``recipe`` on the dataset now, as one version (one undo takes it all
    back); checked first with :func:`fit_recipe`, and all or nothing."""
    fit_recipe(recipe, columns_of(dataset), dataset.name)  # before the lock: say why early

    def change(current: Dataset, copy: Path) -> tuple[list[Column], int, int, str]:
        now = fit_recipe(recipe, columns_of(current), current.name)
        spare = dict(zip((c.name for c in now.extras), _spare_names(recipe, now), strict=True))
        wanted = {**now.renames, **spare}
        con = connect(copy)
        try:
            con.execute("BEGIN IMMEDIATE")
            drop_name_bound(con)
            for old in wanted:  # two passes: a new name may be another column's old one
                con.execute(f"ALTER TABLE rows RENAME COLUMN {old} TO sheaf_{old}")
            for old, new in wanted.items():
                con.execute(f"ALTER TABLE rows RENAME COLUMN sheaf_{old} TO {new}")
            con.execute("COMMIT")
        finally:
            con.close()
        columns, touched, rows = _run_steps(copy, recipe, now.start, current.row_count)
        extras = [replace(c, name=spare[c.name]) for c in now.extras]
        # The dataset's columns keep their places; those the steps made come after them.
        place = {new: i for i, new in enumerate(wanted[c.name] for c in columns_of(current))}
        final = sorted(columns + extras, key=lambda c: place.get(c.name, len(place)))
        con = connect(copy)
        try:
            con.execute("BEGIN IMMEDIATE")  # the last step indexed the recipe's columns only
            build_search_index(con, final)
            con.execute("COMMIT")
        finally:
            con.close()
        count = len(recipe.step_list)
        return (
            final,
            touched,
            rows,
            f"Recipe {recipe.name} ({count} step{'s' if count != 1 else ''})",
        )

    return versions.file_change(
        dataset.id,
        base,
        data_dir,
        change,
        user=user,
        kind="recipe",
        params={"recipe": recipe.id, "name": recipe.name},
        audit="dataset.recipe_run",
        audit_details=lambda summary, changed: {
            "recipe": recipe.name,
            "steps": len(recipe.step_list),
            "rows_changed": changed,
        },
    )
