# The toolkit's tasks. `make` lists them; `make demo` and `make test` set themselves up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Rebuilt only when the project's inputs change, so a second `make setup` has nothing to do.
STAMP := $(VENV)/.setup-done
# The exact versions of the dev environment (pip freeze of a fresh resolution): `make lock`.
LOCK := constraints.txt
PIP := -m pip --disable-pip-version-check
SPEC := openapi.yaml
GENERATOR_CONFIG := openapi-generator.yaml
GENERATED := generated
TEMPLATES := generator-templates
HAND_WRITTEN := short_jobs mock_server tests bench scripts
# pytest-xdist workers for `make test` (0: one process); PYTEST_ARGS adds pytest options. One
# more than the CPUs: a test waiting on a process it started (a mock, a venv, a browser) leaves
# its CPU to another worker (on 2 CPUs, 3 workers ran the suite in 192 s where 2 took 211 s).
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
# How xdist hands the tests out: `worksteal`, an idle worker takes half of a busy one's queue.
# Its default, `load`, sends each worker a chunk of the collection and never moves it: the first
# chunk held every `slow` test (tests/conftest.py runs them first), so one worker ran them all,
# one after the other, however soon the other worker ran out of tests.
PYTEST_DIST ?= worksteal
export PATH := $(CURDIR)/$(BIN):$(PATH)
# mkdocs 1.x prints a banner about its successor on every build: not a warning about our docs.
export NO_MKDOCS_2_WARNING := 1

.PHONY: help setup lock generate unasync check-generated lint-spec lint format test demo mock bench clean \
	dist check-compat docs docs-serve

help: ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-16s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create or reuse .venv: the project (editable) and its dev extra, at the versions of constraints.txt.

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP) install --quiet -c $(LOCK) pip
	$(BIN)/python $(PIP) install --quiet -c $(LOCK) -e '.[dev]'
	@touch $@

lock: ## Resolve the dev environment afresh (newest versions pyproject.toml allows) into constraints.txt.
	@rm -rf $(VENV).lock && trap 'rm -rf $(VENV).lock' EXIT && \
	$(PYTHON) -m venv $(VENV).lock && \
	$(VENV).lock/bin/python $(PIP) install --quiet --upgrade pip && \
	$(VENV).lock/bin/python $(PIP) install --quiet -e '.[dev]' && \
	{ echo "# The dev environment's exact versions, for \`make setup\` and CI (pip install -c)."; \
	  echo "# Made by \`make lock\` with $$($(VENV).lock/bin/python --version) on $$(uname -sm); do not edit by hand."; \
	  $(VENV).lock/bin/python $(PIP) freeze --all --exclude-editable | grep -v '^setuptools=='; \
	} > $(LOCK).new && mv $(LOCK).new $(LOCK)
	@echo "$(LOCK) refreshed: review 'git diff $(LOCK)', then 'make setup' and 'make test'"

generate: $(STAMP) ## Regenerate generated/ from openapi.yaml (never edit generated/ by hand).
	$(BIN)/openapi-python-client generate --path $(SPEC) --config $(GENERATOR_CONFIG) \
		--custom-template-path $(TEMPLATES) --meta uv --output-path $(GENERATED) --overwrite

unasync: $(STAMP) ## Regenerate short_jobs/_sync (the sync facade) from short_jobs/_async; never edit _sync.
	$(BIN)/python scripts/unasync_facade.py

check-generated: $(STAMP) ## Fail, showing the diff, if generated/ is not what the generator makes now.
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(BIN)/openapi-python-client generate --path $(SPEC) --config $(GENERATOR_CONFIG) \
		--custom-template-path $(TEMPLATES) --meta uv --output-path "$$tmp/generated" >/dev/null && \
	if diff -ru -x __pycache__ -x .mypy_cache "$$tmp/generated" $(GENERATED); then \
		echo "generated/ matches $(SPEC)"; \
	else \
		echo "generated/ is stale or hand-edited: run 'make generate' and commit the result" >&2; exit 1; \
	fi

lint-spec: $(STAMP) ## Validate openapi.yaml (and the mock's IAM spec) against the OpenAPI 3 schema.
	$(BIN)/openapi-spec-validator $(SPEC) mock_server/iam.yaml

lint: $(STAMP) ## ruff (lint and format check), the layers' import rules, mypy --strict on all code.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy $(wildcard $(HAND_WRITTEN))
	cd $(GENERATED) && ../$(BIN)/mypy --strict --config-file= --cache-dir ../.mypy_cache/generated short_jobs_client

format: $(STAMP) ## Apply ruff's fixes and formatting to hand-written code.
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint-spec lint check-compat docs ## Everything CI checks: spec, lint, types, compatibility, docs, the test suite.
	@echo "$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) $(PYTEST_ARGS)"
	@$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest ran no tests (exit 5): a failure" >&2; exit 1; fi; \
	exit $$status

demo: ## Start the mock, assess a zip of generated recordings through the client, stop the mock.
	@PYTHON="$(PYTHON)" scripts/demo.sh

dist: $(STAMP) ## Build the sdist and the wheel into dist/ (python -m build) and check them (twine check).
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# The contract of the last release, kept to compare with (docs/compatibility.md).
LAST_RELEASE_SPEC := docs/releases/openapi-0.1.0.yaml

check-compat: $(STAMP) ## Fail on a breaking change of openapi.yaml against the last release's copy.
	$(BIN)/python scripts/check_compat.py $(LAST_RELEASE_SPEC) $(SPEC)

docs: $(STAMP) ## Build the docs site into site/ (mkdocs build --strict: a broken link fails).
	$(BIN)/mkdocs build --strict --quiet

docs-serve: $(STAMP) ## Serve the docs site with live reload on http://127.0.0.1:8080.
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8080

mock: $(STAMP) ## Run the mock server in the foreground; pass options as ARGS="--port 9000 ...".
	$(BIN)/short-jobs-mock $(ARGS)

bench: $(STAMP) ## Run the benchmarks by hand, one table of figures (see bench/README.md); ARGS=... for bench/run.py.
	bench/setup.sh
	$(BIN)/python bench/run.py --no-setup $(ARGS)
	$(BIN)/python bench/assessment.py

clean: ## Remove the virtualenv, caches and mock data.
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .mock-data dist site
