# stravasync — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run serve test soak install chromium migrate lint bench demo clean

# The venv is made with a Python >= 3.12 (bin/find-python says which, or why none); one made
# with an older Python is replaced.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
	  echo "$(VENV) has $$($(PY) --version); making it again with Python >= 3.12"; rm -rf $(VENV); fi
	@if [ ! -x $(PY) ]; then python=$$(PYTHON="$(PYTHON)" bin/find-python) || exit 1; echo "$$python -m venv $(VENV)"; \
	  "$$python" -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Browser tests need Debian's chromium; installed here when we are root and it is missing.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Debian's chromium is missing: sudo apt-get install -y chromium" >&2; exit 1; fi; \
	fi

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py sandbox_seed --demo

# Serves http://127.0.0.1:8000 (or BIND) with a django-q2 cluster beside it; Ctrl+C stops both.
run: migrate
	$(PY) manage.py collectstatic --noinput -v 0
	@$(PY) -c "from django.conf import settings" >/dev/null
	@$(PY) manage.py sandbox_seed --demo || true
	@$(MAKE) --no-print-directory serve

# Serves without installing or migrating first (`run` does both). On a terminal, job control
# (set -m) gives bin/serve its own foreground process group, so Ctrl+C reaches bin/serve alone:
# it stops every role and exits 0, and make, never signalled, exits 0 too instead of
# printing "make: *** ... Interrupt". (`exit $$?` keeps bash from exec'ing bin/serve in its own
# place, which would skip the job control.)
serve:
	@if [ -t 0 ]; then set -m; fi; bash bin/serve; exit $$?

test: install chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# 1,000 files through 5xx, timeouts, two SIGKILLs and a foreign spend (a few minutes; CI runs it once).
soak: install
	$(PY) -m pytest -m soak $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Each benchmark prints its figures beside its baseline (helpers: bench/_*.py, bench/*_worker.py).
bench: install
	for b in bench/*.py; do case $$b in bench/_*|*_worker.py) continue;; esac; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) staticfiles var/test-*.sqlite3*
