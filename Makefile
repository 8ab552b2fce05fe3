# Two commands for a fresh machine: `make demo` and `make test`. Everything else is a helper.
SHELL := /bin/bash
# bootstrap uv when the machine has none (pip puts it beside python3; `python3 -m uv` then finds it)
UV := $(shell command -v uv 2>/dev/null || (python3 -m pip install --quiet uv >&2 && echo python3 -m uv))
export DAGSTER_HOME := $(CURDIR)/data/dagster_home
# compile the environment's bytecode once at install: machines that set PYTHONDONTWRITEBYTECODE would otherwise
# recompile Dagster, dbt and GX from source in every process (seconds each, in every run and every dbt call)
export UV_COMPILE_BYTECODE := 1
RUN := $(UV) run --frozen

.PHONY: demo test setup chromium prometheus dbt-parse dev sql bench clean

setup:  ## install the locked environment and parse the dbt project
	$(UV) sync --frozen
	mkdir -p $(DAGSTER_HOME) data/landing data/build
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(MAKE) dbt-parse

dbt-parse:
	cd dbt_project && $(RUN) dbt parse --quiet --profiles-dir .

demo: setup $(if $(filter prometheus,$(TELEMETRY)),prometheus)  ## simulate the default fleet (or DATASET=<name>, a public trace), materialize, publish data/warehouse.duckdb; TELEMETRY=prometheus pulls the GPU telemetry from a local Prometheus
	$(RUN) python -m generators.demo $(if $(DATASET),--dataset $(DATASET)) $(if $(TELEMETRY),--telemetry $(TELEMETRY)) $(SIM_ARGS)

test: setup chromium prometheus  ## the whole test suite (lint, then pytest: parsers, ingest, simulator, definitions, end to end)
	$(RUN) ruff check pipelines generators bench tests
	$(RUN) pytest

# the report test renders the page in headless Chromium (Debian's package); installed only where it is missing
chromium:
	@command -v chromium >/dev/null || { $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq chromium; }

# the Prometheus pull is tested against a real server (Debian's package: prometheus 2.42 and promtool)
prometheus:
	@command -v prometheus >/dev/null && command -v promtool >/dev/null || { \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq prometheus; }

GPUS ?= 10000
DAYS ?= 7
bench: setup prometheus  ## the benchmark at fleet scale (minutes to tens of minutes; not part of make test): make bench GPUS=1000 DAYS=7
	$(RUN) python -m bench.run --gpus $(GPUS) --days $(DAYS) $(BENCH_ARGS)

WAREHOUSE_PATH ?= data/warehouse.duckdb
sql: setup  ## an SQL shell on the published warehouse, read-only (the DuckDB 1.5 CLI of the locked environment)
	$(RUN) duckdb -readonly $(WAREHOUSE_PATH)

dev: setup  ## the Dagster UI on the same definitions (http://localhost:3000)
	$(RUN) dagster dev -w workspace.yaml

clean:
	rm -rf data/landing data/build data/warehouse.duckdb data/dagster_home dbt_project/target
