# Two commands set everything up on a machine with only Python 3.11+ and make:
#   make run    virtualenv, install, migrate, demo data, server on 127.0.0.1:8000
#   make test   ruff, the apps' layers, migration check, pytest
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
INSTALLED := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)

.PHONY: run setup test lint format messages clean vendor schema backup restore load-test serve-prod bench

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(INSTALLED)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

# With the database task queue (the default), its worker runs beside the server and stops with it;
# with TASKS_BACKEND=rq, start RQ workers yourself (README: "Background tasks").
run: setup
	@echo "Zone Portal: http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/; log in with a demo user above; Ctrl-C stops)"
	@if [ "$${TASKS_BACKEND:-database}" = database ]; then \
		echo "Background worker: manage.py task_worker (stops with the server)"; \
		$(PY) manage.py task_worker & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	fi; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# The suite on every core (pytest-xdist), by file; then, alone, the tests that load the whole machine
# (marked serial: the load test, the production stack), whose timings mean nothing beside others.
# Exit status 5 is "no test selected" (PYTEST_ARGS naming files without serial tests).
PYTEST_WORKERS ?= auto
test: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not serial" $(PYTEST_ARGS)
	$(VENV)/bin/pytest -p no:xdist -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]

# Backups (docs/backup.md): the database of DATABASE_URL (PostgreSQL or SQLite) and the uploaded
# files, into backups/zone_portal-<date>-<time>/. KEEP=14 deletes all but the 14 newest.
backup: $(INSTALLED)
	$(PY) manage.py backup --output-dir backups $(if $(KEEP),--keep $(KEEP))

# Overwrites the database and the uploaded files: refused unless CONFIRM=yes.
restore: $(INSTALLED)
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=backups/zone_portal-<date>-<time> CONFIRM=yes" >&2; exit 2; }
	$(PY) manage.py restore "$(BACKUP)" $(if $(filter yes,$(CONFIRM)),--yes)

# The load test on loopback (bench/load/run.py): LOAD_USERS (50) simulated users for LOAD_SECONDS (120)
# against gunicorn and a fresh PostgreSQL database; appends the figures to bench/LOAD_RESULTS.md.
load-test: $(INSTALLED)
	$(PY) bench/load/run.py

# The scale benchmarks (bench/run.py), side by side with their baselines, against the province data
# set in BENCH_DATABASE (PostgreSQL; made once with generate_data --profile province, or --generate);
# appends the table to bench/RESULTS.md. Needs bench/requirements.txt (django-import-export, the baseline).
BENCH_DATABASE ?= zone_portal_province
bench: $(INSTALLED)
	$(PY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(PY) bench/run.py --database $(BENCH_DATABASE) --results bench/RESULTS.md $(BENCH_ARGS)

# The production stack on this machine (docs/deploy.md): DJANGO_ENV=production against the local
# PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/zone_portal) and Redis
# (REDIS_URL, default redis://127.0.0.1:6379/0); migrate, collectstatic when a file changed, gunicorn
# (WEB_CONCURRENCY workers, default 4) and the task worker, on plain HTTP at HOST:PORT. Ctrl-C stops all.
serve-prod: $(INSTALLED)
	HOST=$(HOST) PORT=$(PORT) $(PY) deploy/serve_prod.py

# The API's OpenAPI schema, committed so changes to it show in review (tests/api/test_schema.py checks it).
# It states PostgreSQL's integer limits (the production database's); no connection is made.
SCHEMA_DATABASE_URL := postgres://schema@127.0.0.1:1/schema
schema: $(INSTALLED)
	DATABASE_URL=$(SCHEMA_DATABASE_URL) $(PY) manage.py spectacular --lang en --validate --fail-on-warn --file docs/openapi.yaml

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Needs GNU gettext; the compiled .mo files are committed so `make run` does not.
messages: $(INSTALLED)
	$(PY) manage.py makemessages --locale zh_Hans --ignore '$(VENV)/*' --ignore 'staticfiles/*' --no-obsolete
	$(PY) manage.py compilemessages --locale zh_Hans --ignore '$(VENV)/*'

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache

# Needs node and npm; the result (static/vendor/) is committed so `make run` does not.
# Installs package.json's pinned versions in a temp dir outside the repo and copies
# the built files in; see static/vendor/README.md.
vendor:
	sh static/vendor/update.sh
