# Two entry points, both usable on a fresh machine with only Python 3.11 and make:
#   make report   set up .venv, then run the scenarios side by side into reports/scenarios/
#   make test     set up .venv with the test dependencies, then run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

report: $(STAMP)
	MPLBACKEND=Agg $(BIN)/sanctions-model compare --out reports/scenarios --force

test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
