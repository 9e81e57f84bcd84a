"""The audit log: what is recorded, the page's filters and pages, and that it is append-only."""

from datetime import UTC, datetime, timedelta

import peewee
import pytest

from server.models import AuditEvent, User
from tests.helpers import make_user


def test_sign_ins_failures_and_lockouts_are_recorded(anon, people):
    anon.sign_in("vera", "bad password 1")
    anon.sign_in("vera")
    actions = [(e.action, e.outcome) for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert actions == [("auth.sign_in_failed", "denied"), ("auth.sign_in", "ok")]
    event = AuditEvent.select().order_by(AuditEvent.id.desc()).get()
    assert event.actor.login == "vera" and event.source == "127.0.0.1"


def test_the_log_refuses_updates_and_deletes(people):
    event = AuditEvent.create(action="test.event")
    with pytest.raises(peewee.IntegrityError, match="append-only"):
        AuditEvent.update(action="forged").execute()
    with pytest.raises(peewee.IntegrityError, match="append-only"):
        event.delete_instance()
    assert AuditEvent.get_by_id(event.id).action == "test.event"


def _seed(people, count):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(count):
        AuditEvent.create(
            time=start + timedelta(days=i),
            actor=people["editor"] if i % 2 else people["viewer"],
            action="seed.odd" if i % 2 else "seed.even",
            object_type="thing",
            object_id=i,
        )


def test_audit_page_filters_by_person_action_and_dates(admin_client, people):
    _seed(people, 10)
    page = admin_client.get(f"/audit?person={people['editor'].id}").get_data(as_text=True)
    assert 'data-action="seed.odd"' in page and 'data-action="seed.even"' not in page
    assert "Eddie Editor: seed odd, thing 9" in page  # an action without a sentence: words
    page = admin_client.get("/audit?action=seed.even").get_data(as_text=True)
    assert page.count('data-action="seed.even"') == 5 and 'data-action="seed.odd"' not in page
    page = admin_client.get("/audit?since=2026-01-03&until=2026-01-04").get_data(as_text=True)
    assert page.count('data-action="seed.') == 2
    assert "thing 2" in page and "thing 3" in page


def test_audit_page_shows_bad_filters_as_errors_not_500(admin_client, people):
    response = admin_client.get("/audit?since=yesterday&person=abc&page=-3")
    assert response.status_code == 200
    assert "Not a valid date value." in response.get_data(as_text=True)


def test_audit_page_is_paginated_newest_first(app, admin_client, people):
    _seed(people, 120)
    first = admin_client.get("/audit?action=seed.even").get_data(as_text=True)
    assert first.count('data-action="seed.even"') == 50
    assert "thing 118" in first and "thing 18<" not in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = admin_client.get("/audit?action=seed.even&page=2").get_data(as_text=True)
    assert second.count('data-action="seed.even"') == 10 and "thing 0<" in second
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_account_and_role_changes_are_recorded_with_their_actor(admin_client, people):
    target = make_user("newbie")
    admin_client.post_form(f"/people/{target.id}/disable")
    admin_client.post_form("/roles/new", {"name": "Lab", "permissions": ["datasets.import"]})
    for action in ["user.disabled", "role.created"]:
        assert AuditEvent.get(AuditEvent.action == action).actor_id == people["admin"].id
    page = admin_client.get("/audit").get_data(as_text=True)
    assert "Ada Admin disabled Newbie&#39;s account" in page
    assert "Ada Admin created the role Lab with the permissions: Import files" in page
    assert ">user.disabled<" not in page and "People: disabled</option>" in page
    assert User.get_by_id(target.id).active is False
