"""Reading the audit log for its page: filters and the list of actions seen. Events are
written by :mod:`server.audit_trail`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import JOIN, ModelSelect

from ..models import AuditEvent, User


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
