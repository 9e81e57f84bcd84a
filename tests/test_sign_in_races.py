"""Wrong passwords sent at once, through the real server (waitress, real HTTP, one thread per
attacker's connection): the lock-out still lands after the threshold, no later failure lifts
it, and the right password is refused while it holds."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask

from server.auth.signin import GENERIC_FAILURE
from server.db import database
from server.models import AuditEvent, User
from tests.helpers import PASSWORD, HttpSession, make_app, make_user

ATTACKERS = 9  # more connections than the server has threads: some always wait in its queue
ROUNDS = 12
THRESHOLD = 5


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[Flask, int]]:
    from waitress.server import create_server

    app = make_app(tmp_path / "data", LOCKOUT_THRESHOLD=THRESHOLD)
    with app.app_context(), database.connection_context():
        make_user("vera")
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield app, server.effective_port
    finally:
        server.close()
        thread.join(timeout=5)


def _reasons() -> list[str]:
    failed = AuditEvent.select().where(AuditEvent.action == "auth.sign_in_failed")
    return [event.details_dict["reason"] for event in failed]


def test_parallel_wrong_passwords_count_no_further_than_the_threshold(served):
    app, port = served
    tabs = [HttpSession(port) for _ in range(ATTACKERS)]
    tokens = [tab.csrf("/sign-in")[1] for tab in tabs]
    start = threading.Barrier(ATTACKERS)
    answers: list[tuple[int, int, str]] = []  # (round, status, body)
    lock = threading.Lock()

    def attacker(index: int) -> None:
        for n in range(ROUNDS):
            # From the second round on, one connection tries the right password, as the
            # attacker's list would once it reached it.
            password = PASSWORD if index == 0 and n > 0 else f"guess {index}-{n}"
            start.wait(timeout=60)
            status, _, body = tabs[index].request(
                "POST",
                "/sign-in",
                {"login": "vera", "password": password, "csrf_token": tokens[index]},
            )
            with lock:
                answers.append((n, status, body))

    threads = [threading.Thread(target=attacker, args=(i,)) for i in range(ATTACKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert len(answers) == ATTACKERS * ROUNDS
    assert all(status == 401 and GENERIC_FAILURE in body for _, status, body in answers)
    with app.app_context(), database.connection_context():
        vera = User.get(User.login == "vera")
        assert vera.is_locked()
        reasons = _reasons()
        # Each counted failure is one conditional UPDATE that matches only while the account is
        # unlocked, and SQLite runs them one at a time: the THRESHOLD-th sets the lock, and
        # every attempt decided after it (those in flight at that moment included) is refused
        # as locked without counting. So exactly THRESHOLD guesses were ever judged, however
        # many arrived together.
        assert reasons.count("wrong password") == THRESHOLD
        assert reasons.count("account locked") == ATTACKERS * ROUNDS - THRESHOLD
        assert AuditEvent.select().where(AuditEvent.action == "auth.locked_out").count() == 1
        assert not AuditEvent.select().where(AuditEvent.action == "auth.sign_in").exists()

    # After the storm, the right password is still refused while the lock holds.
    status, _, body = HttpSession(port).post(
        "/sign-in", {"login": "vera", "password": PASSWORD}, "/sign-in"
    )
    assert status == 401 and GENERIC_FAILURE in body


def _lock_during_the_check(monkeypatch, login: str) -> None:
    """Make the account's lock land while its password is being checked, as another request's
    failure would: the check is where a sign-in spends its time."""
    from datetime import timedelta

    from server.auth import signin
    from server.models import utcnow

    real_verify = signin.verify

    def verify_then_lock(hasher, stored, password):
        outcome = real_verify(hasher, stored, password)
        until = utcnow() + timedelta(minutes=15)
        User.update(locked_until=until).where(User.login == login).execute()
        return outcome

    monkeypatch.setattr(signin, "verify", verify_then_lock)


def test_a_lock_set_during_the_check_refuses_the_right_password(app, anon, people, monkeypatch):
    _lock_during_the_check(monkeypatch, "vera")
    response = anon.sign_in("vera")
    assert response.status_code == 401 and GENERIC_FAILURE in response.get_data(as_text=True)
    assert User.get(User.login == "vera").is_locked()
    assert _reasons() == ["account locked"]
    assert not AuditEvent.select().where(AuditEvent.action == "auth.sign_in").exists()


def test_a_failure_never_lifts_a_lock_set_during_its_check(app, anon, people, monkeypatch):
    User.update(failed_attempts=1).where(User.login == "vera").execute()
    _lock_during_the_check(monkeypatch, "vera")
    assert anon.sign_in("vera", "not her password").status_code == 401
    vera = User.get(User.login == "vera")
    assert vera.is_locked() and vera.failed_attempts == 1  # not counted, lock kept
    assert _reasons() == ["account locked"]
