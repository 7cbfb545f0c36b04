# swarmlog: `make run` sets up and runs the main job; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run simulate test lint bench bench-bus bench-projections bench-lag clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: simulate

simulate: setup
	$(BIN)/swarmlog simulate --agents 20 --tasks 300 --seed 1

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

bench: bench-bus bench-projections bench-lag

bench-bus: setup
	$(BIN)/python -m tests.bench.bench_command_bus

bench-projections: setup
	$(BIN)/python -m tests.bench.bench_projections

bench-lag: setup
	$(BIN)/python -m tests.bench.bench_projection_lag

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
