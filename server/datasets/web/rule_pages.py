"""The row rules page, reached from a dataset's sharing page: whoever may manage its sharing
adds and removes rules (each audited in words) and sees what each limited person would see."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for

from ...models import Dataset, DatasetShare, Role, RowRule, User
from .. import row_rules
from ..catalog import columns_of
from .access import dataset_or_404
from .forms import RowRuleForm

bp = Blueprint("rules", __name__)
PREVIEWED = 50  # people shown in the preview at most


def _targets(dataset: Dataset) -> list[tuple[str, str]]:
    roles = [
        (f"role:{r.id}", f"Everyone with the {r.name} role")
        for r in Role.select()
        .where(Role.builtin.is_null() | (Role.builtin != "admin"))
        .order_by(Role.name)
    ]
    people = [
        (f"user:{u.id}", f"{u.display_name} ({u.login})")
        for u in User.select()
        .where((User.active == True) & (User.id != dataset.owner_id))  # noqa: E712
        .order_by(User.display_name)
    ]
    return [("", "Choose a role or a person"), *roles, *people]


def _people_with_access(dataset: Dataset) -> list[User]:
    """The people the dataset is shared with, directly or through their role."""
    shares = list(DatasetShare.select().where(DatasetShare.dataset == dataset.id))
    users = {s.user_id for s in shares if s.user_id}
    roles = {s.role_id for s in shares if s.role_id}
    query = User.select().where(
        (User.active == True)  # noqa: E712
        & (User.id != dataset.owner_id)
        & (User.id.in_(users) | User.role.in_(roles))
    )
    return list(query.order_by(User.display_name).limit(PREVIEWED))


def preview(dataset: Dataset) -> list[tuple[User, int]]:
    """How many rows each person with access and row rules would see now."""
    data_dir = current_app.config["DATA_DIR"]
    return [
        (person, row_rules.seen_count(dataset, person, data_dir))
        for person in _people_with_access(dataset)
        if row_rules.restriction(dataset, person) is not None
    ]


@bp.route("/datasets/<int:dataset_id>/sharing/rules", methods=["GET", "POST"])
def dataset_rules(dataset_id: int) -> tuple[str, int] | Response:
    dataset = dataset_or_404(dataset_id, "share")
    columns = columns_of(dataset)
    form = RowRuleForm()
    form.target.choices = _targets(dataset)
    form.column.choices = [("", "Choose a column")] + [(c.name, c.label) for c in columns]
    form.kind.choices = list(row_rules.KINDS.items())
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            kind, _, raw_id = (form.target.data or "").partition(":")
            whom = {}
            if kind == "role":
                whom["role"] = Role.get_or_none(Role.id == int(raw_id))
            elif kind == "user":
                whom["user"] = User.get_or_none(User.id == int(raw_id))
            try:
                if not whom or None in whom.values():
                    raise row_rules.RuleError("Choose a role or a person for the rule.")
                rule = row_rules.add_rule(
                    dataset,
                    column=form.column.data,
                    kind=form.kind.data,
                    values=row_rules.parse_values(form.kind.data, form.values.data or ""),
                    data_dir=current_app.config["DATA_DIR"],
                    **whom,
                )
            except row_rules.RuleError as exc:
                form.form_errors.append(str(exc))
            else:
                flash(f"Rule added: {row_rules.describe(rule, columns)}.", "success")
                return redirect(url_for("rules.dataset_rules", dataset_id=dataset.id))
        elif not form.form_errors:
            form.form_errors.append("Check the fields below.")
    rules = [(r, row_rules.describe(r, columns)) for r in row_rules.rules_of(dataset)]
    page = render_template(
        "datasets/row_rules.html",
        dataset=dataset,
        form=form,
        rules=rules,
        preview=preview(dataset),
    )
    return page, status


@bp.route("/datasets/<int:dataset_id>/sharing/rules/<int:rule_id>/remove", methods=["POST"])
def dataset_rule_remove(dataset_id: int, rule_id: int) -> Response:
    dataset = dataset_or_404(dataset_id, "share")
    rule = RowRule.get_or_none((RowRule.id == rule_id) & (RowRule.dataset == dataset.id))
    if rule is None:
        abort(404)
    row_rules.remove_rule(rule)
    flash("Rule removed.", "success")
    return redirect(url_for("rules.dataset_rules", dataset_id=dataset.id))
