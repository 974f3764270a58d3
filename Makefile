# TimeTracker Gateway: `make run` to try it, `make test` to test it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
KEY_FILE ?= .gateway/secret-keys

.PHONY: run test lint bench clean screenshots

# The venv is rebuilt when pyproject.toml changes; the stamps say which extras it holds.
$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# The example connector plugin is installed as a real distribution, the way a third party's would be.
EXAMPLE_PLUGIN := tests/plugins/example_connector
$(VENV)/.installed-example: $(VENV)/.installed-dev $(shell find $(EXAMPLE_PLUGIN) -name '*.py' -o -name pyproject.toml)
	$(BIN)/python -m pip install --quiet --force-reinstall --no-deps ./$(EXAMPLE_PLUGIN)
	touch $@

# Serve on the embedded default: SQLite in ./gateway.db, jobs in-process, a local key file made on first run
# unless GATEWAY_SECRET_KEYS or GATEWAY_SECRET_KEYS_FILE is set.
run: $(VENV)/.installed
	@if [ -z "$$GATEWAY_SECRET_KEYS$$GATEWAY_SECRET_KEYS_FILE" ]; then \
	    [ -f "$(KEY_FILE)" ] || $(BIN)/gateway keys generate --file "$(KEY_FILE)" || exit 1; \
	    export GATEWAY_SECRET_KEYS_FILE="$(KEY_FILE)"; \
	fi; \
	$(BIN)/gateway db upgrade && \
	$(BIN)/gateway demo && \
	exec $(BIN)/gateway serve --host "$(HOST)" --port "$(PORT)"

# The services the tests talk to are installed (as root, from Debian's packages) and started when missing.
test: $(VENV)/.installed-example
	scripts/test-services
	$(BIN)/pytest -n auto

# The README's pictures: the screenshot test writes every page to test-results/web; two of them go to docs/.
screenshots: $(VENV)/.installed-example
	scripts/test-services
	$(BIN)/pytest -q tests/web/test_look.py -k screenshots --web-output test-results/web
	$(BIN)/pytest -q tests/web/test_admin.py tests/web/test_reports.py -k "generated_form or chart" --web-output test-results/web
	mkdir -p docs/screenshots
	cp test-results/web/week-desktop.png docs/screenshots/week.png
	cp test-results/web/ticket-systems-phone.png docs/screenshots/ticket-systems-phone.png
	cp test-results/web/admin-links-desktop.png docs/screenshots/admin-links.png
	cp test-results/web/admin-ticket-system-desktop.png docs/screenshots/admin-ticket-system.png
	cp test-results/web/reports-desktop.png docs/screenshots/reports.png

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy gateway workers

# SYNC_BENCH: the sync benchmark's options, e.g. SYNC_BENCH="--push 2000 --pull 10000 20000" for a quick run.
bench: $(VENV)/.installed-example
	$(BIN)/python -m bench.entries_by_user_day
	$(BIN)/python -m bench.time_report
	$(BIN)/python -m bench.fast_path --rows 1000000
	$(BIN)/python -m bench.fast_path --database sqlite --rows 200000
	$(BIN)/python -m bench.sync_at_scale $(SYNC_BENCH)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-results
