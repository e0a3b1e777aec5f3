# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app catalog
HOST   ?= 127.0.0.1
PORT   ?= 5000
export CATALOG_ENV ?= development

.PHONY: run test bench install install-test install-bench browser axe db lint clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(PY) -m pip install --quiet -e '.[test,bench]'
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-bench: $(VENV)/.installed-bench

## Create or upgrade the database and load the taxonomy and demo data (idempotent).
db: install
	$(FLASK) init-db
	$(FLASK) seed

## Install, create and seed the embedded database, serve on http://127.0.0.1:5000
run: db
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	$(FLASK) run --host $(HOST) --port $(PORT)

## Debian's chromium for the browser tests (Playwright never downloads a browser here).
browser:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is not installed: browser tests will be skipped (they fail under CI=true)"; fi

## axe-core for the browser tests' accessibility checks, pinned in package-lock.json (npm registry).
node_modules/.installed: package.json package-lock.json
	@if ! command -v npm >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's npm for the accessibility checks"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; fi
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm is not installed: accessibility checks will be skipped (they fail under CI=true)"; fi

axe: node_modules/.installed

## Install what the tests need and run the whole suite (SQLite, and PostgreSQL when it answers),
## in one pytest-xdist worker per core: `make test TEST_WORKERS=0` runs it in one process, and
## PYTEST_ARGS adds pytest options or paths (`make test PYTEST_ARGS='tests/unit -x'`).
TEST_WORKERS ?= auto
PYTEST_ARGS  ?=
test: install-test browser axe
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

## Benchmarks: each prints ratios against a baseline measured in the same run.
bench: install-bench
	$(PY) bench/match.py
	@for script in bench/import_catalog.py bench/search.py bench/load.py bench/plan.py; do \
	  if [ -f $$script ]; then echo "== $$script"; $(PY) $$script || exit 1; fi; done

lint: install-test
	$(VENV)/bin/ruff check catalog mapping tests bench
	$(VENV)/bin/ruff format --check catalog mapping tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache test-output node_modules
