"""Serve mode: sign-in attempts rationed per client address.

Every attempt costs one Argon2 check, an unknown name included (so timing hides which names
exist); unrationed, one client on the network keeps the server's cores busy and guesses as fast
as they allow. The account lock-out bounds guesses per account; this bounds the work one
computer can cause, over every name. A token bucket in memory is enough: one server process
(the data folder's lock), and a restart only gives a client its budget back.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from flask import Flask, current_app, request

from ..audit_trail import record

_EPSILON = 1e-9  # float sums of refills must not leave a whole token at 0.9999…


class Ration(NamedTuple):
    wait: int  # 0: go ahead (a token was taken); else whole seconds until the next token
    first_refusal: bool  # the first refusal since this client last went ahead


def client_key(address: str) -> str:
    """The bucket an address draws from: an IPv6 /64 is one client (one network hands out
    as many addresses as an attacker wants), an IPv4-mapped address is its IPv4 one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class ClientThrottle:
    """``per_minute`` attempts per client, refilled evenly, up to ``per_minute`` at once."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: dict[str, tuple[float, float, bool]] = {}  # tokens, when, refusing
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, address: str) -> Ration:
        key = client_key(address)
        with self._lock:
            now = self._clock()
            if key not in self._buckets and len(self._buckets) >= self._max_clients:
                self._forget(now)
            tokens, when, refusing = self._buckets.get(key, (self.capacity, now, False))
            tokens = min(self.capacity, tokens + (now - when) * self.rate)
            if tokens >= 1 - _EPSILON:
                self._buckets[key] = (max(0.0, tokens - 1), now, False)
                return Ration(0, False)
            self._buckets[key] = (tokens, now, True)
            wait = max(1, math.ceil(round((1 - tokens) / self.rate, 6)))
            return Ration(wait, not refusing)

    def _forget(self, now: float) -> None:
        """Drop full buckets (they hold nothing a new one would not); if that is not enough,
        the older half, so memory stays bounded under a flood of addresses."""
        full = [
            key
            for key, (tokens, when, _) in self._buckets.items()
            if tokens + (now - when) * self.rate >= self.capacity - _EPSILON
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_clients:
            by_age = sorted(self._buckets, key=lambda key: self._buckets[key][1])
            for key in by_age[: len(by_age) // 2 + 1]:
                del self._buckets[key]


def init_app(app: Flask) -> None:
    if app.config.get("SERVING"):
        app.extensions["sheaf.sign_in_rations"] = ClientThrottle(app.config["SIGN_IN_PER_MINUTE"])


def sign_in_wait() -> int:
    """0 if this request's client may try a password now, else seconds to wait (serve mode
    only). The first refusal of a run is audited; the rest would only fill the log."""
    throttle: ClientThrottle | None = current_app.extensions.get("sheaf.sign_in_rations")
    if throttle is None:
        return 0
    ration = throttle.take(request.remote_addr or "")
    if ration.first_refusal:
        record(
            "auth.sign_in_throttled",
            outcome="denied",
            details={"per_minute": int(throttle.capacity), "wait_seconds": ration.wait},
        )
    return ration.wait
