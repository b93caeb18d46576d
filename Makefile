# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# 0.0.0.0 to reach /m/ from a phone on the same network (README: the manager's phone page).
LISTEN ?= 127.0.0.1

# Tests run against PostgreSQL and Redis; these defaults match a local install.
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/shitun)
TEST_REDIS_URL ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/0)

.PHONY: run test lint install schema messages benchmark benchmark-orders benchmark-embedded \
	lighthouse clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py serve $(LISTEN):$(PORT)

# The API contract, committed: tests/backend/test_schema_file.py fails when it is stale.
schema: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

# The Chinese catalogue, brought up to date with the code and compiled; translate what it
# lists as new, then run it again. tests/backend/test_translations.py fails while it is stale.
messages: install
	$(BIN)/python manage.py messages

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	bash scripts/ensure_services.sh "$(TEST_DATABASE_URL)" "$(TEST_REDIS_URL)"
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" $(BIN)/python scripts/fuzz_api.py
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" $(BIN)/pytest

benchmark: install
	bash scripts/ensure_services.sh "$(TEST_DATABASE_URL)" "$(TEST_REDIS_URL)"
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" \
		$(BIN)/python benchmarks/listings.py
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" \
		$(BIN)/python benchmarks/orders.py
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" \
		$(BIN)/python benchmarks/settlement.py
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" \
		$(BIN)/python benchmarks/notices.py
	$(BIN)/python benchmarks/embedded.py

# The embedded default (`make run`: SQLite, no Redis), in-process; needs no services.
benchmark-embedded: install
	$(BIN)/python benchmarks/embedded.py

benchmark-orders: install
	bash scripts/ensure_services.sh "$(TEST_DATABASE_URL)" "$(TEST_REDIS_URL)"
	DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" \
		$(BIN)/python benchmarks/orders.py

# Lighthouse on the phone page (benchmarks/lighthouse.py): installs it with npm into
# var/lighthouse/, serves the demo with gunicorn, fails below 90 performance / 95 accessibility.
# SQLite unless DATABASE_URL is set; LIGHTHOUSE_ARGS="--runs 5" and so on.
lighthouse: install
	$(BIN)/python benchmarks/lighthouse.py $(LIGHTHOUSE_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
