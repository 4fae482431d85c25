# Everything a fresh machine with python3 and make needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mspkpi demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 --dist loadgroup

# The benchmarks bench/RESULTS.md quotes: make bench [BENCH="kpi tui --write"] (bench/run.py).
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH)

clean:
	rm -rf $(VENV) .pytest_cache
