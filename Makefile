# FastFaktura developer commands. Every target works on a fresh clone: `install` builds .venv.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run test test-unit test-soak lint browser pgbouncer fmt bench clean screenshots

help: ## Show this help
	@awk 'BEGIN{FS=":.*##"} /^[a-zA-Z0-9_-]+:.*##/{printf "  %-10s %s\n",$$1,$$2}' $(MAKEFILE_LIST)

install: $(STAMP) ## Create .venv and install the project with its dev tools (idempotent)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

HOST ?= 127.0.0.1
PORT ?= 8000

run: install ## Embedded PostgreSQL (unless DATABASE_URL), migrate, demo account, serve on $(HOST):$(PORT)
	$(BIN)/fastfaktura serve --demo --host $(HOST) --port $(PORT)

lint: install ## ruff check, ruff format --check, mypy --strict on src/, the dependency rule
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy --strict src
	$(BIN)/lint-imports

browser: ## Debian's Chromium for the headless browser tests (installed when root with apt-get)
	@if command -v chromium >/dev/null 2>&1; then \
		echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
			|| echo "chromium could not be installed: browser tests will be skipped"; \
	else \
		echo "chromium not installed (needs root and apt-get): browser tests will be skipped"; \
	fi

pgbouncer: ## Debian's PgBouncer for the connection-pooler test (installed when root with apt-get)
	@if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then \
		echo "pgbouncer: $$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer) \
			|| echo "pgbouncer could not be installed: the PgBouncer test will be skipped"; \
	else \
		echo "pgbouncer not installed (needs root and apt-get): the PgBouncer test will be skipped"; \
	fi

test: lint browser pgbouncer ## Lint, then the whole suite against a real PostgreSQL the suite starts itself
	$(BIN)/pytest -n 2 --dist loadfile

# Long load and soak runs (marker `soak`: the database stopped, frozen and killed under
# `serve`; four API processes filling the connection budget) are left out of `make test`.
test-soak: install ## The long load and soak runs only (marker `soak`), opt-in
	$(BIN)/pytest -m soak

# tests/unit needs no database (domain, application on the in-memory store, API input rules).
# --confcutdir keeps tests/conftest.py (PostgreSQL, the app) out: faster, and a test there
# asking for the database fails. FASTFAKTURA_TESTS_WITHOUT_DATABASE makes that conftest refuse
# to start PostgreSQL too, should it ever be loaded.
UNIT_TESTS := tests/unit

test-unit: install ## The database-free tests only (domain, application in memory), timed
	@TIMEFORMAT='test-unit: %R s'; time FASTFAKTURA_TESTS_WITHOUT_DATABASE=1 $(BIN)/pytest -q --confcutdir=tests/unit $(UNIT_TESTS)

screenshots: install browser ## docs/*.png: the account pages, and invoices (PDF, public page) in each locale
	ACCOUNT_SCREENSHOTS=docs $(BIN)/pytest -q tests/e2e/test_account_browser.py -k each_page
	DOCUMENT_SCREENSHOTS=docs $(BIN)/pytest -q tests/e2e/document_screenshots.py

fmt: install ## Format and autofix
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

bench: install ## Throughput and latency figures, each as a ratio to a baseline measured in the same run
	$(BIN)/python -m tests.bench

clean: ## Remove caches (keeps .venv and .fastfaktura data)
	rm -rf .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
