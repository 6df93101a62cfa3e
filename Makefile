# The two commands for a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_DB := .run/ledger.db
# Pinned clock so the sample report reads the same on every machine (the sample's "today").
RUN_NOW ?= 2026-11-22T09:00:00Z

.PHONY: run test lint typecheck unit bench docs docs-check clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "taskdist needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

run: $(VENV)/.installed
	@rm -rf .run && mkdir -p .run
	$(BIN)/taskdist import sample_tasks --roster sample_tasks/roster.yaml --db $(RUN_DB) --now $(RUN_NOW)
	$(BIN)/taskdist status --db $(RUN_DB) --now $(RUN_NOW)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check taskdist tests scripts

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy
	MYPYPATH=scripts $(BIN)/mypy scripts/bench.py scripts/benches

unit: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

docs-check: $(VENV)/.installed-test
	$(BIN)/python scripts/gen_docs.py --check

test: lint typecheck docs-check unit

docs: $(VENV)/.installed-test
	$(BIN)/python scripts/gen_docs.py
	$(BIN)/python scripts/gen_status_svg.py

# The full suite (about 10-15 minutes on 2 cores); it also rewrites docs/performance.md.
# Subsets: $(BIN)/python scripts/bench.py --only import,queue --sizes 1000,10000 (see --help).
bench: $(VENV)/.installed-test
	OPENBLAS_NUM_THREADS=1 $(BIN)/python scripts/bench.py --write-docs

clean:
	rm -rf .run .pytest_cache .mypy_cache .ruff_cache
