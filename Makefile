# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := data/sample

.PHONY: install demo test lint format bench clean

$(STAMP): requirements.txt requirements-test.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-test.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/kpi-kit sample-data --out $(SAMPLE) --seed 7
	$(BIN)/kpi-kit validate --source $(SAMPLE)
	$(BIN)/kpi-kit compute --source $(SAMPLE) --month latest --scope all --out $(SAMPLE)-kpis.csv
	@if $(BIN)/python -c "import sys; from kpi_helpers.pack import find_chromium; sys.exit(find_chromium() is None)"; \
	then $(BIN)/kpi-kit pack --month latest --source $(SAMPLE) --formats html,pdf; \
	else echo "No Chromium found (apt-get install chromium): building the HTML pack only."; \
	     $(BIN)/kpi-kit pack --month latest --source $(SAMPLE) --formats html; fi
	$(BIN)/kpi-kit pack --period quarter --month complete --source $(SAMPLE) --formats html

test: $(STAMP)
	$(BIN)/ruff check kpi_helpers tests benchmarks notebooks
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadscope --no-loadscope-reorder -q

lint: $(STAMP)
	$(BIN)/ruff check kpi_helpers tests benchmarks notebooks
	$(BIN)/lint-imports
	$(BIN)/ruff format --check kpi_helpers tests benchmarks notebooks

format: $(STAMP)
	$(BIN)/ruff format kpi_helpers tests benchmarks notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_sample_data.py
	$(BIN)/kpi-kit sample-data --out data/bench-medium --scale medium --end 2026-10
	$(BIN)/python benchmarks/bench_kpis.py data/bench-medium 2026-10

clean:
	rm -rf $(VENV) data .pytest_cache
