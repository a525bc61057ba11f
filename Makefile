# Two commands do all the set-up: `make run` and `make test` (see README.md).
# `make run` installs what running needs (runtime Debian packages and Python dependencies);
# `make test` adds the test tools (Chromium, nginx, npm and axe-core, the dev extras).
PYTHON ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-stamp
DEV     := $(VENV)/.dev-stamp
MO      := kitlib/locale/fr/LC_MESSAGES/messages.mo
AXE     := node_modules/.installed-stamp

.PHONY: run test test-sqlite test-postgres lint typecheck install install-test clean messages \
        screenshots vendor run-deps test-deps docs

$(RUNTIME): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "kitlib needs Python 3.11 or newer"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV): pyproject.toml $(RUNTIME)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The French catalogue, compiled from the committed .po (the .mo is a build product).
$(MO): kitlib/locale/fr/LC_MESSAGES/messages.po $(RUNTIME)
	$(BIN)/pybabel compile -d kitlib/locale -D messages
	touch $@

# axe-core for the browser tests' accessibility checks, at the version package-lock.json pins.
$(AXE): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# What running needs, and no more: runtime Debian packages, runtime Python dependencies, the
# compiled French catalogue.
install: run-deps $(RUNTIME) $(MO)

# What the suite needs on top: the test tools' Debian packages, the dev extras, axe-core.
install-test: install test-deps $(DEV) $(AXE)

run-deps:
	@scripts/system-deps run

test-deps:
	@scripts/system-deps test

# Front-end files served at run time, copied from npm packages and committed (make run needs
# no npm): package.json pins them and names their files (scripts/vendor).
vendor:
	npm ci --no-audit --no-fund --loglevel=error
	scripts/vendor

# After changing a visible string: extract, then merge into the French catalogue to translate.
messages: $(DEV)
	$(BIN)/pybabel extract -F babel.cfg -o kitlib/locale/messages.pot --no-location --no-wrap \
	  --sort-output --project kitlib -k gettext_for:2 -k N_ .
	$(BIN)/pybabel update -i kitlib/locale/messages.pot -d kitlib/locale -D messages --no-wrap --no-fuzzy-matching --ignore-obsolete

# docs/settings.md and docs/cli.md, generated from kitlib/settings.py and the commands' --help.
docs: $(RUNTIME)
	$(BIN)/python -m kitlib.cli.docs

screenshots: install-test
	$(BIN)/python scripts/screenshots.py

run: install
	$(BIN)/kitlib serve --demo-if-empty

test: install-test lint typecheck test-sqlite test-postgres

test-sqlite: install-test
	KITLIB_TEST_DATABASE=sqlite $(BIN)/python -m pytest

test-postgres: install-test
	scripts/ensure-postgres
	KITLIB_TEST_DATABASE=postgres $(BIN)/python -m pytest

lint: $(DEV)
	$(BIN)/ruff check kitlib tests bench scripts
	$(BIN)/lint-imports

typecheck: $(DEV)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
