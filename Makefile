# swarmlog: `make run` sets up and runs the main job; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run serve simulate test lint fuzz-api bench bench-bus bench-projections bench-lag bench-api bench-replay bench-neural reliability clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: serve

serve: setup
	$(BIN)/swarmlog serve

simulate: setup
	$(BIN)/swarmlog simulate --agents 20 --tasks 300 --seed 1

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

bench: bench-bus bench-projections bench-lag bench-api bench-replay bench-neural

bench-bus: setup
	$(BIN)/python -m tests.bench.bench_command_bus

bench-projections: setup
	$(BIN)/python -m tests.bench.bench_projections

bench-lag: setup
	$(BIN)/python -m tests.bench.bench_projection_lag

bench-api: setup
	$(BIN)/python -m tests.bench.bench_api

# The neural engine on simulated workloads: accuracy vs Bayes-optimal, calibration, regret.
bench-neural: setup
	$(BIN)/python -m tests.bench.bench_neural

bench-replay: setup
	$(BIN)/python -m tests.bench.bench_replay

# Load, faults and hostile input against real processes on PostgreSQL; one table.
# It stops and starts this machine's PostgreSQL once (pg_ctlcluster).
reliability: setup
	$(BIN)/python -m tests.reliability.run

# A schemathesis run of generated GraphQL operations against the live app.
fuzz-api: setup
	$(BIN)/python -m tests.fuzz.graphql_fuzz

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
