# Solidaire. `make run` starts the embedded default (SQLite, file broker, no setup);
# `make test` lints, runs the embedded default's tests on SQLite, then the whole suite
# against a throwaway PostgreSQL and Redis.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# compilemessages walks the whole tree: keep it out of the venv's own catalogues.
I18N_IGNORE := --ignore=.venv --ignore=node_modules --ignore=staticfiles --ignore=var
PYTEST_ARGS ?=
BENCH_ARGS ?=
STAGE_ARGS ?=
DRILL_ARGS ?=
STAGE_BENCH_ARGS ?=

# Install $(1) (Debian packages) when running as root, else print the command and fail.
define apt_install
if [ "$$(id -u)" -eq 0 ]; then \
	echo "Installing system packages: $(1)"; \
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(1); \
else \
	echo "Missing system packages. Run:  sudo apt-get install -y $(1)" >&2; \
	exit 1; \
fi
endef

.PHONY: run test test-sqlite test-postgresql compile-messages bench lint messages gettext \
	services-deps test-deps stage-deps stage stage-test drill restore-drill

$(BIN)/python:
	@if ! $(PYTHON) -c 'import ensurepip' 2>/dev/null; then $(call apt_install,python3-venv); fi
	$(PYTHON) -m venv $(VENV)

# Stamps: reinstall only when the dependency declarations change.
$(VENV)/.installed-run: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -c constraints.txt -e ".[dev]"
	touch $@

gettext:
	@command -v msgfmt >/dev/null 2>&1 || { $(call apt_install,gettext); }

# PostgreSQL server binaries are usually off PATH (/usr/lib/postgresql/N/bin).
services-deps:
	@missing=""; \
	if ! { command -v initdb || test -x "$$(pg_config --bindir 2>/dev/null)/initdb" \
		|| ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1; then \
		if [ "$$(id -u)" -eq 0 ] && ! apt-cache show postgresql-15 >/dev/null 2>&1; then \
			apt-get update >/dev/null; fi; \
		if apt-cache show postgresql-15 >/dev/null 2>&1; then missing="postgresql-15"; \
		else missing="postgresql"; fi; \
	fi; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v redis-cli >/dev/null 2>&1 || missing="$$missing redis-tools"; \
	missing="$${missing# }"; if [ -n "$$missing" ]; then $(call apt_install,$$missing); fi

# The production shape (tests/stage/): nginx, pgbouncer and openssl besides the services.
stage-deps: services-deps gettext
	@missing=""; \
	command -v nginx >/dev/null 2>&1 || missing="$$missing nginx"; \
	command -v pgbouncer >/dev/null 2>&1 || missing="$$missing pgbouncer"; \
	command -v openssl >/dev/null 2>&1 || missing="$$missing openssl"; \
	missing="$${missing# }"; if [ -n "$$missing" ]; then $(call apt_install,$$missing); fi

test-deps: services-deps gettext
	@command -v chromium >/dev/null 2>&1 || { $(call apt_install,chromium); }

run: $(VENV)/.installed-run gettext
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput
	$(MANAGE) compilemessages $(I18N_IGNORE)
	$(MANAGE) load_demo
	@# The worker (with beat) lives exactly as long as the server.
	$(BIN)/celery -A union worker -B --concurrency=1 --loglevel=INFO & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null || true' EXIT INT TERM; \
	$(MANAGE) runserver 127.0.0.1:8000 --noreload

# Cheapest first: a lint or type error stops the run within seconds. Each step is its own
# make so that the order holds under -j too; the time of each is printed for CI logs.
test: $(VENV)/.installed-dev
	@for step in lint test-sqlite test-postgresql; do \
		start=$$SECONDS; \
		$(MAKE) --no-print-directory $$step; \
		echo "make test: $$step passed in $$((SECONDS - start)) s"; \
	done

compile-messages: $(VENV)/.installed-dev gettext
	$(MANAGE) compilemessages $(I18N_IGNORE)

# The tests marked `embedded`, on the embedded default exactly as `make run` gets it: no
# environment at all (so no DATABASE_URL: SQLite, the file broker, generated secrets), with
# var/ in a throwaway directory. With PYTEST_ARGS narrowing the run, finding no embedded
# test there is no failure (pytest's exit code 5); without, it is.
test-sqlite: $(VENV)/.installed-dev compile-messages
	@var="$$(mktemp -d "$${TMPDIR:-/tmp}/solidaire-sqlite.XXXXXX")"; \
	trap 'rm -rf "$$var"' EXIT; \
	status=0; \
	env -i PATH="$$PATH" HOME="$${HOME:-/root}" LANG="$${LANG:-C.UTF-8}" \
		TMPDIR="$${TMPDIR:-/tmp}" PYTEST_ADDOPTS="$${PYTEST_ADDOPTS:-}" \
		SOLIDAIRE_VAR_DIR="$$var" $(BIN)/pytest -m embedded $(PYTEST_ARGS) || status=$$?; \
	if [ "$$status" = 5 ] && [ -n "$(if $(strip $(PYTEST_ARGS)),narrowed)" ]; then status=0; fi; \
	exit "$$status"

test-postgresql: $(VENV)/.installed-dev test-deps compile-messages
	tests/with_services.sh $(BIN)/pytest $(PYTEST_ARGS)

# tests/bench (each section against its baseline), then the production shape (webhook
# through nginx, mixed load on one node and two); both written to docs/benchmarks.md.
bench: $(VENV)/.installed-dev stage-deps
	@mkdir -p var
	tests/with_services.sh $(BIN)/python -m tests.bench $(BENCH_ARGS) | tee var/bench-sections.txt
	$(BIN)/python -m tests.stage.bench $(STAGE_BENCH_ARGS) \
		--sections-output var/bench-sections.txt --write docs/benchmarks.md

# Two web nodes behind nginx (TLS), pgbouncer, PostgreSQL, Redis, two workers and a beat,
# with the demo union, on 127.0.0.1 until Ctrl-C.
stage: $(VENV)/.installed-run stage-deps
	$(BIN)/python -m tests.stage $(STAGE_ARGS)

# In that shape: nothing depends on the node (imports, renditions, sessions, one beat...).
stage-test: $(VENV)/.installed-dev stage-deps
	$(BIN)/python -m tests.stage.checks $(DRILL_ARGS)

# Fault drills: a worker, Redis, PostgreSQL, a web node fail under load; 0 lost, 0 doubled.
drill: $(VENV)/.installed-dev stage-deps
	$(BIN)/python -m tests.stage.drill $(DRILL_ARGS)

# Backup, destroy, restore into a fresh cluster, check everything came back.
restore-drill: $(VENV)/.installed-dev stage-deps
	$(BIN)/python -m tests.stage.restore $(DRILL_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

messages: $(VENV)/.installed-run gettext
	$(MANAGE) makemessages -l fr -l en --ignore=tests --no-location $(I18N_IGNORE)
