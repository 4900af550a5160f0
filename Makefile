# Zhinan (职引): `make run` starts everything, `make test` tests everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
RASA    := $(VENV)/bin/rasa
STAMP   := $(VENV)/.installed
MODEL_STAMP := models/.trained
# Everything a trained model depends on: retrain only when one of these changes.
TRAIN_INPUTS := config.yml domain.yml $(shell find nlu_data -type f 2>/dev/null) $(wildcard bot/rasa_server/*.py) $(wildcard bot/language/*.py)

# A working python3.10: on PATH, else the newest 3.10 that pyenv has.
PYTHON310 := $(shell bash scripts/find_python.sh 3.10)

# The gateway's own environment (docs/DEVELOPING.md "Two environments"): current aiohttp and the
# rest at current releases, pinned in requirements/gateway*.txt, free of Rasa's pins.
GW_VENV  := .venv-gateway
GW_PY    := $(GW_VENV)/bin/python
GW_STAMP := $(GW_VENV)/.installed
PYTHON_GATEWAY := $(shell bash scripts/find_python.sh 3.11 3.12 3.10)

N ?= 2000
C ?= 32
JOBS ?= 0

.PHONY: help install train run test test-unit test-stories bench bench-compare eval-nlu eval-questions eval-dialogues bench-nlu validate \
        import-points export-points import-job-fairs export-job-fairs import-experts export-experts wechat-menu install-system test-clock test-cluster clean audit gateway-lock

help:
	@echo "make run      - install, train if needed, start Redis + actions + Rasa + gateway"
	@echo "make test     - the whole test suite (real Redis, real trained model, real browser)"
	@echo "make bench    - N signed WeChat messages through the gateway, C users at once (N=$(N) C=$(C))"
	@echo "make bench-compare - the stock Rasa bot, then Zhinan, same traffic, side by side (N=$(N) C=$(C))"
	@echo "make test-cluster - failure drills: kill -9 a gateway, a Rasa, the Redis primary under load (~8 min)"
	@echo "make test-clock - the suite with the clock moved to a weekday 10:00, a Saturday 23:30, a year ahead"
	@echo "make eval-questions - everyday first messages (tests/questions/): right answer, clarifications, declines"
	@echo "make eval-dialogues - the dialogue corpus (tests/dialogues/) through the gateway: task completion per split (ARGS=\"--fail-under 0.95\")"
	@echo "make audit    - the gateway environment's pinned packages against requirements/advisories/"
	@echo "make gateway-lock - re-pin requirements/gateway*.txt from the .in files at current releases"
	@echo "make train | eval-nlu | bench-nlu | validate | import-points FILE=… | export-points FILE=… | import-job-fairs FILE=… | export-job-fairs FILE=… | import-experts FILE=… | export-experts FILE=… | wechat-menu"

$(STAMP): pyproject.toml constraints.txt
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "Zhinan needs Python 3.10 (Rasa 3.6 does not install on 3.11+)."; \
	  echo "Install it (e.g. 'pyenv install 3.10' or your distribution's python3.10) and retry."; \
	  exit 1; fi
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<25" "setuptools>=68,<71" wheel
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

$(GW_STAMP): requirements/gateway-dev.txt requirements/gateway.txt
	@if [ -z "$(PYTHON_GATEWAY)" ]; then \
	  echo "The gateway needs Python 3.11 (or 3.12, 3.10): install one and retry."; exit 1; fi
	@test -x $(GW_PY) || $(PYTHON_GATEWAY) -m venv $(GW_VENV)
	$(GW_PY) -m pip install --quiet --upgrade pip
	$(GW_PY) -m pip install --quiet -r requirements/gateway-dev.txt
	@touch $(GW_STAMP)

install: $(STAMP) $(GW_STAMP)

gateway-lock:
	@test -n "$(PYTHON_GATEWAY)" || (echo "no Python 3.11/3.12/3.10 found"; exit 1)
	bash scripts/lock_gateway.sh $(PYTHON_GATEWAY)

# Offline: the pins of the gateway's environment against the advisories kept in the repository
# (pip-audit's services are not reachable from every machine: see docs/DEVELOPING.md).
audit: $(GW_STAMP)
	$(GW_PY) scripts/audit_gateway.py
	@echo "Rasa's environment, for the record (Rasa and the action server listen on 127.0.0.1 only):"
	@$(GW_PY) scripts/audit_gateway.py --pins constraints.txt --report-only | tail -n 1

install-system:
	@bash scripts/install_system_packages.sh

$(MODEL_STAMP): $(STAMP) $(TRAIN_INPUTS)
	@mkdir -p models
	flock /tmp/zhinan-train.lock $(RASA) train --config config.yml --domain domain.yml --data nlu_data --out models --fixed-model-name zhinan
	@touch $(MODEL_STAMP)

train: $(MODEL_STAMP)

validate: $(STAMP)
	$(RASA) data validate --config config.yml --domain domain.yml --data nlu_data

run: $(MODEL_STAMP) $(GW_STAMP)
	$(PY) -m bot.stack

# One suite in two parts, each test in the environment that runs its code (tests/conftest.py
# RASA_PART), and the Rasa test stories: the tests that need no model while `make train` runs, the
# rest once it has passed, all side by side, then the timing tests alone (scripts/run_suite.py);
# every part runs, and `make test` fails if any did. JOBS=1: one at a time (JOBS=0: all at once).
test: $(STAMP) $(GW_STAMP) install-system
	$(PY) scripts/run_suite.py --jobs $(JOBS)

test-unit: $(STAMP) $(GW_STAMP)
	@status=0; \
	$(GW_PY) -m pytest --env-part gateway -m "not stack and not browser" || status=1; \
	$(PY) -m pytest --env-part rasa -m "not stack and not browser" || status=1; \
	exit $$status

# The tests that read the calendar (noted by the last `make test`; browser tests aside) with the clock
# moved: the next Wednesday 10:00, and a Saturday 23:30 a year ahead (Beijing time). INSTANTS= picks
# one, e.g. INSTANTS=weekday-10; INSTANTS=--all runs the whole suite at each.
test-clock: $(MODEL_STAMP) $(GW_STAMP) install-system
	$(PY) scripts/test_shifted_clock.py --jobs 2 $(INSTANTS)

# The failure drills (issue #24): haproxy, 2 gateways, 2 Rasa, 2 action servers, Redis + Sentinel,
# killed one by one under signed WeChat load. About 6-8 minutes on 2 cores, so not part of `make test`;
# figures in docs/deploying.md "Failure drills".
test-cluster: $(MODEL_STAMP) $(GW_STAMP) install-system
	$(PY) scripts/cluster_drill.py --dir var/cluster-drill

test-stories: $(MODEL_STAMP)
	$(RASA) test core --model models/zhinan.tar.gz --stories tests/stories \
	  --fail-on-prediction-errors --out results/stories

bench: $(MODEL_STAMP)
	$(PY) scripts/bench.py --messages $(N) --users $(C)

# Trains the stock bot of ../shared/benchmarks/rasa-baseline once (into var/bench-baseline).
bench-compare: $(MODEL_STAMP)
	$(PY) scripts/bench_compare.py --messages $(N) --users $(C)

eval-nlu: $(STAMP)
	$(PY) scripts/eval_nlu.py

eval-questions: $(MODEL_STAMP)
	$(PY) scripts/eval_questions.py

# The dialogue corpus through the real stack, as WeChat users (docs/dialogues.md). A measurement:
# exit 0 whatever the rate unless ARGS has --fail-under. Runs in the gateway's environment.
eval-dialogues: $(MODEL_STAMP) $(GW_STAMP)
	$(GW_PY) scripts/eval_dialogues.py $(ARGS)

bench-nlu: $(STAMP)
	$(PY) scripts/bench_nlu.py

import-points: $(STAMP)
	@test -n "$(FILE)" || (echo "usage: make import-points FILE=points.csv|points.xlsx"; exit 2)
	$(PY) -m bot.cli.points import "$(FILE)"

export-points: $(STAMP)
	@test -n "$(FILE)" || (echo "usage: make export-points FILE=points.csv"; exit 2)
	$(PY) -m bot.cli.points export "$(FILE)"

import-job-fairs: $(STAMP)
	@test -n "$(FILE)" || (echo "usage: make import-job-fairs FILE=fairs.csv|fairs.xlsx"; exit 2)
	$(PY) -m bot.cli.job_fairs import "$(FILE)"

export-job-fairs: $(STAMP)
	@test -n "$(FILE)" || (echo "usage: make export-job-fairs FILE=fairs.csv|fairs.xlsx"; exit 2)
	$(PY) -m bot.cli.job_fairs export "$(FILE)"

import-experts: $(STAMP)
	@test -n "$(FILE)" || (echo "usage: make import-experts FILE=experts.csv|experts.xlsx"; exit 2)
	$(PY) -m bot.cli.experts import "$(FILE)"

export-experts: $(STAMP)
	@test -n "$(FILE)" || (echo "usage: make export-experts FILE=experts.csv|experts.xlsx"; exit 2)
	$(PY) -m bot.cli.experts export "$(FILE)"

wechat-menu: $(STAMP)
	$(PY) -m bot.cli.menu publish

clean:
	rm -rf models results reports .pytest_cache
