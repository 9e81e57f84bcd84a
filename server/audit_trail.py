"""Writing the audit trail: one function that every feature calls to record what happened.

It sits below every feature package (it imports only the models and Flask's request
context), so users, auth, datasets, backups and the command line can all record events without
importing each other. Events are only ever added: SQLite triggers refuse updates and deletes
(migration 0002), so the log stays a faithful record. Reading it is ``admin.audit``'s job."""

from __future__ import annotations

import json
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from .models import AuditEvent, User


def record(
    action: str,
    *,
    object_type: str = "",
    object_id: Any = "",
    details: dict[str, Any] | None = None,
    outcome: str = "ok",
    actor: User | None = None,
) -> AuditEvent:
    """Add one event. The actor defaults to the signed-in person, the source to their address."""
    source = ""
    if has_request_context():
        source = request.remote_addr or ""
        if actor is None and current_user.is_authenticated:
            actor = current_user._get_current_object()
    return AuditEvent.create(
        actor=actor,
        actor_name=actor.login if actor else "",
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        details=json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str),
        outcome=outcome,
        source=source,
    )
