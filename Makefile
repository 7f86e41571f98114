# The quick start is two commands: `make up` (install, migrate, demo data, run everything) and
# `make test` (the whole test suite, as CI runs it).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: up install services db migrate demo run test lint lock bench audit clean

up: install services db migrate demo run

install: $(VENV)/.installed

$(VENV)/.installed: requirements/dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	touch $@

services:
	scripts/services.sh

# The database's two roles (owner, app) and the database itself, idempotently.
db:
	scripts/db_roles.sh

# Migrations run as the owner role; the app's role is granted its rights after each run.
migrate: install
	$(BIN)/python manage.py migrate --database owner --noinput

demo: install
	BIN=$(BIN) scripts/demo.sh

# The sandbox posts dispensing webhooks to the app with a secret made on this machine (var/).
run: install
	mkdir -p var
	test -s var/webhook-secret || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(32))" > var/webhook-secret
	ORDOCLIC_WEBHOOK_SECRET=$$(cat var/webhook-secret) $(BIN)/honcho start -f Procfile

test: install services
	scripts/db_roles.sh
	scripts/chromium.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/pytest

# Known vulnerabilities in the locked dependencies (not part of `make test`: it needs the
# vulnerability service; an unreachable service is reported, not a failure).
audit: install
	$(BIN)/python scripts/audit.py

bench: install services
	$(BIN)/python -m bench

lock:
	$(BIN)/uv pip compile --quiet pyproject.toml --generate-hashes --python-version 3.11 --no-emit-index-url -o requirements/base.txt
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --generate-hashes --python-version 3.11 --no-emit-index-url -o requirements/dev.txt

clean:
	rm -rf $(VENV) var
