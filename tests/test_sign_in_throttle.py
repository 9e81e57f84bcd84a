"""Serve mode: sign-in attempts from one computer are rationed (each costs an Argon2 check), with
an answer that says how long to wait and nothing about the name tried."""

from __future__ import annotations

import re
import threading

from server.auth.client_throttle import ClientThrottle
from server.db import database
from server.models import AuditEvent
from tests.helpers import PASSWORD, HttpSession, make_app, make_user

TOO_MANY = re.compile(r"Too many sign-in attempts from this computer; wait (\d+) seconds?\.")


def test_sign_ins_past_the_budget_get_429_whatever_the_name(tmp_path):
    from waitress.server import create_server

    app = make_app(tmp_path / "data", SERVING=True, SIGN_IN_PER_MINUTE=4)
    with app.app_context(), database.connection_context():
        make_user("vera")
    server = create_server(app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        tab = HttpSession(server.effective_port)
        _page, token = tab.csrf("/sign-in")
        answers = []
        for n in range(8):
            login = "vera" if n % 2 else "nobody"
            password = PASSWORD if n == 7 else "wrong wrong"
            fields = {"login": login, "password": password, "csrf_token": token}
            answers.append(tab.request("POST", "/sign-in", fields))
    finally:
        server.close()
        thread.join(timeout=5)

    assert [status for status, _, _ in answers] == [401] * 4 + [429] * 4
    refused = answers[4:]
    for _status, headers, body in refused:  # the right password too: it is never checked
        wait = int(TOO_MANY.search(body).group(1))
        assert 0 < wait <= 15 and headers["Retry-After"] == str(wait)
    # Nothing tells an existing name from an unknown one.
    assert len({body.replace("vera", "").replace("nobody", "") for _, _, body in refused}) == 1
    with app.app_context(), database.connection_context():
        failed = AuditEvent.select().where(AuditEvent.action == "auth.sign_in_failed")
        assert failed.count() == 4  # the refused attempts reached no password check
        throttled = AuditEvent.select().where(AuditEvent.action == "auth.sign_in_throttled")
        assert throttled.count() == 1  # once per run of refusals, not once per request
        assert throttled.get().outcome == "denied" and throttled.get().source == "127.0.0.1"


def test_other_computers_keep_their_own_budget(tmp_path):
    app = make_app(tmp_path / "data", SERVING=True, SIGN_IN_PER_MINUTE=2)
    with app.app_context(), database.connection_context():
        make_user("vera")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "10.0.0.66"
    for _ in range(2):
        assert attacker.sign_in("vera", "wrong wrong").status_code == 401
    assert attacker.sign_in("vera").status_code == 429
    colleague = app.test_client()
    colleague.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    assert colleague.sign_in("vera").status_code == 302


def test_the_desktop_window_is_not_rationed(tmp_path):
    app = make_app(tmp_path / "data", SIGN_IN_PER_MINUTE=1, LOCKOUT_THRESHOLD=100)
    with app.app_context(), database.connection_context():
        make_user("vera")
    client = app.test_client()
    assert [client.sign_in("nobody", "x" * 8).status_code for _ in range(3)] == [401] * 3


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_refills_at_its_rate_and_groups_ipv6_by_network():
    clock = Clock()
    bucket = ClientThrottle(per_minute=6, clock=clock)
    assert [bucket.take("10.0.0.1").wait for _ in range(7)] == [0] * 6 + [10]
    assert not bucket.take("10.0.0.1").first_refusal  # the 7th was the first of this run
    clock.now += 4
    assert bucket.take("10.0.0.1").wait == 6  # a token every 10 s: 6 s still to wait
    clock.now += 6
    assert bucket.take("10.0.0.1").wait == 0 and bucket.take("10.0.0.1").wait == 10
    # One IPv6 network (/64) is one computer's worth: an attacker has plenty of addresses.
    for host in range(6):
        assert bucket.take(f"2001:db8::{host + 1}").wait == 0
    assert bucket.take("2001:db8::ffff:1").wait > 0
    assert bucket.take("2001:db8:0:1::1").wait == 0


def test_the_bucket_forgets_full_buckets_to_stay_small():
    clock = Clock()
    bucket = ClientThrottle(per_minute=6, clock=clock, max_clients=100)
    for host in range(100):
        bucket.take(f"10.1.{host // 250}.{host % 250}")
    clock.now += 60  # every bucket has refilled: none needs remembering
    bucket.take("10.9.9.9")
    assert len(bucket) == 1
    for host in range(300):  # a flood of fresh addresses while buckets are still draining
        bucket.take(f"10.2.{host // 250}.{host % 250}")
    assert len(bucket) <= 100
