"""Saved views' pages: save the table's current view under a name, list a dataset's views,
open one (back to the table with its filters, search, sort and columns, or a page saying in
words why it no longer applies), rename and delete.

Every route loads the dataset through ``dataset_or_404`` first, so a person who may not see the
dataset gets 404 for its views too; of its views they see their own and the shared ones
(``server.datasets.saved_views``)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ...models import Dataset, SavedView
from .. import layouts, saved_views
from ..catalog import columns_of
from ..reading import browse
from .access import dataset_or_404, limit_of

bp = Blueprint("views", __name__)


class SaveViewForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired(message="Give the view a name."),
            Length(max=saved_views.NAME_MAX),
        ],
    )
    shared = BooleanField("Shared with everyone who may read this dataset")
    view = HiddenField()  # the table's query string: what the view shows


class ViewNameForm(FlaskForm):
    name = StringField(
        "New name",
        validators=[
            DataRequired(message="Give the view a name."),
            Length(max=saved_views.NAME_MAX),
        ],
    )


class ShareViewForm(FlaskForm):
    shared = RadioField(
        "Who sees it",
        choices=[
            SelectChoice("1", "Everyone who may read the dataset"),
            SelectChoice("0", "Only its author"),
        ],
    )


@bp.app_template_global()
def saved_views_for(dataset: Dataset) -> list[SavedView]:
    """The dataset's views the signed-in person sees, for the table page's Views menu."""
    return saved_views.views_of(current_user, dataset)


def _list(dataset: Dataset) -> Response:
    return redirect(url_for("views.dataset_views", dataset_id=dataset.id))


def _messages(form: FlaskForm) -> str:
    return " ".join(e for errors in form.errors.values() for e in errors)


def _may_change(saved: SavedView, dataset: Dataset) -> bool:
    """Whether the signed-in person may rename, share or delete the view: its author, or
    whoever manages the dataset's sharing, unless row rules limit them (then they manage no
    sharing, and so no one else's views)."""
    if saved.owner_id != current_user.id and limit_of(dataset) is not None:
        return False
    return saved_views.may_change(current_user, saved, dataset)


def _view_or_404(dataset: Dataset, view_id: int) -> SavedView:
    saved = saved_views.view_of(current_user, dataset, view_id)
    if saved is None:
        abort(404)
    return saved


@bp.route("/datasets/<int:dataset_id>/views")
def dataset_views(dataset_id: int) -> str:
    dataset = dataset_or_404(dataset_id)
    cards = []
    for saved in saved_views.views_of(current_user, dataset):
        cards.append(
            {
                "view": saved,
                "words": saved_views.in_words(saved),
                "problems": saved_views.open_view(saved, dataset).problems,
                "may_change": _may_change(saved, dataset),
            }
        )
    return render_template("datasets/views.html", dataset=dataset, cards=cards, form=ViewNameForm())


@bp.route("/datasets/<int:dataset_id>/views", methods=["POST"])
def view_save(dataset_id: int) -> Response:
    dataset = dataset_or_404(dataset_id)
    form = SaveViewForm()
    args = dict(parse_qsl(form.view.data or "", keep_blank_values=False))
    back = redirect(url_for("datasets.dataset_view", dataset_id=dataset.id, **args))
    if not form.validate_on_submit():
        flash(_messages(form) or "The view was not saved; try again.", "error")
        return back
    view = browse.View.from_args(args, columns_of(dataset))
    layout = layouts.layout_of(current_user.id, dataset.id)
    try:
        saved = saved_views.save_view(
            current_user._get_current_object(),
            dataset,
            form.name.data,
            view,
            layout,
            shared=bool(form.shared.data),
        )
    except saved_views.ViewError as exc:
        flash(f"{exc} Nothing was saved.", "error")
        return back
    whom = "everyone who may read this dataset" if saved.shared else "only you"
    flash(f"The view {saved.name} is saved; {whom} can open it from Views.", "success")
    return back


@bp.route("/datasets/<int:dataset_id>/views/<int:view_id>")
def view_open(dataset_id: int, view_id: int) -> Response | str:
    dataset = dataset_or_404(dataset_id)
    saved = _view_or_404(dataset, view_id)
    opened = saved_views.open_view(saved, dataset)
    if opened.problems:
        return render_template(
            "datasets/view_stale.html",
            dataset=dataset,
            view=saved,
            opened=opened,
            may_change=_may_change(saved, dataset),
        )
    if opened.layout is not None:  # the view's columns become the person's arrangement
        current = layouts.layout_of(current_user.id, dataset.id)
        layouts.save_layout(
            current_user.id,
            dataset.id,
            layouts.Layout(opened.layout.order, opened.layout.hidden, current.widths),
        )
    return redirect(url_for("datasets.dataset_view", dataset_id=dataset.id, **opened.args))


def _changeable(dataset_id: int, view_id: int) -> tuple[Dataset, SavedView]:
    dataset = dataset_or_404(dataset_id)
    saved = _view_or_404(dataset, view_id)
    if not _may_change(saved, dataset):
        abort(403)
    return dataset, saved


@bp.route("/datasets/<int:dataset_id>/views/<int:view_id>/rename", methods=["POST"])
def view_rename(dataset_id: int, view_id: int) -> Response:
    dataset, saved = _changeable(dataset_id, view_id)
    form = ViewNameForm()
    if not form.validate_on_submit():
        flash(_messages(form) or "The view was not renamed; try again.", "error")
        return _list(dataset)
    before = saved.name
    try:
        saved_views.rename_view(saved, form.name.data, current_user._get_current_object())
    except saved_views.ViewError as exc:
        flash(str(exc), "error")
    else:
        flash(f"The view {before} is now called {saved.name}.", "success")
    return _list(dataset)


@bp.route("/datasets/<int:dataset_id>/views/<int:view_id>/share", methods=["POST"])
def view_share(dataset_id: int, view_id: int) -> Response:
    dataset, saved = _changeable(dataset_id, view_id)
    form = ShareViewForm()
    if form.validate_on_submit():
        shared = form.shared.data == "1"
        try:
            saved_views.set_shared(saved, shared, current_user._get_current_object())
        except saved_views.ViewError as exc:
            flash(str(exc), "error")
        else:
            whom = (
                "everyone who may read this dataset"
                if shared
                else f"only {saved.owner.display_name}"
            )
            flash(f"The view {saved.name} is now for {whom}.", "success")
    else:
        flash(_messages(form) or "Nothing was changed; try again.", "error")
    return _list(dataset)


@bp.route("/datasets/<int:dataset_id>/views/<int:view_id>/delete", methods=["POST"])
def view_delete(dataset_id: int, view_id: int) -> Response:
    dataset, saved = _changeable(dataset_id, view_id)
    if FlaskForm().validate_on_submit():
        if saved_views.delete_view(saved, current_user._get_current_object()):
            flash(f"The view {saved.name} is deleted.", "success")
        else:
            flash(f"The view {saved.name} was already deleted.", "info")
    return _list(dataset)
