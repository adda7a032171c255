# The set-up contract: `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export FLASK_APP := wsgi
export PORT

.PHONY: install run test lint migrate seed worker clean bench soak screenshots translations

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

## Benchmarks (B-2, B-3, #26): the app and a Flask hello-world under the same gunicorn, driven by
## wrk, on SQLite and on PostgreSQL in one run (PostgreSQL started as .ci/run does, in a database
## made for the run and dropped after it, or DATABASE_URL's). About 10 minutes;
## `make bench BENCH_ARGS="--duration 3 --quick"` for a short run, `--backends sqlite` for one.
## `.venv/bin/python -m bench.report` prints the last run's tables as markdown for the README.
## Then the admin dashboard on the SQLite databases (DATABASE_URL's schemas when set), and the
## billing run's throughput at 1,000 and 100,000 due orders (#21; on PostgreSQL: DATABASE_URL's, or
## a database of its own made and dropped): BILLING_ARGS=--quick for 1,000 and 10,000.
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.dashboard --reuse $(filter --quick,$(BENCH_ARGS))
	$(BIN)/python -m bench.billing $(BILLING_ARGS)

## The soak (#19 item 15), run by hand: 10,000 emails through a fault-injecting SMTP server,
## workers killed with -9 and their PostgreSQL connections terminated, payments from several
## tabs while a web process is killed; exits non-zero unless nothing is lost, wrongly failed,
## stuck or charged twice. Needs PostgreSQL (SOAK_PG, a server URL; it makes its own database).
## `make soak SOAK_ARGS="--emails 300 --duration 30"` for a short run.
SOAK_PG ?= postgresql://postgres@127.0.0.1:5432/postgres
soak: install
	$(BIN)/python -m bench.soak --pg $(SOAK_PG) $(SOAK_ARGS)

## The README's pictures (#20 item 10), taken by Chromium from a fresh demo on a free port:
## docs/screenshots/*.png. Run it again when a page changes and commit the PNGs.
screenshots: install
	$(BIN)/python -m bench.screenshots $(SCREENSHOTS_ARGS)

## Languages (B-5): extract the marked strings, update the de/fr catalogues, compile them. Fill
## every new msgstr (the suite fails on a missing or fuzzy one) and commit the .po and .mo.
TRANSLATIONS := widget_server/translations
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -k lazy_pgettext:1c,2 --no-location --sort-output \
	    --omit-header -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) \
	    --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

worker: migrate
	$(BIN)/flask worker

lint: install
	$(BIN)/ruff check widget_server tests

clean:
	rm -rf $(VENV) instance .pytest_cache
