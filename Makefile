# Two commands on a fresh machine: `make demo` and `make test`.
# Both (re)create .venv when it is missing or older than pyproject.toml, then install the package
# with its dev extra, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# two workers (pytest-xdist): the suite takes about 7 minutes on 2 cores instead of 11 serially
PYTEST_ARGS ?= -n 2

.PHONY: demo test test-min lint typecheck pytest fuzz bench clean venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/loyalty-ml demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy loyalty_ml experiments

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# Property tests with fresh random draws (`make test` repeats the same ones), FUZZ_ROUNDS times.
FUZZ_ROUNDS ?= 5
fuzz: $(STAMP)
	@for i in $$(seq $(FUZZ_ROUNDS)); do \
		echo "fuzz round $$i of $(FUZZ_ROUNDS)"; \
		HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest $(PYTEST_ARGS) -q \
			$$(grep -rl "@given" tests) || exit 1; \
	done

# The declared lower bounds (tests/constraints-min.txt) in a second venv; not part of `make test`.
test-min:
	@test -x .venv-min/bin/python || $(PYTHON) -m venv .venv-min
	.venv-min/bin/python -m pip install --quiet --upgrade pip
	.venv-min/bin/python -m pip install --quiet -c tests/constraints-min.txt -e ".[dev]"
	.venv-min/bin/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python experiments/bench_features.py

clean:
	rm -rf $(VENV) .venv-min mlruns mlflow.db .pytest_cache .mypy_cache .ruff_cache
