# Verdict: `make run` serves the app with demo data; `make test` runs the whole suite.
# The first Python 3.11+ that actually runs (version-manager shims may exist but fail).
PY ?= $(shell for c in python3 python3.13 python3.12 python3.11; do \
	$$c -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$c; break; }; \
	done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-fast lint format bench

$(STAMP): pyproject.toml
	@test -n "$(PY)" || { echo "Verdict needs Python 3.11 or newer on PATH" >&2; exit 1; }
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,warehouse]'
	@touch $(STAMP)

install: $(STAMP)

# The demo server runs with the local settings (DEBUG), whatever the shell exports.
run: export DJANGO_SETTINGS_MODULE = config.settings.local
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo
	@echo "Verdict is at http://$(HOST):$(PORT)/  (API docs: /api/docs/, admin: /admin/)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
