# The two commands of the README. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean broker-check

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	touch $(STAMP)

broker-check:
	@{ command -v mosquitto || test -x /usr/sbin/mosquitto; } >/dev/null 2>&1 && command -v mosquitto_sub >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "mosquitto missing: installing the Debian packages mosquitto and mosquitto-clients"; \
	    (apt-get install -y -q mosquitto mosquitto-clients >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q mosquitto mosquitto-clients >/dev/null)); \
	  else \
	    echo "mosquitto is missing: run 'sudo apt-get install mosquitto mosquitto-clients'"; exit 1; \
	  fi; }
	@# the central-broker tests (tests/brokers) also run against NATS and RabbitMQ when installed;
	@# not installed here on purpose: both Debian packages start a system-wide broker service
	@for b in nats-server rabbitmq-server; do \
	  { command -v $$b || test -x /usr/sbin/$$b; } >/dev/null 2>&1 || \
	    echo "note: $$b is not installed: its tests/brokers cases will be skipped (apt-get install $$b)"; \
	done

test: $(STAMP) broker-check
	PATH="$$PATH:/usr/sbin" $(PY) -m pytest -q tests

demo: $(STAMP) broker-check
	PATH="$$PATH:/usr/sbin" $(PY) -m edge_agent.demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP) broker-check
	PATH="$$PATH:/usr/sbin" $(PY) bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
