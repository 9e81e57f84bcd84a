# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint build package test-package security clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/sheaf $(ARGS)

test: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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

clean:
	rm -rf $(VENV) build dist tests/artifacts
