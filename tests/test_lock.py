"""The locks (requirements/*.lock) are what every install and build uses: they must hold each
dependency pyproject.toml declares, at a version it allows, with hashes, and this venv must be
what they say (make test installs from them)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)(?: ; ([^\\]+?))? \\$")


def _pins(name: str) -> dict[str, tuple[str, str | None]]:
    """name → (version, marker) of a lock, checking every pin carries hashes."""
    lines = (ROOT / "requirements" / name).read_text(encoding="utf-8").splitlines()
    pins = {}
    for number, line in enumerate(lines):
        match = PIN.match(line)
        if not match:
            assert not line[:1].isalnum(), f"{name}:{number + 1}: not an exact pin: {line}"
            continue
        assert lines[number + 1].strip().startswith("--hash=sha256:"), (name, line)
        pins[canonicalize_name(match[1])] = (match[2], match[3])
    return pins


def _declared(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(text) for text in project["dependencies"]]
    for extra in extras:
        found += [Requirement(text) for text in project["optional-dependencies"][extra]]
    return [r for r in found if canonicalize_name(r.name) != "sheaf"]


def test_each_lock_pins_every_declared_dependency_at_an_allowed_version():
    for lock, extras in (("app.lock", ()), ("dev.lock", ("test", "dev"))):
        pins = _pins(lock)
        for requirement in _declared(*extras):
            name = canonicalize_name(requirement.name)
            assert name in pins, f"{lock} lacks {requirement}: run make lock"
            assert requirement.specifier.contains(pins[name][0], prereleases=True), (
                f"{lock} pins {name}=={pins[name][0]}, pyproject.toml asks {requirement}"
            )


def test_the_app_lock_is_the_dev_lock_without_the_tools():
    app, dev = _pins("app.lock"), _pins("dev.lock")
    assert {name: dev[name][0] for name in app} == {name: pin[0] for name, pin in app.items()}
    assert "cheroot" not in app and "pytest" not in app and "pyinstaller" not in app


def test_this_venv_holds_what_the_dev_lock_says():
    environment = default_environment()
    for name, (version, marker) in _pins("dev.lock").items():
        if marker and not _applies(marker, environment):
            continue
        assert metadata.version(name) == version, f"{name}: installed differs from the lock"


def _applies(marker: str, environment: dict[str, str]) -> bool:
    return Marker(marker).evaluate(environment)


def test_the_workflow_scans_both_locks_for_known_vulnerabilities():
    workflow = (ROOT / ".github" / "workflows" / "build.yml").read_text(encoding="utf-8")
    scan = "pip-audit --strict --disable-pip --require-hashes -r requirements/"
    for lock in ("app.lock", "dev.lock"):
        assert scan + lock in workflow
    assert "--require-hashes -r requirements/dev.lock" in workflow.split("package:")[1]
