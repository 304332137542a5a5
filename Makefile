# Teahouse: `make run` serves the demo, `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
CATALOGS := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)

.PHONY: run test setup translations lint extract-messages clean

$(STAMP): requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP) translations

translations: $(CATALOGS:.po=.mo)

portal/translations/%/LC_MESSAGES/messages.mo: portal/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

run: setup
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "Serving http://$(HOST):$(PORT)"
	$(BIN)/gunicorn --worker-class gthread --workers 1 --threads 32 \
		--bind $(HOST):$(PORT) --access-logfile - wsgi:app

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check portal tests bench wsgi.py

# Refresh the catalogs after changing UI strings: make extract-messages, translate, commit.
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --project=Teahouse \
		--copyright-holder="Teahouse contributors" --add-location=file -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache
