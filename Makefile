# The two things a fresh machine needs, and a few helpers. `make help` lists them.
PYTHON ?= python3
# Every core; tests that measure limits or train on the real data share one worker each
# (xdist_group markers given in tests/conftest.py). The 25 slowest tests are listed at the end.
PARALLEL ?= -n auto --dist loadgroup
DURATIONS ?= --durations=25

.PHONY: help setup setup-dev demo test test-fast test-unit test-slow test-all lint bench translations

help:
	@echo "make demo       set up, then grade the reference Fashion-MNIST solution on real data"
	@echo "make test       set up (with dev tools), then the default lane: every test but 'slow', in parallel"
	@echo "make test-fast  the default lane without the set-up"
	@echo "make test-unit  the unit lane: no TensorFlow process, under a minute"
	@echo "make test-slow  the slow lane: more training on the real data (CI runs it after make test)"
	@echo "make test-all   both lanes in one run"
	@echo "make lint       ruff (lint and format), mypy, and the translation catalogues (CI runs it first)"
	@echo "make bench      time grading against a bare training script"
	@echo "make translations  update the .po catalogues from the code (grader/messages, templates), then compile them"

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

# CI runs this before the tests: lint rules, formatting, types, and a catalogue for every
# message (an untranslated or stale Chinese message fails here, not in front of a learner).
lint:
	$(PYTHON) -m ruff check grader tests scripts
	$(PYTHON) -m ruff format --check grader tests scripts
	$(PYTHON) -m mypy
	$(PYTHON) scripts/translations.py --check

bench: setup
	$(PYTHON) scripts/benchmark.py

# Extract every message of grader/messages and the templates (babel.cfg), merge them into
# grader/locale/<lang>/LC_MESSAGES/<domain>.po, and compile the .mo files. Translate what it
# reports as left to translate (empty or fuzzy), then run it again.
translations:
	$(PYTHON) scripts/translations.py
