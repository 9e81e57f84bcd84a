"""The ``sheaf`` command: the desktop window by default, plus ``serve``, ``reset-password``,
``backup`` and ``restore``. It sits at the top, above the server it starts."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import sys
from collections.abc import Callable, Sequence
from typing import Any

from server import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sheaf", description="Sheaf: an offline, multi-user data desk."
    )
    parser.add_argument("--version", action="version", version=f"Sheaf {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where Sheaf keeps its database and files (default: SHEAF_DATA_DIR or the "
        "per-user application-data folder)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("desktop", help="open the Sheaf window (the default)")

    serve = commands.add_parser("serve", help="serve Sheaf to a web browser")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    serve.add_argument(
        "--i-understand-no-tls",
        action="store_true",
        help="allow a non-loopback address without TLS (passwords cross the network in clear)",
    )
    serve.add_argument("--cert", metavar="FILE", help="TLS certificate (PEM): serve HTTPS")
    serve.add_argument("--key", metavar="FILE", help="the certificate's private key (PEM)")
    serve.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="a host name or address people use to reach Sheaf; others are refused (repeat "
        "for several; default: this computer's names and addresses)",
    )

    reset = commands.add_parser(
        "reset-password",
        help="give an account a new temporary password (for the owner of this computer)",
    )
    reset.add_argument("user", help="the sign-in name")

    make = commands.add_parser(
        "backup", help="write a backup of the data folder to a file (Sheaf may be running)"
    )
    make.add_argument(
        "path", help="the backup file to write (.zip), or a folder to write a dated one in"
    )
    restore = commands.add_parser(
        "restore",
        help="replace the data folder's data with a backup's (Sheaf must be closed); the data "
        "of now is kept as a backup in the folder's backups/",
    )
    restore.add_argument("path", help="the backup file to restore")
    return parser


def _config(args: argparse.Namespace) -> dict[str, Any]:
    return {"DATA_DIR": args.data_dir} if args.data_dir else {}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(args: argparse.Namespace) -> int:
    tls = bool(args.cert or args.key)
    if tls and not (args.cert and args.key):
        print("sheaf: give both --cert and --key for HTTPS.", file=sys.stderr)
        return 2
    if not is_loopback(args.host) and not tls and not args.i_understand_no_tls:
        print(
            f"Refusing to listen on {args.host}: other machines would send passwords without "
            "encryption. Give a certificate with --cert and --key, use 127.0.0.1, or add "
            "--i-understand-no-tls on a network you trust.",
            file=sys.stderr,
        )
        return 2
    from .startup import start

    hosts = args.allowed_host or allowed_hosts(args.host)
    serving = {"SERVING": True, "TRUSTED_HOSTS": hosts, "SESSION_COOKIE_SECURE": tls, "TLS": tls}
    started = start(_config(args), serving)
    app = started.app
    scheme = "https" if tls else "http"
    shown = f"[{args.host}]" if ":" in args.host else args.host

    def announce() -> None:  # once listening: a browser opened at once finds the server
        print(f"Sheaf {__version__} is serving {app.config['DATA_DIR']}")
        print(f"Open {scheme}://{shown}:{args.port}/ in a web browser. Press Ctrl+C to stop.")
        print(f"Requests for other host names are refused; allowed: {', '.join(hosts)}", flush=True)

    if tls:
        return _serve_tls(app, args, announce)
    from waitress import create_server

    server = create_server(app, host=args.host, port=args.port, threads=8, ident="Sheaf")
    announce()
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0


def allowed_hosts(host: str) -> list[str]:
    """The names a browser may use for this server: loopback names, and for a network address
    this computer's own names and addresses. Anything else (a DNS-rebinding attacker's name)
    is refused."""
    import socket

    names = ["localhost", "127.0.0.1", "::1"]
    if is_loopback(host):
        return names
    if host not in ("0.0.0.0", "::"):  # noqa: S104 - compared, not bound
        names.append(host)
    hostname = socket.gethostname()
    names += [hostname, socket.getfqdn()]
    with contextlib.suppress(OSError):  # no resolvable name: the names above must do
        names += socket.gethostbyname_ex(hostname)[2]
    return list(dict.fromkeys(n for n in names if n))


def _serve_tls(app: Any, args: argparse.Namespace, ready: Callable[[], None]) -> int:
    """HTTPS: TLS ends in an asyncio front, waitress serves behind it (desktop/tls_front.py)."""
    import ssl

    from .tls_front import serve_https, tls_context

    try:
        context = tls_context(args.cert, args.key)
    except (OSError, ssl.SSLError) as exc:
        print(f"sheaf: cannot use the certificate or key: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        serve_https(app, context, args.host, args.port, ready, threads=8, ident="Sheaf")
    return 0


def reset_password(args: argparse.Namespace) -> int:
    from server import create_app
    from server.auth.session import password_policy
    from server.db import database
    from server.models import User, name_key
    from server.users.accounts import reset_password as reset

    app = create_app(_config(args))
    with app.app_context(), database.connection_context():
        user = User.get_or_none(User.login_key == name_key(args.user))
        if user is None:
            print(f"No account is named {args.user!r}.", file=sys.stderr)
            return 1
        password = reset(user, password_policy(), by=None)  # the computer's owner
    print(f"New temporary password for {user.login}: {password}")
    print("They must choose their own at the next sign-in; their other sessions are ended.")
    return 0


def backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from server.backup import BackupError, make_backup
    from server.config import ensure_data_dir, resolve_data_dir

    folder = ensure_data_dir(resolve_data_dir(_config(args)))
    target = Path(args.path).expanduser().resolve()
    if target.is_dir():  # a folder: a dated name in it, so a daily task needs no shell date
        from datetime import datetime

        target = target / f"sheaf-{datetime.now():%Y-%m-%d-%H%M%S}.zip"
    elif target.suffix.lower() != ".zip":
        target = target.with_name(target.name + ".zip")
    try:
        info = make_backup(folder, target)
    except (BackupError, OSError) as exc:
        print(f"sheaf: the backup could not be made: {exc}", file=sys.stderr)
        return 1
    print(
        f"Backup written to {info.path}: {info.datasets} datasets, {info.files} files, "
        f"{info.size:,} bytes."
    )
    _audit(folder, "backup.made", info.path.name, {"files": info.files, "by": "command line"})
    return 0


def restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from server.backup import BackupError, finish_restore, stage_restore
    from server.config import ensure_data_dir, resolve_data_dir
    from server.db import open_database
    from server.folder_lock import lock_data_folder
    from server.migrations import current_version

    folder = ensure_data_dir(resolve_data_dir(_config(args)))
    folder_lock = lock_data_folder(folder)  # noqa: F841 - nobody may use the folder meanwhile
    schema = None
    if (folder / "sheaf.db").exists():
        database = open_database(folder / "sheaf.db")
        with database.connection_context():
            schema = current_version(database)
        database.close()
    try:
        info = stage_restore(Path(args.path).expanduser(), folder, schema)
        saved = finish_restore(folder)
    except (BackupError, OSError) as exc:
        print(f"sheaf: nothing was restored: {exc}", file=sys.stderr)
        return 1
    print(
        f"Restored the backup made {info.created_at:%Y-%m-%d %H:%M} UTC ({info.datasets} datasets)."
    )
    if saved is not None:
        print(f"The data it replaced is kept in {saved}.")
    _audit(folder, "backup.restored", Path(args.path).name, {"by": "command line"})
    return 0


def _audit(folder: Any, action: str, name: str, details: dict[str, Any]) -> None:
    from server.audit_trail import record
    from server.db import open_database
    from server.migrations import migrate

    database = open_database(folder / "sheaf.db")
    with database.connection_context():
        migrate(database)
        record(action, object_type="backup", object_id=name, details=details)
    database.close()


def desktop(args: argparse.Namespace) -> int:
    from .shell import run

    return run(_config(args))


def limit_malloc_arenas() -> None:
    """glibc gives each server thread a memory arena of its own, and a streamed export leaves
    them holding tens of MiB; two arenas keep the server's memory flat (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to tune
        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX


def main(argv: Sequence[str] | None = None) -> int:
    from server.backup.errors import BackupError
    from server.config import SettingsError
    from server.folder_lock import FolderInUse
    from server.migrations import MigrationError

    args = _parser().parse_args(argv)
    limit_malloc_arenas()
    handlers = {
        "serve": serve,
        "reset-password": reset_password,
        "backup": backup,
        "restore": restore,
    }
    try:
        return handlers.get(args.command, desktop)(args)
    except (SettingsError, MigrationError, FolderInUse, BackupError) as exc:
        # BackupError at a start: a restore's swap that a file in use stopped (Windows)
        print(f"sheaf: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
