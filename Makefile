# The two things a fresh machine needs, and a few helpers. `make help` lists them.
PYTHON ?= python3
# Every core; tests that measure limits or train on the real data share one worker each
# (xdist_group markers given in tests/conftest.py). The 25 slowest tests are listed at the end.
PARALLEL ?= -n auto --dist loadgroup
DURATIONS ?= --durations=25

.PHONY: help setup setup-dev demo test test-fast test-unit test-slow test-all lint bench

help:
	@echo "make demo       set up, then grade the reference Fashion-MNIST solution on real data"
	@echo "make test       set up (with dev tools), then the default lane: every test but 'slow', in parallel"
	@echo "make test-fast  the default lane without the set-up"
	@echo "make test-unit  the unit lane: no TensorFlow process, under a minute"
	@echo "make test-slow  the slow lane: more training on the real data (CI runs it after make test)"
	@echo "make test-all   both lanes in one run"
	@echo "make lint       ruff and mypy (configured in pyproject.toml)"
	@echo "make bench      time grading against a bare training script"

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh --dev

demo: setup
	$(PYTHON) -m grader fashion_mnist solutions/fashion_mnist/fashion_mnist.py --json out/fashion_mnist.json

test: setup-dev
	$(PYTHON) -m pytest $(PARALLEL) -m "not slow" $(DURATIONS)

test-fast:
	$(PYTHON) -m pytest $(PARALLEL) -m "not slow" $(DURATIONS)

test-unit:
	$(PYTHON) -m pytest -m unit -q $(DURATIONS)

test-slow:
	$(PYTHON) -m pytest $(PARALLEL) -m slow $(DURATIONS)

test-all:
	$(PYTHON) -m pytest $(PARALLEL) $(DURATIONS)

lint:
	$(PYTHON) -m ruff check grader tests scripts
	$(PYTHON) -m mypy

bench: setup
	$(PYTHON) scripts/benchmark.py
