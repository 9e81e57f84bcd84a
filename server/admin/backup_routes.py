"""Admin pages for backups: make one, verify, save or download, upload, restore (needs
``backup.manage``). The work itself is in :mod:`server.backup`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_login import current_user

from .. import backup
from ..audit_trail import record
from ..auth.session import password_policy, throttle
from ..auth.signin import confirm_password
from ..db import database
from ..downloads import attachment, save_target, saved
from ..errors import disk_full
from ..migrations import current_version
from ..permissions import require_permission
from .forms import BackupUploadForm, RestoreForm
from .maintenance import full_check

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.zip$")

bp = Blueprint("backups", __name__)


def _data_dir() -> Path:
    return Path(current_app.config["DATA_DIR"])


def _backup_or_404(name: str) -> Path:
    path = backup.backups_dir(_data_dir()) / name
    if not _NAME.match(name) or not path.is_file():
        abort(404)
    return path


def _listing() -> list[dict]:
    return [
        {
            "name": p.name,
            "size": p.stat().st_size,
            "made": datetime.fromtimestamp(p.stat().st_mtime, UTC),
            "automatic": p.name.startswith(backup.AUTO_PREFIX),
        }
        for p in backup.list_backups(_data_dir())
    ]


@bp.route("/backups")
@require_permission("backup.manage")
def backups() -> str:
    return _backups_page(BackupUploadForm())


def _backups_page(upload: BackupUploadForm) -> str:
    return render_template(
        "admin/backups.html",
        backups=_listing(),
        upload=upload,
        pending=backup.restore_pending(_data_dir()),
        keep=current_app.config["BACKUP_KEEP"],
        automatic=current_app.config["BACKUP_AUTOMATIC"],
        folder=backup.backups_dir(_data_dir()),
    )


@bp.route("/backups/new", methods=["POST"])
@require_permission("backup.manage")
def backup_new() -> Response:
    target = backup.new_backup_path(_data_dir())
    try:
        info = backup.make_backup(_data_dir(), target)
    except (backup.BackupError, OSError) as exc:
        record("backup.made", outcome="failed", details={"error": str(exc)})
        reason = "the disk is full; free some space and try again" if disk_full(exc) else exc
        flash(f"The backup could not be made: {reason}. Nothing was changed.", "error")
    else:
        record(
            "backup.made",
            object_type="backup",
            object_id=info.path.name,
            details={"files": info.files, "datasets": info.datasets, "bytes": info.size},
        )
        flash(f"Backup {info.path.name} made ({info.datasets} datasets).", "success")
    return redirect(url_for("backups.backups"))


@bp.route("/backups/<name>")
@require_permission("backup.manage")
def backup_file(name: str) -> Response:
    path = _backup_or_404(name)
    target = save_target()
    record("backup.saved", object_type="backup", object_id=name)
    if target is not None:

        def chunks():
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    yield chunk

        return saved(chunks(), target)
    response = send_file(path, mimetype="application/zip")
    response.headers.update(attachment(name))  # the one Content-Disposition (server.downloads)
    return response


@bp.route("/backups/<name>/verify", methods=["POST"])
@require_permission("backup.manage")
def backup_verify(name: str) -> Response:
    path = _backup_or_404(name)
    try:
        info = backup.verify_backup(path, _data_dir(), current_version(database))
    except backup.BackupError as exc:
        record(
            "backup.verified",
            object_type="backup",
            object_id=name,
            outcome="failed",
            details={"error": str(exc)},
        )
        flash(f"{name} is not usable: {exc}", "error")
    else:
        record("backup.verified", object_type="backup", object_id=name)
        flash(
            f"{name} is sound: "
            + ("its file matches" if info.files == 1 else f"all {info.files} files match")
            + " the checksums in its manifest, and every database passes SQLite's integrity "
            "check.",
            "success",
        )
    return redirect(url_for("backups.backups"))


@bp.route("/backups/upload", methods=["POST"])
@require_permission("backup.manage")
def backup_upload() -> str | Response:
    form = BackupUploadForm()
    if form.validate_on_submit():
        target = backup.new_upload_path(_data_dir())
        partial = target.with_name(target.name + ".partial")
        with backup.open_private(partial, exclusive=True) as handle:
            form.file.data.save(handle)
        try:
            backup.verify_backup(partial, _data_dir(), current_version(database))
        except backup.BackupError as exc:
            partial.unlink(missing_ok=True)
            form.file.errors.append(str(exc))
        else:
            partial.replace(target)
            record("backup.uploaded", object_type="backup", object_id=target.name)
            flash(f"The backup was checked and kept as {target.name}; restore it below.", "success")
            return redirect(url_for("backups.backups"))
    return _backups_page(form), 400


@bp.route("/backups/<name>/restore", methods=["GET", "POST"])
@require_permission("backup.manage")
def backup_restore(name: str) -> str | Response:
    path = _backup_or_404(name)
    form = RestoreForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not confirm_password(user, form.password.data, password_policy().hasher, throttle()):
            record(
                "backup.restore_refused",
                object_type="backup",
                object_id=name,
                outcome="denied",
                details={"reason": "wrong password"},
            )
            form.password.errors.append("The password is not right.")
        else:
            try:
                info = backup.stage_restore(path, _data_dir(), current_version(database))
            except backup.BackupError as exc:
                record(
                    "backup.restore_refused",
                    object_type="backup",
                    object_id=name,
                    outcome="failed",
                    details={"error": str(exc)},
                )
                form.form_errors.append(f"{name} cannot be restored: {exc}")
            else:
                record(
                    "backup.restore_scheduled",
                    object_type="backup",
                    object_id=name,
                    details={"made": info.created_at.isoformat(), "datasets": info.datasets},
                )
                flash(
                    f"{name} is checked and ready. Close Sheaf and start it again to finish the "
                    "restore; the data of now is kept as a backup first.",
                    "success",
                )
                return redirect(url_for("backups.backups"))
    return render_template("admin/restore.html", form=form, name=name)


@bp.route("/backups/restore/cancel", methods=["POST"])
@require_permission("backup.manage")
def backup_restore_cancel() -> Response:
    if backup.restore_pending(_data_dir()):
        backup.cancel_restore(_data_dir())
        record("backup.restore_cancelled")
        flash("The restore is cancelled; nothing was changed.", "info")
    return redirect(url_for("backups.backups"))


@bp.route("/backups/check", methods=["POST"])
@require_permission("backup.manage")
def data_check() -> Response:
    results = full_check(_data_dir())
    bad = {name: result for name, result in results.items() if result != "ok"}
    record(
        "data.checked",
        outcome="failed" if bad else "ok",
        details={"files": len(results), "damaged": sorted(bad)[:20]},
    )
    if bad:
        names = ", ".join(f"{name} ({result})" for name, result in list(bad.items())[:5])
        flash(
            f"{len(bad)} of {len(results)} database files are damaged: {names}. Restore the "
            "newest backup that verifies.",
            "error",
        )
    else:
        flash(f"All {len(results)} database files pass SQLite's full integrity check.", "success")
    return redirect(url_for("backups.backups"))
