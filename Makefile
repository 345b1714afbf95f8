# The two commands a newcomer needs: `make run` and `make test`. Both set up .venv first.
# `make run` serves the local sandbox (a pretend Slack workspace in the browser) on SQLite in
# .playbook-sandbox/, with example versions seeded; `make walkthrough` runs the CLI tour.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SANDBOX := .playbook-sandbox
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run walkthrough test test-faketime test-loaded lint bench clean lock

LOCK := requirements-dev.lock

$(STAMP): pyproject.toml client/pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(LOCK) -e '.[dev]' \
	  -e client/
	touch $(STAMP)

# Re-pin the development environment from pyproject.toml's ranges (newest allowed releases).
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	.venv-lock/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' \
	  -e client/
	{ sed -n '1,2p' $(LOCK); .venv-lock/bin/python -m pip freeze --all --exclude-editable \
	  | grep -v -E '^(pip|playbook-bot|playbook-client)=='; } > $(LOCK).new
	@if grep -n ' @ ' $(LOCK).new; then echo "make lock: the lines above name a local file or URL," \
	  "which installs nowhere else; install those packages from the index and run make lock again"; \
	  rm -rf .venv-lock $(LOCK).new; exit 1; fi
	mv $(LOCK).new $(LOCK)
	rm -rf .venv-lock

run: $(STAMP)
	$(BIN)/playbook --home $(SANDBOX) --database "sqlite:///$(CURDIR)/$(SANDBOX)/playbook.db" \
	  --config examples/sandbox.toml serve --sandbox --seed --host $(HOST) --port $(PORT)

walkthrough: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/walkthrough.sh

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

# The suite with the clock at hostile instants (year end, 02:50 UTC, a DST change) and zones.
test-faketime: $(STAMP)
	$(BIN)/python .ci/suite_at_instants.py

# The suite while one busy loop per core keeps the machine loaded.
test-loaded: $(STAMP)
	$(BIN)/python .ci/suite_under_load.py

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .playbook .playbook-demo $(SANDBOX)
