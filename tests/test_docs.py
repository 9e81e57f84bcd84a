"""Documentation that must keep up with the code."""

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
