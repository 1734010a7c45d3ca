# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
# The address printed and put in QR codes by `make run`; production sets its own.
PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test install install-test translations catalogues bytecode lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed translations bytecode

install-test: $(VENV)/.installed-test translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations >/dev/null

# After changing text: the template and both catalogues, in their committed layout (sorted, no
# source lines, no guessed fuzzy translations, no obsolete entries); then translate the new vi
# entries and compile.
catalogues: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l --no-location --sort-output --project hailong \
		--copyright-holder "Hài Lòng contributors" -o translations/messages.pot .
	$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -l en \
		-i translations/messages.pot -d translations
	$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -w 100 -l vi \
		-i translations/messages.pot -d translations

# The app's modules compiled once (only those changed since): every worker and `flask` command
# would compile them again where PYTHONDONTWRITEBYTECODE is set (docs/deploy.md).
bytecode: $(VENV)/.installed
	$(BIN)/python -m compileall -q core survey feedback analysis wsgi.py

run: install
	PUBLIC_BASE_URL=$(PUBLIC_BASE_URL) $(BIN)/flask --app wsgi setup
	PUBLIC_BASE_URL=$(PUBLIC_BASE_URL) $(BIN)/gunicorn -c gunicorn.conf.py --workers $(WORKERS) --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

# The whole suite on SQLite; again on PostgreSQL (browser tests aside) when TEST_DATABASE_URL is set.
test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL) =="; \
		$(BIN)/python -m pytest --db=postgres -m "not e2e" $(PYTEST_ARGS); \
	fi

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install-test
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/import_speed.py
	$(BIN)/python bench/survey_load.py

clean:
	rm -rf $(VENV) .pytest_cache
