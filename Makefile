# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-sqlite test-postgres lint typecheck system-deps install clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "kitlib needs Python 3.11 or newer"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: system-deps $(STAMP)

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
