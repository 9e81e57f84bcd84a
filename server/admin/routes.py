"""Admin pages: the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, current_app, render_template, request

from ..permissions import require_permission
from .audit import AuditFilter, query_events
from .audit_sentences import Names, sentence
from .forms import AuditFilterForm

bp = Blueprint("admin", __name__)


@bp.route("/audit")
@require_permission("audit.view")
def audit_log() -> str:
    form = AuditFilterForm(request.args)
    filters = AuditFilter()
    if form.validate():
        filters = AuditFilter(
            actor_id=form.person.data or None,
            action=form.action.data or None,
            since=datetime.combine(form.since.data, time(), UTC) if form.since.data else None,
            until=(datetime.combine(form.until.data, time(), UTC) + timedelta(days=1))
            if form.until.data
            else None,
        )
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 1_000_000 else 1
    per_page = current_app.config["PAGE_SIZE"]
    query = query_events(filters)
    events = list(
        query.limit(per_page + 1).offset((page - 1) * per_page)
    )  # one extra: is there a next page?
    names = Names()  # each dataset and person looked up once for the page
    shown = [(event, sentence(event, names)) for event in events[:per_page]]
    return render_template(
        "admin/audit.html",
        form=form,
        events=shown,
        page=page,
        has_next=len(events) > per_page,
        args={k: v for k, v in request.args.items() if k != "page"},
    )
