"""A second start brings the running window forward, knocking with the running one's secret."""

import os
import threading
from pathlib import Path

from waitress.server import create_server

from desktop import instance
from tests.helpers import make_app


def test_a_second_start_brings_the_window_forward(tmp_path: Path, monkeypatch):
    # A system proxy (Windows' settings, or these variables) must not be asked about 127.0.0.1.
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    app = make_app(tmp_path / "d", LAUNCH_SECRET="secret-" * 6, LAUNCH_HOST="")
    server = create_server(app, host="127.0.0.1", port=0, threads=2)
    app.config["LAUNCH_HOST"] = f"127.0.0.1:{server.effective_port}"
    raised = threading.Event()
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        path = instance.announce(tmp_path, server.effective_port, "secret-" * 6)
        if os.name == "posix":  # Windows: an access list (tests/test_private_files.py)
            assert path.stat().st_mode & 0o777 == 0o600
        assert not instance.bring_forward(tmp_path)  # no window (a browser session): no
        app.extensions["sheaf.raise_window"] = raised.set
        assert instance.bring_forward(tmp_path) and raised.is_set()
        path.write_text(f'{{"port": {server.effective_port}, "secret": "wrong"}}')
        raised.clear()
        assert not instance.bring_forward(tmp_path) and not raised.is_set()
    finally:
        server.close()
    instance.withdraw(tmp_path)
    assert not instance.bring_forward(tmp_path)  # nobody there any more
