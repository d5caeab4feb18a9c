# The two commands of the README: `make run` and `make test`. Both set up the
# virtualenv first (only Python 3.11+ is needed); `make setup` does only that.
# `make run` installs what running needs (the control side's packages, bubblewrap);
# `make test` adds the development and test tools (pytest, linters, Playwright with
# the system's Chromium, docker-compose, faketime), so a first start stays short.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test setup lint pytest clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ppipe needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

# uv (pinned) installs the packages; ppipe_site/install_requirements.py says why and
# falls back to pip.
$(RUN_STAMP): pyproject.toml ppipe_site/install_requirements.py | $(BIN)/python
	$(BIN)/python ppipe_site/install_requirements.py control
	$(BIN)/python -m ppipe_site.system_packages run
	touch $(RUN_STAMP)

# Everything `make run` has and more: a set-up for tests serves a run as well.
$(TEST_STAMP): pyproject.toml ppipe_site/install_requirements.py | $(BIN)/python
	$(BIN)/python ppipe_site/install_requirements.py dev
	$(BIN)/python -m ppipe_site.system_packages test
	touch $(TEST_STAMP) $(RUN_STAMP)

setup: $(TEST_STAMP)

run: $(RUN_STAMP)
	$(BIN)/python -m ppipe_site.launcher

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

pytest: $(TEST_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint pytest

clean:
	rm -rf $(VENV) var
