# One entry point for setting up, running, checking and testing Pledge.
# A fresh machine needs only python3, make and git.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo demo-banner test lint types unit js node_modules bench lock clean

setup: $(STAMP)

# Reinstall only when the lock or the project metadata changed.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: setup
	$(BIN)/python -m pledge.demo

# The cookie banner on a demo shop page: http://127.0.0.1:8000/demo/ (Ctrl+C stops it).
demo-banner: setup
	$(BIN)/python examples/banner/serve.py

lint: setup
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

types: setup
	$(BIN)/mypy

unit: setup js node_modules
	$(BIN)/pytest -q

# The cookie banner's logic, with Node's built-in test runner (Node.js 18 or later). Without
# node they are skipped with a message, except under CI (CI=true), where that is an error.
js:
	@if command -v node >/dev/null 2>&1; then \
		node --test --test-reporter=spec tests/js/*.test.js; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "error: node (Node.js) is needed for the banner's tests: apt-get install nodejs" >&2; \
		exit 1; \
	else \
		echo "skipping the banner's JavaScript tests: node (Node.js) is not installed" >&2; \
	fi

# axe-core, which the browser tests inject into the pages (package.json, package-lock.json),
# reinstalled only when the lock changed. Without npm the accessibility tests are skipped with a
# message, except under CI (CI=true), where that is an error.
node_modules: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund && touch $@; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "error: npm is needed for axe-core, the accessibility tests' checker: apt-get install npm" >&2; \
		exit 1; \
	else \
		echo "skipping axe-core: npm is not installed, so the accessibility tests will be skipped" >&2; \
	fi

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
