# The two commands of the quick start are `make run` and `make test`; both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
CATALOGS := $(patsubst %.po,%.mo,$(wildcard lms/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test bench lint translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

run: $(VENV)/.installed $(CATALOGS)
	$(FLASK) db upgrade
	$(FLASK) lms sync-courses
	$(FLASK) lms demo --if-no-users
	$(FLASK) run --host 127.0.0.1 --port 5000

test: $(VENV)/.installed $(CATALOGS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# `make bench` measures dataset S on SQLite and PostgreSQL (about 5 minutes); `make bench SIZE=L` the large one.
SIZE ?= S
bench: $(VENV)/.installed $(CATALOGS)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	BENCH_SIZE=$(SIZE) $(BIN)/python bench/run.py

lint: $(VENV)/.installed
	$(BIN)/ruff check .

# After changing user-visible text: extract, merge into both catalogs, then translate the new entries.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k _l -k _lp:1c,2 -o lms/translations/messages.pot lms
	$(BIN)/pybabel update --ignore-obsolete --no-fuzzy-matching -w 0 -i lms/translations/messages.pot -d lms/translations
