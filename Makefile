# Two entry points, both usable on a fresh machine with only Python 3.11 and make:
#   make report   set up .venv, then write the full analysis into reports/analysis/ and the back-test into
#                 reports/backtest/
#   make test     set up .venv with the test dependencies, then lint (ruff), type-check (mypy) and run the tests
#   make constrain  redraw the constrained ensembles (params/constrained-ensemble*.parquet, reports/constrained*)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test calibrate constrain clean

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

report: $(STAMP)
	mkdir -p reports
	MPLBACKEND=Agg $(BIN)/sanctions-model report --out reports/analysis --force
	MPLBACKEND=Agg $(BIN)/sanctions-model backtest --out reports/backtest --force

test: $(STAMP)
	$(BIN)/ruff check sanctions_model tests benchmarks
	$(BIN)/mypy
	MPLBACKEND=Agg $(BIN)/python -m pytest -n 2

calibrate: $(STAMP)
	$(BIN)/sanctions-model calibrate --out params/calibrated.toml --force

constrain: $(STAMP)
	MPLBACKEND=Agg $(BIN)/sanctions-model constrain -n 100000 --out params/constrained-ensemble.parquet \
		--report reports/constrained --force
	MPLBACKEND=Agg $(BIN)/sanctions-model constrain -n 100000 --as-of 2024-01-20 \
		--out params/constrained-ensemble-as-of-2024-01-20.parquet --report reports/constrained-2024-01-20 --force

clean:
	rm -rf $(VENV) build *.egg-info
