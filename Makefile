# `make site` and `make test` set up everything they need on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: site test serve validate bench golden mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip >/dev/null
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

site: $(STAMP)
	scripts/system-deps.sh site
	$(BIN)/playbook build

# axe-core for the browser tests, from the committed lock file (project-local, never global).
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --silent
	touch $(AXE)

test: $(STAMP)
	scripts/system-deps.sh test
	scripts/node-deps.sh
	scripts/dbt-venv.sh
	$(MAKE) $(AXE)
	# Two workers (the machine has two cores); whole files per worker so module fixtures are built once.
	$(BIN)/python -m pytest -n 2 --dist loadfile

validate: $(STAMP)
	$(BIN)/playbook validate --strict

serve: $(STAMP)
	scripts/system-deps.sh site
	$(BIN)/playbook serve

# Regenerate every golden file; review the diff before committing.
golden: $(STAMP)
	scripts/system-deps.sh test
	$(MAKE) $(AXE)
	PLAYBOOK_UPDATE_GOLDEN=1 $(BIN)/python -m pytest -q -k "golden or readme"

bench: $(STAMP)
	scripts/system-deps.sh test
	# Soda Core (conformance reference) pins ruamel.yaml<0.19, so it gets its own virtualenv.
	test -f .cache/soda-venv/.installed || ($(PYTHON) -m venv .cache/soda-venv && .cache/soda-venv/bin/python -m pip install -q -r benchmarks/requirements-soda.txt && touch .cache/soda-venv/.installed)
	$(BIN)/python -m benchmarks

# Mutation testing of the core modules (not part of CI: it takes tens of minutes);
# writes .cache/mutation/report.md. See scripts/mutate.py.
mutation: $(STAMP)
	scripts/system-deps.sh test
	$(BIN)/python scripts/mutate.py

clean:
	rm -rf site .cache build *.egg-info
