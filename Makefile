# The set-up contract: `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export FLASK_APP := wsgi
export PORT

.PHONY: install run test lint migrate seed worker clean bench

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo

# The demo (seed command and /demo/shop) exists only where DEMO_ENABLED is on: here, not in
# production.
run seed: export DEMO_ENABLED := 1

## Serve the app on http://localhost:$(PORT) with the demo seeded and the job worker beside it.
run: seed
	@echo "Serving on http://localhost:$(PORT) with the email worker  (Ctrl-C stops both)"
	$(BIN)/flask worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 --access-logfile - wsgi:app

## Install everything (Chromium for the browser tests included) and run the whole suite.
test: install
	bash .ci/ensure-chromium
	$(BIN)/ruff check widget_server tests
	$(BIN)/pytest

## Benchmarks (B-2, B-3): the app and a Flask hello-world under the same gunicorn, driven by wrk.
## `make bench BENCH_ARGS="--duration 5 --quick"` for a short run; DATABASE_URL for PostgreSQL.
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

worker: migrate
	$(BIN)/flask worker

lint: install
	$(BIN)/ruff check widget_server tests

clean:
	rm -rf $(VENV) instance .pytest_cache
