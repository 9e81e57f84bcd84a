"""HTTPS for ``sheaf serve --cert --key``: TLS ends in an asyncio loop, and each connection's
bytes go on to waitress on a private loopback port.

Why not a threaded TLS server (cheroot, as before): it did the TLS handshake in its one accept
thread, so a single connection that never starts TLS stalled every new visitor for the
timeout, and a worker thread waited on each slow client's headers, so twenty half-sent
requests used up the workers (docs/serving.md has both measured). Here each handshake is a
coroutine with its own deadline, and waitress reads headers without tying up a thread, as it
does for plain HTTP.

Waitress sees every request come from this process, so :class:`Peers` remembers which client
each inner connection carries; :func:`behind_front` puts that client's address back into the
request (the sign-in ration and the audit trail need it) and refuses a request that did not
come through the front, so the inner port is no way around HTTPS.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Any

from waitress.server import create_server

HANDSHAKE_SECONDS = 10.0  # a connection that has not finished TLS by then is closed
CONNECTIONS_PER_CLIENT = 64  # a browser opens six; more from one address is an attack
CHUNK = 64 * 1024


class Peers:
    """Inner connection (its local port) → the client address it carries."""

    def __init__(self) -> None:
        self._by_port: dict[int, str] = {}
        self._count: dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(self, client: str) -> bool:
        with self._lock:
            if self._count.get(client, 0) >= CONNECTIONS_PER_CLIENT:
                return False
            self._count[client] = self._count.get(client, 0) + 1
            return True

    def leave(self, client: str) -> None:
        with self._lock:
            left = self._count.get(client, 1) - 1
            if left:
                self._count[client] = left
            else:
                self._count.pop(client, None)

    def carry(self, port: int, client: str) -> None:
        with self._lock:
            self._by_port[port] = client

    def drop(self, port: int) -> None:
        with self._lock:
            self._by_port.pop(port, None)

    def client_of(self, port: int) -> str | None:
        with self._lock:
            return self._by_port.get(port)


def behind_front(app: Callable, peers: Peers) -> Callable:
    """The WSGI app as the front's inner side: the real client address and ``https``."""

    def wrapped(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        try:
            client = peers.client_of(int(environ.get("REMOTE_PORT") or 0))
        except ValueError:
            client = None
        if client is None:
            start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Use this server's https:// address.\n"]
        environ["REMOTE_ADDR"] = client
        environ["wsgi.url_scheme"] = "https"
        return app(environ, start_response)

    return wrapped


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()  # a slow reader slows its writer, never fills memory
    except (ConnectionError, OSError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError, ssl.SSLError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()
            else:
                writer.close()


class TlsFront:
    """Listens on ``host:port`` with ``context`` and hands each connection to ``inner_port``."""

    def __init__(self, context: ssl.SSLContext, inner_port: int, peers: Peers) -> None:
        self.context = context
        self.inner_port = inner_port
        self.peers = peers

    async def _connection(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter):
        address = client_w.get_extra_info("peername") or ("", 0)
        client = str(address[0])
        if not self.peers.admit(client):
            client_w.close()
            return
        port = 0
        inner_w = None
        try:
            inner_r, inner_w = await asyncio.open_connection("127.0.0.1", self.inner_port)
            port = inner_w.get_extra_info("sockname")[1]
            self.peers.carry(port, client)
            await asyncio.gather(_pump(client_r, inner_w), _pump(inner_r, client_w))
        except (ConnectionError, OSError, ssl.SSLError):
            pass
        finally:
            self.peers.drop(port)
            self.peers.leave(client)
            for writer in (client_w, inner_w):
                if writer is not None:
                    writer.close()

    async def serve(self, host: str, port: int, ready: Callable[[], None] | None = None) -> None:
        server = await asyncio.start_server(
            self._connection,
            host,
            port,
            ssl=self.context,
            ssl_handshake_timeout=HANDSHAKE_SECONDS,
            reuse_address=True,
        )
        if ready is not None:
            ready()
        async with server:
            await server.serve_forever()


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """TLS 1.2 at least, the standard library's server defaults otherwise."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def serve_https(
    app: Callable,
    context: ssl.SSLContext,
    host: str,
    port: int,
    ready: Callable[[], None] | None = None,
    **waitress,
) -> None:
    """Serve ``app`` over HTTPS until interrupted: waitress on a loopback port in a thread,
    the TLS front in this one. ``ready`` runs once the port is listening."""
    peers = Peers()
    inner = create_server(behind_front(app, peers), host="127.0.0.1", port=0, **waitress)
    thread = threading.Thread(target=inner.run, name="sheaf-https-inner", daemon=True)
    thread.start()
    try:
        asyncio.run(TlsFront(context, inner.effective_port, peers).serve(host, port, ready))
    finally:
        inner.close()
