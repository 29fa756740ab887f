# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the tests drive for real: a browser, a database server, a message queue.
SYSTEM_TEST_PACKAGES := chromium postgresql redis-server

.PHONY: run test test-fresh-clone test-sqlite test-postgresql system-test-deps lint catalogs translations screenshots clean

$(BIN)/python:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  echo "Installing python3-venv (Debian package)…"; \
	  $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml hatch_build.py
	$(BIN)/pip install -q -e .
	@touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

# .po -> .mo with Babel's own command (Babel comes with Flask-Babel, so `make run` needs no
# test extras); wheels compile them in hatch_build.py.
catalogs: $(STAMP)
	@$(BIN)/pybabel compile -d kb/translations -D messages

run: $(STAMP) catalogs
	$(BIN)/kb init
	$(BIN)/kb demo
	@echo "Методкабинет: http://$${KB_HOST:-127.0.0.1}:$${KB_PORT:-5000}"
	$(BIN)/kb serve

lint: $(TEST_STAMP)
	$(BIN)/ruff check kb tests bench scripts hatch_build.py
	$(BIN)/ruff format --check kb tests bench scripts hatch_build.py

system-test-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages for the tests:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

# Both cores: test files are spread over two pytest-xdist workers (a file stays on one, so
# its module fixtures — a demo server, a browser — are made once); the timing-sensitive
# tests (marker `serial`: faults, several processes, four browser windows) run afterwards,
# alone.
PARALLEL := -n 2 --dist loadfile -m "not serial"
SERIAL := -m serial

test-sqlite: $(TEST_STAMP) catalogs
	$(BIN)/python -m pytest $(PARALLEL) --durations=15
	$(BIN)/python -m pytest $(SERIAL) --durations=5

# The PostgreSQL pass leaves out what does not depend on the database: the real-browser
# journeys (the same server code and queries as the API tests, which do run), the Markdown
# and diff CPU bounds, and the pure text functions.
POSTGRESQL_SKIPS := --ignore=tests/browser --ignore=tests/pages/test_bounds.py \
  --ignore=tests/pages/test_markdown_escape.py --ignore=tests/security/test_markdown_fuzz.py \
  --ignore=tests/search/test_analysis.py

test-postgresql: $(TEST_STAMP) catalogs
	KB_TEST_DATABASE=postgresql $(BIN)/python -m pytest $(PARALLEL) --durations=15 $(POSTGRESQL_SKIPS)
	KB_TEST_DATABASE=postgresql $(BIN)/python -m pytest $(SERIAL) --durations=5 $(POSTGRESQL_SKIPS)

# The README's first command as a newcomer runs it: `make run` in a fresh clone of HEAD with
# its own .venv and nothing but python3 (scripts/smoke_make_run.py).
test-fresh-clone: $(TEST_STAMP)
	$(BIN)/python scripts/smoke_make_run.py

# `make run` in a fresh clone, then the whole suite on the embedded SQLite, then again on a
# throwaway PostgreSQL cluster.
test: system-test-deps lint test-fresh-clone test-sqlite test-postgresql

# docs/screenshots/*.png (desktop and phone) from a demo server in Debian's chromium.
screenshots: system-test-deps $(TEST_STAMP) catalogs
	$(BIN)/python scripts/screenshots.py

translations: $(TEST_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o kb/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i kb/translations/messages.pot -d kb/translations --no-fuzzy-matching --no-wrap
	$(BIN)/python scripts/ru_plurals.py
	$(MAKE) catalogs

clean:
	rm -rf $(VENV) dist build .pytest_cache .ruff_cache

# Benchmarks (bench/README.md): wrk from Debian, profilers and the asyncio Socket.IO client
# from PyPI; An Otter Wiki is installed by bench/otter.py into its own virtualenv.
.PHONY: bench bench-deps
bench-deps: $(TEST_STAMP)
	@command -v wrk >/dev/null || { \
	  echo "Installing wrk (Debian package)…"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q wrk; }
	$(BIN)/pip install -q psutil py-spy pyinstrument aiohttp

bench: bench-deps catalogs
	$(BIN)/python bench/run.py
