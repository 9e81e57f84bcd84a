"""Documentation that must keep up with the code."""

import subprocess
import sys
from pathlib import Path

from server.permissions import PERMISSIONS

DOCS = Path(__file__).parent.parent / "docs"


def test_every_permission_is_documented():
    text = (DOCS / "permissions.md").read_text()
    for name in PERMISSIONS:
        assert f"`{name}`" in text, name


def test_readme_quick_start_is_the_two_make_commands():
    readme = (DOCS.parent / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


def test_the_settings_doc_is_written_from_the_table_of_settings():
    """docs/settings.md's tables are tools/settings_doc.py's output for server/settings_table.py."""
    tool = DOCS.parent / "tools" / "settings_doc.py"
    out = subprocess.run(
        [sys.executable, str(tool), "--check"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
