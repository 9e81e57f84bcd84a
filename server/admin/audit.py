"""Recording and reading the audit log. Events are only ever added (SQLite triggers refuse
updates and deletes), so the log stays a faithful record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from peewee import JOIN, ModelSelect

from ..models import AuditEvent, User


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


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def query_events(filters: AuditFilter) -> ModelSelect:
    """Events matching ``filters``, newest first."""
    query = AuditEvent.select(AuditEvent, User).join(User, join_type=JOIN.LEFT_OUTER)
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor == filters.actor_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since is not None:
        query = query.where(AuditEvent.time >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.time < filters.until)
    return query.order_by(AuditEvent.time.desc(), AuditEvent.id.desc())


def known_actions() -> list[str]:
    rows = AuditEvent.select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return [row.action for row in rows]
