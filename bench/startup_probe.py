"""The reference for the start-up benchmark: a bare Flask app with one page, served by
waitress on 127.0.0.1 and shown in a pywebview (Qt) window: what any Flask + pywebview app
costs before it does anything of its own.

    python bench/startup_probe.py serve PORT   # the server alone
    python bench/startup_probe.py window       # the window; prints "probe loaded" once
"""

from __future__ import annotations

import sys
import threading

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    return "<!doctype html><title>Probe</title><h1>Hello</h1>"


def main() -> int:
    from waitress.server import create_server

    if sys.argv[1] == "serve":
        create_server(app, host="127.0.0.1", port=int(sys.argv[2])).run()
        return 0
    import os

    import webview

    os.environ.setdefault("QT_API", "pyside6")
    if os.geteuid() == 0:  # as Sheaf does: Chromium's sandbox refuses to run as root
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox"
    server = create_server(app, host="127.0.0.1", port=0)
    threading.Thread(target=server.run, daemon=True).start()
    window = webview.create_window("Probe", f"http://127.0.0.1:{server.effective_port}/")
    said = threading.Event()

    def loaded() -> None:
        if not said.is_set():
            said.set()
            print("probe loaded", flush=True)

    window.events.loaded += loaded
    webview.start(gui="qt", private_mode=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
