# The two commands of the quick start are `make run` and `make test`; both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
CATALOGS := $(patsubst %.po,%.mo,$(wildcard lms/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test bench lint translations vendor-leaflet

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

# Leaflet for the partners map, committed under lms/static/vendor/ so that `make run` needs no network; this
# fetches the pinned version from the npm registry again and refuses it unless it matches the registry's checksum.
LEAFLET_VERSION := 1.9.4
LEAFLET_SHA512 := nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==
LEAFLET_DIR := lms/static/vendor/leaflet-$(LEAFLET_VERSION)
vendor-leaflet:
	rm -rf $(LEAFLET_DIR) .leaflet.tgz .leaflet
	curl --fail --silent --show-error -o .leaflet.tgz https://registry.npmjs.org/leaflet/-/leaflet-$(LEAFLET_VERSION).tgz
	test "$$(openssl dgst -sha512 -binary .leaflet.tgz | base64 -w0)" = "$(LEAFLET_SHA512)"
	mkdir -p .leaflet $(LEAFLET_DIR)/images && tar -xzf .leaflet.tgz -C .leaflet
	cp .leaflet/package/dist/leaflet.js .leaflet/package/dist/leaflet.css .leaflet/package/LICENSE $(LEAFLET_DIR)/
	cp .leaflet/package/dist/images/*.png $(LEAFLET_DIR)/images/
	rm -rf .leaflet.tgz .leaflet
