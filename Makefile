# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-windows-rules lint build package test-package security lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Exact versions with their hashes from the locks (requirements/*.lock, `make lock`), then
# Sheaf itself without resolving anything again: every install and build gets the same set.
$(VENV)/.run-installed: $(BIN)/python pyproject.toml requirements/app.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements/app.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.test-installed: $(BIN)/python pyproject.toml requirements/dev.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/sheaf $(ARGS)

test: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite again under Windows' file rules, simulated (tests/windows_rules): a held file cannot
# be deleted or renamed, a helper outlives its parent. Without the browser and window tests (they
# touch files only through the server, which the rest covers): 3 minutes.
test-windows-rules: $(VENV)/.test-installed
	SHEAF_WINDOWS_RULES=1 $(BIN)/python -m pytest -m "not browser and not desktop" $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The double-click app: dist/Sheaf/ (one folder), and with `package` dist/Sheaf-linux.tar.xz.
build: $(VENV)/.test-installed
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN build.spec

package: build
	tar -C dist -cJf dist/Sheaf-linux.tar.xz Sheaf
	du -sh dist/Sheaf dist/Sheaf-linux.tar.xz

# Build, then start the packaged app headless and under Xvfb (tests/desktop/test_package.py).
test-package: build
	$(BIN)/python -m pytest tests/desktop/test_package.py

# Attack scan: sqlmap and wapiti (in a venv of their own under the temp dir, installed from PyPI
# on first use) against a seeded server on 127.0.0.1, signed in and not; fails on any finding.
security: $(VENV)/.test-installed
	$(BIN)/python tools/security_scan.py $(SECURITY_ARGS)

# Writes the locks again from pyproject.toml (for every platform, with hashes) with uv, run
# from a venv of its own under the temp dir; tests/test_lock.py checks they match pyproject.
LOCK_TOOLS := $(or $(TMPDIR),/tmp)/sheaf-lock-tools
lock:
	test -x $(LOCK_TOOLS)/bin/uv || $(PYTHON) -m venv $(LOCK_TOOLS)
	test -x $(LOCK_TOOLS)/bin/uv || $(LOCK_TOOLS)/bin/pip install --quiet uv
	$(LOCK_TOOLS)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command "make lock" --annotation-style line -o requirements/app.lock
	$(LOCK_TOOLS)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command "make lock" --annotation-style line -o requirements/dev.lock

clean:
	rm -rf $(VENV) build dist tests/artifacts
