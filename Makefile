# Two entry points for a fresh machine (only python3 needed): `make demo` and `make test`.
# Both create .venv and install il6sim with its dependencies on first use.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.il6sim-installed
PYTHON ?= python3

.PHONY: demo test lint bench clean chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/il6sim study --out out/study

# The browser tests (tests/test_dashboard.py) drive Debian's chromium. As root (CI on a fresh
# clone) it is installed here when missing; apt-get's output goes to a log shown on failure.
APT_LOG := $${TMPDIR:-/tmp}/il6sim-apt-chromium.log
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser tests (apt-get)"; \
		if ! (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium) \
			>$(APT_LOG) 2>&1; then tail -n 20 $(APT_LOG); exit 1; fi; \
	fi

test: $(STAMP) chromium
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py --n 2000 --workers 1,2 --dense

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
