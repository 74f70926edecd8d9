# Entry points, each usable on a fresh machine with only Python 3.11 and make:
#   make report   set up .venv, then write the full analysis into reports/analysis/ and the back-test into
#                 reports/backtest/
#   make test     set up .venv with the test dependencies (Dash and Selenium among them), install Debian's Chromium
#                 and its driver for the browser test if they are missing (with apt-get, as root; otherwise that
#                 test is skipped and says why), then lint (ruff), type-check (mypy) and run the tests
#   make browser  only the browser step of make test
#   make explore  set up .venv, then start the explorer on http://127.0.0.1:8050/ (Ctrl+C stops it)
#   make constrain  redraw the constrained ensembles (params/constrained-ensemble*.parquet, reports/constrained*)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test browser explore calibrate constrain clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@echo "compiling the model with Numba, once (about 20 s; kept in ~/.cache/sanctions-model)"
	$(BIN)/python -c "import sanctions_model as sm; sm.simulate(days=5)"
	touch $(STAMP)

report: $(STAMP)
	mkdir -p reports
	MPLBACKEND=Agg $(BIN)/sanctions-model report --out reports/analysis --force
	MPLBACKEND=Agg $(BIN)/sanctions-model backtest --out reports/backtest --force

test: $(STAMP) browser
	$(BIN)/ruff check sanctions_model tests benchmarks
	$(BIN)/mypy
	MPLBACKEND=Agg $(BIN)/python -m pytest -n 2

# Debian's Chromium and chromedriver for the explorer's browser test (tests/test_explore.py), installed only where
# they are missing, apt-get exists and we are root; never fails the build (the test then skips and says why).
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium and chromium-driver for the browser test"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver; } || echo "could not install chromium; the browser test will be skipped"; \
	else echo "no /usr/bin/chromium or /usr/bin/chromedriver, and no apt-get as root to install them:" \
		"the browser test will be skipped"; fi

explore: $(STAMP)
	$(BIN)/sanctions-model explore

calibrate: $(STAMP)
	$(BIN)/sanctions-model calibrate --out params/calibrated.toml --force

constrain: $(STAMP)
	MPLBACKEND=Agg $(BIN)/sanctions-model constrain -n 100000 --out params/constrained-ensemble.parquet \
		--report reports/constrained --force
	MPLBACKEND=Agg $(BIN)/sanctions-model constrain -n 100000 --as-of 2024-01-20 \
		--out params/constrained-ensemble-as-of-2024-01-20.parquet --report reports/constrained-2024-01-20 --force

clean:
	rm -rf $(VENV) build *.egg-info
