# perfplan: the two commands of the README, and the checks they run.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo web-demo test check lint types unit bench browser fonts clean

RUNTIME := $(VENV)/.runtime

# What perfplan needs to run (the demo, the pages): perfplan alone, without the tools
# (none to install when the development install is already up to date).
$(RUNTIME): pyproject.toml
	@if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then touch $(RUNTIME); else \
	  $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet --upgrade pip && \
	  $(BIN)/pip install --quiet -e . && touch $(RUNTIME); fi

# What developing it needs on top: ruff, mypy, pytest, Playwright, ...
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(RUNTIME) $(STAMP)

## make demo: Zhang's plan through its whole life, on a SQLite file in ./perfplan-out
demo: $(RUNTIME) fonts
	$(FRESH_DEMO)
	$(DEMO)

## make web-demo: the demo afresh, then its pages with the log-ins it prints (Ctrl-C stops)
web-demo: $(RUNTIME) fonts
	$(FRESH_DEMO)
	$(DEMO) --web

FRESH_DEMO = mkdir -p perfplan-out && rm -rf perfplan-out/demo.db perfplan-out/demo.db-wal \
	perfplan-out/demo.db-shm perfplan-out/demo-out
DEMO = PERFPLAN_DATABASE_URL=sqlite:///perfplan-out/demo.db \
	PERFPLAN_PREFECT_HOME=$(CURDIR)/perfplan-out/prefect $(BIN)/perfplan demo

## make test: the browser for the browser tests, lint, types, then the whole suite
test: $(STAMP) browser lint types unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

# One worker per core: the suite is mostly CPU (SQLite, PostgreSQL, the browser).
unit: $(STAMP)
	$(BIN)/pytest -n auto

## make browser: Debian's Chromium and a Chinese font for the browser tests and their
## screenshots (as root; does nothing when present)
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh | grep -q .; } || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	  chromium fonts-wqy-zenhei >/dev/null; }

## make fonts: a Chinese font and Pango for the signed copies' PDFs (WeasyPrint), as root;
## does nothing when present, and only warns when it cannot install them
fonts:
	@fc-list :lang=zh 2>/dev/null | grep -q . || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei libpango-1.0-0 \
	  libpangoft2-1.0-0 >/dev/null; } || echo "warning: no Chinese font (fonts-wqy-zenhei):" \
	  "the signed copies' PDFs would show boxes for Chinese" >&2

bench: $(STAMP)
	$(BIN)/python bench/transitions.py

clean:
	rm -rf $(VENV) perfplan-out .mypy_cache .ruff_cache .pytest_cache .hypothesis
