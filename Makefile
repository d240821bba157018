# iamconsole — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format typecheck check bench install clean

$(VENV)/.installed: pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet -e clients/python
	touch $@

install: $(VENV)/.installed

.env:
	$(PY) -m iamconsole.devenv > .env

# Embedded default: SQLite, database cache, Celery on kombu's filesystem transport (no
# server); creates a demo account on first start. Web, worker and beat stop together.
run: install .env
	mkdir -p var
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py createcachetable
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py bootstrapdemo --url http://$(HOST):$(PORT)/console/login
	@echo "Starting the web server, and the Celery worker with beat (Ctrl-C stops both)."
	@trap 'kill 0' EXIT; \
	  $(VENV)/bin/celery -A iamconsole worker -B --pool=solo --loglevel=warning & \
	  $(PY) manage.py runserver $(HOST):$(PORT) --noreload

# The whole suite (engine, services, views, browser). DATABASE_URL selects PostgreSQL.
test: install
	mkdir -p var test-artifacts
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: install
	DEBUG=1 $(VENV)/bin/mypy .

check: lint typecheck test

bench: install
	$(PY) bench/policy_eval.py
	$(PY) bench/console_pages.py
	$(PY) bench/api_throughput.py
	$(PY) bench/sts_throughput.py
	$(PY) bench/single_use.py
	$(PY) bench/resource_service.py
	@echo "bench/expire_sessions.py needs DATABASE_URL=postgres://…: run it by hand"

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .mypy_cache .ruff_cache
