# `make run` serves the demo; `make test` runs every check. Both set up what is missing first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PYTHON ?= python3
SYSTEM_PACKAGES := fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 \
	poppler-utils chromium postgresql redis-server
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# The secret key make keeps in instance/, unless the environment brings its own.
APP_ENV := CRM_SECRET_KEY="$${CRM_SECRET_KEY:-$$(cat instance/secret_key)}"
FLASK := $(APP_ENV) $(VENV)/bin/flask --app wsgi
PYTEST := $(VENV)/bin/pytest

VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' crm/version.py)
BUNDLE := crm-$(VERSION)

.PHONY: help setup system-packages run test lint format demo audit bundle install-offline FORCE

help:
	@echo "make run    set up, migrate, load the demo into an empty database, serve on :5000"
	@echo "make test   set up, then ruff, the tests on SQLite, the database tests on PostgreSQL"
	@echo "make lint   ruff check and format check"
	@echo "make audit  pip-audit of the installed packages (needs PyPI's vulnerability data)"
	@echo "make bundle dist/$(BUNDLE).tar.gz: the app and every wheel, to install with no package index"
	@echo "make install-offline   (inside an unpacked bundle) the virtual environment from its wheels alone"

setup: system-packages $(VENV)/.installed node_modules/.installed instance/secret_key instance/audit_key

system-packages:
	@missing=""; \
	for package in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "install ok installed" \
	    || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

# Front-end packages from the npm registry (package-lock.json): axe-core for the browser tests.
node_modules/.installed: package.json package-lock.json
	command -v npm >/dev/null || { $(SUDO) apt-get update -qq; DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

instance/secret_key instance/audit_key:
	mkdir -p instance
	$(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@
	chmod 600 $@

run: setup
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	@echo
	@echo "两新党建指导员工作台: http://127.0.0.1:5000"
	@echo "演示账号（密码 $${CRM_DEMO_PASSWORD:-Ganzhou@2026}）：admin 管理员 · reviewer 市级审阅 ·"
	@echo "  reviewer-zg 章贡区审阅 · security 安全管理员 · auditor 审计员 · zdy001 … zdy115 指导员"
	@echo "  （admin、security、auditor 首次登录时用手机验证器扫码绑定动态口令）"
	@echo
	@# The scheduler (monthly reports) runs beside the web server and stops with it.
	$(FLASK) jobs run & scheduler=$$!; trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Two passes, each on every core (pytest-xdist). The SQLite pass runs every test and records the
# SQL each one sends; the PostgreSQL pass runs those marked `postgresql` and as few others as send
# every statement seen (tests/statements.py).
# Each pass names its ten slowest steps: the suite's time is watched (docs/performance.md).
test: setup lint dist/$(BUNDLE).tar.gz
	$(PYTEST) -n auto --dist loadgroup --durations=10
	CRM_TEST_DATABASE=postgresql $(PYTEST) -n auto --dist loadgroup -m "db and not browser" --durations=10

# Not part of `make test`: the registry this machine reaches serves no vulnerability data, so
# here pip-audit can audit nothing (docs/security.md, "Scanning").
audit: $(VENV)/.installed
	$(VENV)/bin/pip install -q "pip-audit>=2.7"
	$(VENV)/bin/pip-audit --strict --progress-spinner off

# An install with no package index (docs/upgrade.md): the committed app (git archive), a wheel of
# every Python dependency at the version this checkout's .venv was tested with (and setuptools,
# to install the app itself), and the Debian packages with their versions. The wheels are made
# again only when pyproject.toml changes. tests/upgrade/test_bundle.py installs it offline.
bundle: dist/$(BUNDLE).tar.gz

build/wheels/.made: pyproject.toml $(VENV)/.installed
	rm -rf build/wheels && mkdir -p build/wheels
	$(VENV)/bin/pip freeze --exclude-editable > build/constraints.txt
	$(VENV)/bin/pip wheel -q --wheel-dir build/wheels -c build/constraints.txt . setuptools wheel
	rm -f build/wheels/crm-*.whl
	touch $@

# The app's files are copied at every run (a few seconds); the wheels only when they change.
dist/$(BUNDLE).tar.gz: build/wheels/.made FORCE
	rm -rf build/$(BUNDLE) && mkdir -p build/$(BUNDLE) dist
	git ls-files -z | xargs -0 tar -c | tar -x -C build/$(BUNDLE)
	cp -r build/wheels build/$(BUNDLE)/wheels && rm -f build/$(BUNDLE)/wheels/.made
	dpkg-query -W -f='$${Package}=$${Version}\n' $(SYSTEM_PACKAGES) > build/$(BUNDLE)/debian-packages.txt 2>/dev/null || true
	echo "$(VERSION) $$(git rev-parse --short HEAD 2>/dev/null)" > build/$(BUNDLE)/RELEASE
	tar -czf $@.partial -C build $(BUNDLE) && mv $@.partial $@
	@echo "$@: $$(du -h $@ | cut -f1)"

# Inside an unpacked bundle, with no index: the wheels alone (pip --no-index), the app from its
# folder as `make setup` installs it. The system packages: debian-packages.txt, from the
# intranet's own mirror.
install-offline:
	[ -d wheels ] || { echo "make install-offline runs inside an unpacked bundle (make bundle)"; exit 2; }
	[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --no-index --find-links wheels -e .
	mkdir -p instance
	[ -f instance/secret_key ] || { $(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > instance/secret_key; chmod 600 instance/secret_key; }
	[ -f instance/audit_key ] || { $(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > instance/audit_key; chmod 600 instance/audit_key; }
	@echo '已安装 $(VERSION)。升级数据库：CRM_SECRET_KEY="$$(cat instance/secret_key)" .venv/bin/flask --app wsgi db upgrade（docs/upgrade.md）'


FORCE:
