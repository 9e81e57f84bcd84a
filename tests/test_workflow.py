"""The GitHub workflow is the only place Sheaf runs on Windows and macOS: read as YAML, every
job must really test and build there, without a step that could hang for hours."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]


def _workflow() -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "build.yml").read_text("utf-8"))


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_windows_and_macos_run_the_suite_build_and_smoke_test_on_every_push():
    workflow = _workflow()
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1: on is True
    assert "pull_request" in triggers and "main" in triggers["push"]["branches"]
    job = workflow["jobs"]["test-and-package"]
    assert "if" not in job, "the Windows and macOS tests must not wait for a release tag"
    assert set(job["strategy"]["matrix"]["os"]) == {"windows-latest", "macos-latest"}
    assert job["strategy"]["fail-fast"] is False  # one system's failure must not hide the other's
    runs = _runs(job)
    assert "pip install --require-hashes -r requirements/dev.lock" in runs
    assert 'pytest -m "not browser and not desktop"' in runs
    assert "pyinstaller --noconfirm --clean build.spec" in runs
    assert "tests/desktop/test_package.py" in runs
    order = [runs.index(s) for s in ("-m pytest -m", "pyinstaller", "test_package.py", "tar -czf")]
    assert order == sorted(order), "tests, then build, then smoke test, then archive"


def test_no_step_can_hang_the_runner():
    for name, job in _workflow()["jobs"].items():
        long_steps = [s for s in job["steps"] if "pytest" in s.get("run", "")]
        limited = "timeout-minutes" in job or all("timeout-minutes" in s for s in long_steps)
        assert limited, f"{name} has no time limit"
        for step in long_steps:
            assert step.get("timeout-minutes", 0) <= 30, step


def test_the_package_is_uploaded_as_an_archive_that_keeps_executable_bits():
    job = _workflow()["jobs"]["test-and-package"]
    upload = next(
        s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")
    )
    assert upload["with"]["path"].endswith(".tar.gz")  # a zip of dist/ loses the x bits
    assert "tar -czf" in _runs(job)


def test_every_job_tests_or_scans():
    for name, job in _workflow()["jobs"].items():
        runs = _runs(job)
        assert "pytest" in runs or "pip-audit" in runs, name


def test_corpus_files_are_kept_byte_exact_on_every_checkout():
    """A Windows checkout with core.autocrlf would add CRs to the test files, and the tests
    compare values byte by byte."""
    attributes = (ROOT / ".gitattributes").read_text("utf-8").splitlines()
    assert "tests/data/** -text" in attributes
    assert ".ci/run text eol=lf" in attributes
