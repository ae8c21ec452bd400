# evtools: `make demo` runs the investigation on the committed sample, `make test` the quick suite, `make test-all` all of it.
# Both create .venv with the machine's python3 if it is missing; nothing else needs to be installed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.evtools-installed
DEV_STAMP := $(VENV)/.evtools-dev-installed
CONFIG ?= data/sample/evtools.toml
LARGE ?= benchmarks/data/large
XL ?= benchmarks/data/xl
ENGINES_SET ?= benchmarks/data/engines-2m
# two pytest-xdist workers; the tests sharing the Spark JVM, the PostgreSQL server or the installed venv stay in one
PYTEST_WORKERS ?= -n 2 --dist loadgroup

.DEFAULT_GOAL := help
.PHONY: help install demo test test-all lint sample sample-large sample-large-ordered sample-xl sample-engines bench bench-scale bench-spark bench-engines clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# evtools alone (what the demo needs), then its test tools and the Spark extra (what the tests and benchmarks need)
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "evtools: '$(PYTHON) -m venv' failed; install the venv module (Debian: apt-get install python3-venv)"; exit 2; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,spark,sql]'
	@touch $(DEV_STAMP)

install: $(DEV_STAMP) ## create .venv and install evtools with its test tools and the Spark and sql extras

demo: $(STAMP) ## run the investigation on the committed sample and render its HTML reports
	$(BIN)/evtools --no-progress report investigation --config $(CONFIG) --out reports
	@echo "open: $(CURDIR)/reports/index.html"

test: $(DEV_STAMP) ## the suite a contributor runs before each commit: all but the Java, database, browser and install tests
	$(BIN)/python -m pytest $(PYTEST_WORKERS) --quick

test-all: $(DEV_STAMP) ## the whole suite (CI); tests needing Java, Chromium or a database server run where it is installed
	$(BIN)/python -m pytest $(PYTEST_WORKERS)

lint: $(DEV_STAMP) ## ruff over the code
	$(BIN)/ruff check src tests benchmarks

sample: $(STAMP) ## regenerate the committed sample (defaults of `evtools sample`)
	$(BIN)/evtools sample --out data/sample

sample-large: $(STAMP) ## the 50M-row, 365-day, 5,000-company set for benchmarks (outside git)
	@test -f $(LARGE)/evtools.toml || $(BIN)/evtools sample --out $(LARGE) --rows 50000000 --companies 5000 --days 365 --start 2025-01-01 --seed 11

sample-large-ordered: $(STAMP) ## the same set with time-ordered event ids (for the refresh history curve)
	@test -f $(LARGE)-ordered/evtools.toml || $(BIN)/evtools sample --out $(LARGE)-ordered --rows 50000000 --companies 5000 --days 365 --start 2025-01-01 --seed 11 --ordered-ids

sample-xl: sample-large ## twice the large set (107M rows: its year and the same year again a year later), for bench-scale
	@test -f $(XL)/evtools.toml || $(BIN)/python benchmarks/double.py $(LARGE) $(XL)

bench-scale: $(DEV_STAMP) sample-large sample-xl ## the commands as whole processes against the job, 53.6M and 107M rows: benchmarks/RESULTS-scale*.md
	$(BIN)/python benchmarks/scale.py --data $(LARGE) --data $(XL)
	$(BIN)/python benchmarks/scale.py --data $(LARGE) --breakdown

bench: $(DEV_STAMP) sample-large sample-large-ordered ## run the benchmarks on the large sets and write benchmarks/RESULTS.md
	$(BIN)/python benchmarks/run.py --data $(LARGE)

bench-spark: $(DEV_STAMP) sample-large ## Spark local[2] against DuckDB on the large set: benchmarks/RESULTS-spark.md
	$(BIN)/python benchmarks/run.py --data $(LARGE) --repeat 1 --results benchmarks/RESULTS-spark.md \
	  $(foreach c,quality reconcile refresh_full refresh_daily,--case $(c) --case spark_$(c))

sample-engines: $(STAMP) ## the 2M-row, 120-day, 200-company set for make bench-engines (outside git)
	@test -f $(ENGINES_SET)/evtools.toml || $(BIN)/evtools sample --out $(ENGINES_SET) --rows 2000000 --companies 200 --days 120 --seed 3

bench-engines: $(DEV_STAMP) sample-engines ## DuckDB, PostgreSQL and Spark local[2] on one 2M-row set: benchmarks/RESULTS-engines.md
	$(BIN)/python benchmarks/run.py --data $(ENGINES_SET) --repeat 1 --results benchmarks/RESULTS-engines.md \
	  --case engines_duckdb --case engines_postgres --case engines_spark

clean: ## remove the venv, caches and rendered reports
	rm -rf $(VENV) .pytest_cache .ruff_cache reports/20*/ reports/index.html data/sample/.evtools
