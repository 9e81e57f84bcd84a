"""What a start loads: the modules only some requests need stay unloaded until then
(docs/performance.md, "Start-up and package")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A fresh process: the app on a new data folder, and the set-up page as the first request.
_START = """
import json, sys, tempfile
from server import create_app
app = create_app({"DATA_DIR": tempfile.mkdtemp()})
assert app.test_client().get("/setup").status_code == 200
print(json.dumps(sorted(sys.modules)))
"""

NOT_AT_START = [
    "argon2",  # until a password is hashed or checked
    "platformdirs",  # only when no data folder is given
    "concurrent.futures",  # the import threads, with the first import
    "server.datasets.loading.helper_load",  # the loading machinery, likewise
    "server.datasets.loading.pipeline",
    "server.datasets.loading.split_load",
    "server.importers.excel",  # readers, when a file is read
    "server.importers.jsonfile",
]


def test_a_start_leaves_what_only_some_requests_need_unloaded(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", _START], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    assert "server.datasets.web.pages" in loaded  # the app is really there
    assert [name for name in NOT_AT_START if name in loaded] == []
