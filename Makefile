# The two set-up commands in README.md: `make run` and `make test`.
# Both install everything they need from the project's own files (uv.lock, spark_jobs/pom.xml).
SHELL := /bin/bash
export UV_LINK_MODE ?= copy
# uv is run as a module of the machine's python3 so a fresh pip install is usable at once.
UV := python3 -m uv
SCALE ?= 0.01

.PHONY: install system browser postgres run test-deps test test-serial lint audit clean-var

# uv from PyPI if the machine lacks it; the locked environment; Delta jars; the pseudonym key.
# --compile-bytecode: this machine kind sets PYTHONDONTWRITEBYTECODE, so without .pyc written here every process
# compiled every module it imported from source (GX's import 4.9 s -> 2.0 s, dbt's 1.6 s -> 0.9 s). Here and
# not in pyproject's [tool.uv]: there every `uv run` re-checks all 14 k files (0.3 s each time).
install:
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install -q uv
	@$(UV) sync --frozen -q --compile-bytecode
	@$(UV) run -q edulake setup

run: install
	$(UV) run edulake run --scale $(SCALE)

# Debian packages, each with the check that it is on the machine; apt_missing installs those that are not, in one
# apt transaction (one index update, one dpkg run).
present_chromium = command -v chromium >/dev/null
present_fonts-noto-cjk = fc-list :lang=zh 2>/dev/null | grep -q .
present_postgresql = ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
apt_missing = missing=""; $(foreach p,$(1),$(present_$(p)) || missing="$$missing $(p)";) \
	if [ -n "$$missing" ]; then apt-get update -q && apt-get install -y -q $$missing; fi

# Headless Chromium and CJK fonts for the cockpit's screenshot tests, when missing.
browser:
	@$(call apt_missing,chromium fonts-noto-cjk)

# Debian's PostgreSQL for Airflow's metadata on the production profile (`edulake airflow serve --profile
# production` runs it as this home's own cluster; edulake/orchestration/postgres.py), when missing.
postgres:
	@$(call apt_missing,postgresql)

# What the tests need of both (`make test`).
system:
	@$(call apt_missing,chromium fonts-noto-cjk postgresql)

# What the suite needs: the Python environment and the Debian packages, side by side (PyPI and bytecode compiling
# beside apt and dpkg).
test-deps:
	@$(MAKE) --no-print-directory -j2 install system

# The suite on two processes (pytest-xdist; each file's tests stay on one process, in order), since one process
# used one core of two. The Superset and sharing-client environments are made first: two processes would race to
# create them.
test: test-deps
	$(UV) run python -c "from edulake.superset import venv; from edulake.sharing import serve; venv.ensure_venv(); serve.client_python()"
	$(UV) run pytest -q -n 2 --dist loadfile

# The same suite on one process, in file order (slower; a failure's output is easier to follow).
test-serial: test-deps
	$(UV) run pytest -q

# ruff over the Python, sqlfluff (dbt templater, dbt_project/.sqlfluff) over the dbt project's SQL
lint: install
	$(UV) run ruff check edulake tests dags spark_jobs
	$(UV) run python -m edulake.warehouse.lint

# Known vulnerabilities in uv.lock and Superset's environment (pip-audit; exceptions in
# security/audit-exceptions.yaml). Needs PyPI's per-release JSON API or api.osv.dev (EDULAKE_AUDIT_SERVICE=osv):
# not part of `make test`, which must run where only the package indexes are reachable.
audit: install
	$(UV) run edulake audit

clean-var:
	rm -rf var
