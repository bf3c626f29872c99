# One entry point for setting up, running, checking and testing Pledge.
# A fresh machine needs only python3, make and git.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint types unit bench lock clean

setup: $(STAMP)

# Reinstall only when the lock or the project metadata changed.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	$(BIN)/python -m pledge.demo

lint: setup
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

types: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q

test: lint types unit

bench: setup
	$(BIN)/python bench/run.py --record

# Regenerate requirements.lock after changing dependencies in pyproject.toml.
lock:
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet pip-tools
	.lock-venv/bin/pip-compile --quiet --extra dev --generate-hashes --no-emit-index-url \
		--no-emit-find-links --strip-extras -o requirements.lock pyproject.toml
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
