# Two entry points for a fresh machine (only python3 needed): `make demo` and `make test`.
# Both create .venv and install il6sim with its dependencies on first use.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.il6sim-installed
PYTHON ?= python3

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/il6sim study --out out/study

test: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python benchmarks/engine_backends.py --n 2000 --workers 2

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
