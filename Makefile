# The two things a fresh machine needs, and a few helpers. `make help` lists them.
PYTHON ?= python3

.PHONY: help setup setup-dev demo test test-fast bench

help:
	@echo "make demo       set up, then grade the reference Fashion-MNIST solution on real data"
	@echo "make test       set up (with dev tools), then run the whole test suite"
	@echo "make test-fast  the tests without the slow end-to-end ones (no set-up)"
	@echo "make bench      time grading against a bare training script"

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh --dev

demo: setup
	$(PYTHON) -m grader fashion_mnist solutions/fashion_mnist/fashion_mnist.py --json out/fashion_mnist.json

test: setup-dev
	$(PYTHON) -m pytest

test-fast:
	$(PYTHON) -m pytest -m "not slow"

bench: setup
	$(PYTHON) scripts/benchmark.py
