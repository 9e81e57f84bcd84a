"""The running Sheaf of a data folder, for a second start: where it listens and its secret,
in a file only the folder's owner can read, so the second start can bring its window forward."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

from server.private_files import make_private

INSTANCE_FILE = "instance.json"


def announce(data_dir: Path, port: int, secret: str) -> Path:
    path = Path(data_dir) / INSTANCE_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"port": port, "secret": secret}, handle)
    make_private(path)  # Windows: an ACL, as modes mean nothing there
    return path


def withdraw(data_dir: Path) -> None:
    (Path(data_dir) / INSTANCE_FILE).unlink(missing_ok=True)


def bring_forward(data_dir: Path) -> bool:
    """Ask the running Sheaf to show its window; True when it answered."""
    try:
        info = json.loads((Path(data_dir) / INSTANCE_FILE).read_text(encoding="utf-8"))
        host = f"127.0.0.1:{int(info['port'])}"
        request = urllib.request.Request(
            f"http://{host}/desktop/raise",
            method="POST",
            data=b"",
            headers={"Cookie": f"sheaf_launch={info['secret']}", "Host": host},
        )
        # No proxy: Windows' system proxy settings would otherwise be asked about 127.0.0.1.
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(request, timeout=3) as answer:
            return answer.status == 204
    except (OSError, ValueError, KeyError, TypeError):
        return False
