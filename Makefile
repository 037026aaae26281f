# Servicedesk. `make run` and `make test` are all a newcomer needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := servicedesk.settings

.PHONY: install run test lint format messages check-deploy bench bench-peer reliability audit

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# the interpreter's bundled pip and setuptools have published advisories
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py loaddemo
	DEBUG=$${DEBUG:-true} $(PY) manage.py runall --port $(PORT)

test: install lint
	$(PY) -m pytest -m 'not faults' $(PYTEST_ARGS)

# The long reliability run (docs/reliability.md): schemathesis fuzzes every API
# operation with RELIABILITY_EXAMPLES examples each (300: some 13,000 cases,
# under 3 minutes; `make test` runs the same files with 25), the bad-input
# tests, and the fault-injection and load tests (marker `faults`, which
# `make test` leaves out). RELIABILITY_EXAMPLES=1000 make reliability for a longer run.
reliability: install
	RELIABILITY_EXAMPLES=$${RELIABILITY_EXAMPLES:-300} $(PY) -m pytest tests/reliability -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Regenerate the Dutch catalogue after changing strings (needs GNU gettext).
messages: install
	$(PY) manage.py makemessages -l nl --no-obsolete --add-location file -i '.venv/*' -i 'var/*'
	$(PY) manage.py compilemessages -l nl -i .venv -i var

check-deploy: install
	DEBUG=false SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets;print(secrets.token_urlsafe(64))')} \
	  $(PY) manage.py check --deploy

# Known vulnerabilities in the installed environment (docs/reliability.md,
# Security): every distribution in the virtualenv but the project itself, as
# `pip freeze --all` lists it, looked up in AUDIT_SERVICE (pypi or osv).
# --strict: a distribution the service cannot audit fails the run, so an
# unreachable vulnerability service is a failure, never a silent pass.
AUDIT_SERVICE ?= pypi
audit: install
	@$(VENV)/bin/pip freeze --all --exclude-editable > $(VENV)/audit-requirements.txt
	@$(VENV)/bin/pip-audit --strict --disable-pip --no-deps --progress-spinner off \
	  --vulnerability-service $(AUDIT_SERVICE) -r $(VENV)/audit-requirements.txt \
	  || { echo "make audit: FAILED: a known vulnerability (listed above), or the" \
	    "$(AUDIT_SERVICE) vulnerability service could not audit a dependency (the first" \
	    "one is named above; AUDIT_SERVICE=pypi or osv picks the service)" >&2; exit 1; }

# Load benchmark (docs/benchmarks.md): gunicorn + PostgreSQL + wrk. Measures the
# seeded PostgreSQL database in DATABASE_URL, or seeds the scratch database
# servicedesk_bench with BENCH_TICKETS (default 100000) tickets.
bench: install
	$(PY) -m bench.run $(BENCH_ARGS)

# django-helpdesk from PyPI beside it, at the same number of tickets, through
# the peer harness in ../shared/bench-peer; run `make bench` first.
bench-peer: install
	$(PY) -m bench.peer
