# autograd-lab: `make lab` and `make test` set everything up themselves on a fresh machine.
#
#   make lab      JupyterLab on the course: lessons/ and exercises/ only (build/lab/), lesson 00 open
#   make test     the whole test suite (unit, notebooks, grader, browser)
#   make bench    benchmarks against torch and peers -> benchmarks/RESULTS.md
#   make slides   reveal.js slide decks of the lessons -> build/slides/ (work offline)
#   make lessons  re-execute the lessons in place after editing them
#
# TORCH is installed first and pinned: a bare `torch` requirement can pull a multi-GB CUDA
# build. Elsewhere, override it, e.g. `make test TORCH="torch==2.5.1 --index-url ..."`.

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
# JupyterLab's defaults for this venv: keep widget state on save, also when a student runs plain `jupyter lab`
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
PYTEST_WORKERS ?= 2

.PHONY: lab test bench slides lint lessons exercises chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --disable-pip-version-check -q "$(TORCH)"
	$(PIP) install --disable-pip-version-check -q -e ".[dev]"
	touch $(STAMP)

$(LAB_OVERRIDES): $(STAMP)
	$(PY) -m autograd_lab.cli lab --write-overrides $@

lab: $(STAMP) $(LAB_OVERRIDES)
	$(PY) -m autograd_lab.cli lab

# Browser tests need Chromium: install Debian's when we are root with apt, else they are skipped (and say so).
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "NOTE: chromium is missing and cannot be installed here (need root + apt): browser tests will be skipped."; fi

test: $(STAMP) $(LAB_OVERRIDES) chromium
	$(PY) -m ruff check .
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile --nbval lessons/

# Re-execute the lessons in place after editing them (deterministic: unchanged lessons stay byte-identical).
lessons: $(STAMP)
	$(PY) -m autograd_lab.notebooks

bench: $(STAMP)
	$(PY) -m benchmarks

slides: $(STAMP)
	$(PY) -m autograd_lab.cli slides

# After editing a master: re-execute the masters, then regenerate the student notebooks from them.
exercises: $(STAMP)
	$(PY) -m autograd_lab.notebooks solutions/*.ipynb
	$(PY) -m autograd_lab.cli assign solutions/ exercises/

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf build .pytest_cache .hypothesis
