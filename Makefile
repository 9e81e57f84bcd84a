# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint package clean

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
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The double-click app: dist/Sheaf/ (one folder) and dist/Sheaf-linux.tar.xz.
package: $(VENV)/.test-installed
	$(BIN)/pyinstaller --noconfirm --clean build.spec
	tar -C dist -cJf dist/Sheaf-linux.tar.xz Sheaf
	du -sh dist/Sheaf dist/Sheaf-linux.tar.xz

clean:
	rm -rf $(VENV) build dist tests/artifacts
