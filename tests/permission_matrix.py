"""Who may use each route: the table of expected answers that the permission matrix test checks
route by route, and that the accessibility and fuzz tests use to find every page and form."""

from __future__ import annotations

from server.models import User
from tests.helpers import make_dataset, make_import, make_role, make_user

WHO = ("anonymous", "viewer", "editor", "admin", "custom")

# (endpoint, method) -> expected status for anonymous, viewer, editor, admin, custom
# ("custom" holds a role with audit.view only). Requests carry a valid CSRF token, so the
# answers show the permission checks, not CSRF refusals (tested in test_security.py).
LOGIN = 302  # anonymous: sent to the sign-in page


def row(anonymous=LOGIN, viewer=200, editor=None, admin=None, custom=None):
    editor = viewer if editor is None else editor
    admin = editor if admin is None else admin
    custom = viewer if custom is None else custom
    return dict(zip(WHO, (anonymous, viewer, editor, admin, custom), strict=True))


ADMIN_ONLY_PAGE = row(viewer=403, admin=200)
ADMIN_ONLY_ACTION = row(viewer=403, admin=302)

MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("static", "GET"): row(anonymous=200),
    ("auth.setup", "GET"): row(anonymous=404, viewer=404),
    ("auth.setup", "POST"): row(anonymous=404, viewer=404),
    ("auth.sign_in", "GET"): row(anonymous=200, viewer=302),
    ("auth.sign_in", "POST"): row(anonymous=401, viewer=302),
    ("auth.sign_out", "POST"): row(viewer=302),
    ("auth.unlock", "GET"): row(viewer=302),
    ("auth.unlock", "POST"): row(viewer=302),
    ("auth.keep_alive", "POST"): row(viewer=204),
    ("auth.account", "GET"): row(),
    ("auth.account", "POST"): row(viewer=302),  # the unchanged name is saved
    ("auth.change_password", "GET"): row(),
    ("auth.change_password", "POST"): row(),
    ("home.index", "GET"): row(),
    ("help.help_index", "GET"): row(),  # Sheaf's docs, for everyone signed in
    ("help.help_page", "GET"): row(),
    ("users.people", "GET"): ADMIN_ONLY_PAGE,
    ("users.new_person", "GET"): ADMIN_ONLY_PAGE,
    ("users.new_person", "POST"): ADMIN_ONLY_PAGE,
    ("users.person", "GET"): ADMIN_ONLY_PAGE,
    ("users.person", "POST"): ADMIN_ONLY_PAGE,
    ("users.disable_person", "POST"): ADMIN_ONLY_ACTION,
    ("users.enable_person", "POST"): ADMIN_ONLY_ACTION,
    ("users.unlock_person", "POST"): ADMIN_ONLY_ACTION,
    ("users.reset_person_password", "POST"): ADMIN_ONLY_PAGE,
    ("users.role_list", "GET"): ADMIN_ONLY_PAGE,
    ("users.new_role", "GET"): ADMIN_ONLY_PAGE,
    ("users.new_role", "POST"): ADMIN_ONLY_PAGE,
    ("users.role", "GET"): ADMIN_ONLY_PAGE,
    ("users.role", "POST"): ADMIN_ONLY_ACTION,  # saved unchanged
    ("users.delete_role", "POST"): ADMIN_ONLY_ACTION,
    ("admin.audit_log", "GET"): row(viewer=403, admin=200, custom=200),
    ("backups.backups", "GET"): ADMIN_ONLY_PAGE,
    ("backups.backup_new", "POST"): ADMIN_ONLY_ACTION,
    ("backups.backup_file", "GET"): ADMIN_ONLY_PAGE,
    ("backups.backup_verify", "POST"): ADMIN_ONLY_ACTION,
    ("backups.backup_upload", "POST"): row(viewer=403, admin=400),  # no file: the form says so
    ("backups.backup_restore", "GET"): ADMIN_ONLY_PAGE,
    ("backups.backup_restore", "POST"): ADMIN_ONLY_PAGE,  # not confirmed: the form says so
    ("backups.backup_restore_cancel", "POST"): ADMIN_ONLY_ACTION,
    ("backups.data_check", "POST"): ADMIN_ONLY_ACTION,
    ("settings.settings", "GET"): ADMIN_ONLY_PAGE,
    ("settings.settings", "POST"): ADMIN_ONLY_PAGE,  # an empty form: the fields say what is missing
    ("datasets.dataset_list", "GET"): row(),
    # The dataset is the editor's own; admins read every dataset (datasets.view_all).
    ("datasets.dataset_view", "GET"): row(viewer=404, editor=200, admin=200),
    ("imports.upload", "GET"): row(viewer=403, editor=200),
    ("imports.upload", "POST"): row(viewer=403, editor=200),  # no file: the form says so
    ("imports.upload_picked", "POST"): row(viewer=403, editor=404),  # no dialog chose a file
    # Imports are the editor's own: nobody else sees them, not even an admin.
    ("imports.import_preview", "GET"): row(viewer=403, editor=200, admin=404),
    ("imports.import_preview", "POST"): row(viewer=403, editor=200, admin=404),
    ("imports.import_status", "GET"): row(viewer=403, editor=200, admin=404),
    ("imports.import_progress", "GET"): row(viewer=403, editor=200, admin=404),
    ("imports.import_cancel", "POST"): row(viewer=403, editor=302, admin=404),
    ("imports.import_problems", "GET"): row(viewer=403, editor=200, admin=404),
    # Changing, sharing and deleting: the owner, and admins (datasets.edit_all / .share).
    ("datasets.dataset_about", "GET"): row(viewer=404, editor=200, admin=200),
    ("datasets.dataset_about", "POST"): row(viewer=404, editor=302, admin=302),  # unchanged
    ("datasets.dataset_delete", "GET"): row(viewer=404, editor=200, admin=200),
    ("datasets.dataset_delete", "POST"): row(viewer=404, editor=302, admin=302),
    ("datasets.dataset_sharing", "GET"): row(viewer=404, editor=200, admin=200),
    ("datasets.dataset_sharing", "POST"): row(viewer=404, editor=200, admin=200),  # no target
    ("datasets.dataset_revoke", "POST"): row(viewer=404, editor=302, admin=302),
    ("rules.dataset_rules", "GET"): row(viewer=404, editor=200, admin=200),
    ("rules.dataset_rules", "POST"): row(viewer=404, editor=400, admin=400),  # nobody chosen
    ("rules.dataset_rule_remove", "POST"): row(viewer=404, editor=302, admin=302),
    ("datasets.dataset_export", "GET"): row(viewer=403, editor=200, admin=200, custom=403),
    # Anyone who may read a dataset keeps their own column layout (an empty form: unchanged).
    ("datasets.dataset_layout", "POST"): row(viewer=404, editor=302, admin=302),
    ("datasets.dataset_profile", "GET"): row(viewer=404, editor=200, admin=200),
    ("datasets.dataset_profile_status", "GET"): row(viewer=404, editor=200, admin=200),
    ("datasets.dataset_chart", "GET"): row(viewer=404, editor=200, admin=200),
    ("datasets.dataset_chart_svg", "GET"): row(viewer=404, editor=400, admin=400),  # no column
    ("datasets.dataset_clean", "GET"): row(viewer=404, editor=200, admin=200),
    ("datasets.dataset_clean", "POST"): row(viewer=404, editor=400, admin=400),  # no step chosen
    ("history.dataset_history", "GET"): row(viewer=404, editor=200, admin=200),
    ("history.dataset_undo", "POST"): row(viewer=404, editor=302, admin=302),
    ("history.dataset_redo", "POST"): row(viewer=404, editor=302, admin=302),  # nothing to redo
    # Version 1 is the current one: "choose an earlier version", back to the history.
    ("history.dataset_go_back", "GET"): row(viewer=404, editor=302, admin=302),
    ("history.dataset_go_back", "POST"): row(viewer=404, editor=302, admin=302),
    ("rows.row_edit", "GET"): row(viewer=404, editor=200, admin=200),
    ("rows.row_edit", "POST"): row(viewer=404, editor=302, admin=302),  # nothing changed
    ("rows.row_new", "GET"): row(viewer=404, editor=200, admin=200),
    ("rows.row_new", "POST"): row(viewer=404, editor=400, admin=400),  # no version: out of date
    ("rows.rows_delete", "POST"): row(viewer=404, editor=302, admin=302),  # no rows chosen
    ("rows.cell_edit", "POST"): row(viewer=404, editor=400, admin=400),  # no version: refused
    ("rows.row_history", "GET"): row(viewer=404, editor=200, admin=200),
    ("datasets.dataset_save_recipe", "POST"): row(viewer=404, editor=302, admin=302),
    # Recipes are personal: only their author (the editor here) sees or uses them.
    ("recipes.recipe_list", "GET"): row(),
    ("recipes.dataset_recipes", "GET"): row(viewer=404, editor=200, admin=200),
    ("recipes.recipe_rename", "POST"): row(viewer=404, editor=302, admin=404),  # no name
    ("recipes.recipe_delete", "POST"): row(viewer=404, editor=302, admin=404),
    ("recipes.recipe_run", "POST"): row(viewer=404, editor=302, admin=404),  # no version
    # Saved views: anyone who reads the dataset; the case's view is the editor's, shared, so
    # an admin (who may manage the dataset's sharing) may also rename and delete it.
    ("views.dataset_views", "GET"): row(viewer=404, editor=200, admin=200),
    ("views.view_save", "POST"): row(viewer=404, editor=302, admin=302),  # no name: says so
    ("views.view_open", "GET"): row(viewer=404, editor=302, admin=302),
    ("views.view_rename", "POST"): row(viewer=404, editor=302, admin=302),  # no name: says so
    ("views.view_share", "POST"): row(viewer=404, editor=302, admin=302),  # no choice: says so
    ("views.view_delete", "POST"): row(viewer=404, editor=302, admin=302),
    # The JSON API answers 401 instead of sending anonymous callers to the sign-in page.
    ("api.datasets", "GET"): row(anonymous=401),
    ("api.dataset", "GET"): row(anonymous=401, viewer=404, editor=200, admin=200),
    ("api.rows", "GET"): row(anonymous=401, viewer=404, editor=200, admin=200),
    # Facets and summaries: as reading the dataset; a summary's CSV also needs datasets.export.
    ("analysis.dataset_facet", "GET"): row(viewer=404, editor=200, admin=200),
    ("analysis.dataset_summary", "GET"): row(viewer=404, editor=200, admin=200),
    ("analysis.dataset_summary_csv", "GET"): row(viewer=403, editor=400, admin=400, custom=403),
    ("api.facet", "GET"): row(anonymous=401, viewer=404, editor=200, admin=200),
    ("api.summary", "GET"): row(anonymous=401, viewer=404, editor=400, admin=400),
}


def case_url(app, endpoint, method, who):
    """The URL of one case: it acts on objects of its own, so one case's change cannot affect
    another."""
    params = {}
    with app.test_request_context():
        from flask import url_for

        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        if "user_id" in rule.arguments:
            params["user_id"] = make_user(f"target-{endpoint}-{method}-{who}", "viewer").id
        if "role_id" in rule.arguments:
            params["role_id"] = make_role(f"role-{endpoint}-{method}-{who}", []).id
        if "dataset_id" in rule.arguments:
            params["dataset_id"] = make_dataset(app, User.get(User.login == "eddie")).id
        if "share_id" in rule.arguments:
            from server.models import DatasetShare, Role

            share = DatasetShare.create(
                dataset=params["dataset_id"], role=Role.get(Role.builtin == "editor")
            )
            params["share_id"] = share.id
        if "rule_id" in rule.arguments:
            from server.models import Role, RowRule

            params["rule_id"] = RowRule.create(
                dataset=params["dataset_id"],
                role=Role.get(Role.builtin == "viewer"),
                column="c2",
                kind="user_name",
            ).id
        if "job_id" in rule.arguments:
            status = "ready" if endpoint == "imports.import_preview" else "done"
            params["job_id"] = make_import(app, User.get(User.login == "eddie"), status).id
        if "name" in rule.arguments:
            from server import backup

            data_dir = app.config["DATA_DIR"]
            params["name"] = backup.make_backup(
                data_dir, backup.new_backup_path(data_dir)
            ).path.name
        if "recipe_id" in rule.arguments:
            import json

            from server.models import Recipe

            columns = [
                {"name": "c1", "label": "id", "type": "integer"},
                {"name": "c2", "label": "name", "type": "text"},
            ]
            params["recipe_id"] = Recipe.create(
                name=f"recipe-{endpoint}-{who}",
                owner=User.get(User.login == "eddie"),
                columns=json.dumps(columns),
                steps=json.dumps([{"kind": "trim", "params": {"column": "c2"}}]),
            ).id
        if "view_id" in rule.arguments:
            from server.models import SavedView

            params["view_id"] = SavedView.create(
                dataset=params["dataset_id"],
                owner=User.get(User.login == "eddie"),
                name="Matrix",
                name_key="matrix",
                shared=True,
                spec="{}",
                dataset_version=1,
            ).id
        if "doc" in rule.arguments:
            params["doc"] = "settings"
        if "row_id" in rule.arguments:
            params["row_id"] = 1
        if "number" in rule.arguments:
            params["number"] = 1
        if "column" in rule.arguments:
            params["column"] = "c1"
        if "filename" in rule.arguments:
            params["filename"] = "css/sheaf.css"
        return url_for(endpoint, **params)
