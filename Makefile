# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
MO     := kitlib/locale/fr/LC_MESSAGES/messages.mo
AXE    := node_modules/.installed-stamp

.PHONY: run test test-sqlite test-postgres lint typecheck system-deps install clean messages screenshots docs

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "kitlib needs Python 3.11 or newer"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The French catalogue, compiled from the committed .po (the .mo is a build product).
$(MO): kitlib/locale/fr/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -d kitlib/locale -D messages
	touch $@

# axe-core for the browser tests' accessibility checks, at the version package-lock.json pins.
$(AXE): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: system-deps $(STAMP) $(MO) $(AXE)

# After changing a visible string: extract, then merge into the French catalogue to translate.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o kitlib/locale/messages.pot --no-location --no-wrap \
	  --sort-output --project kitlib -k gettext_for:2 -k N_ .
	$(BIN)/pybabel update -i kitlib/locale/messages.pot -d kitlib/locale -D messages --no-wrap --no-fuzzy-matching --ignore-obsolete

# docs/settings.md and docs/cli.md, generated from kitlib/settings.py and the commands' --help.
docs: $(STAMP)
	$(BIN)/python -m kitlib.cli.docs

screenshots: install
	$(BIN)/python scripts/screenshots.py

system-deps:
	@scripts/system-deps

run: install
	$(BIN)/kitlib serve --demo-if-empty

test: install lint typecheck test-sqlite test-postgres

test-sqlite: install
	KITLIB_TEST_DATABASE=sqlite $(BIN)/python -m pytest

test-postgres: install
	scripts/ensure-postgres
	KITLIB_TEST_DATABASE=postgres $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check kitlib tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
