# make test  - lint, type-check and run the test suite in a local .venv (what CI runs)
# make run   - serve the function on $HOST:$PORT (default 127.0.0.1:8080), in dry run unless a
#              token is configured; HOST=0.0.0.0 to be reached from other machines
# make preview FILE=body.json [ROUTE=ga4] - what the function would answer in dry run for a body
#              (the route is read from the file name's start, examples/ga4-purchase.json: ga4)
# make bench - measure speed as ratios against baselines taken in the same run
# make load  - the real server under 16 senders and 10,000 events while the TikTok fake fails;
#              prints events/s, retries, losses and 500s (tests/load/; a short run is in make test)
# make lock  - regenerate requirements.txt (the deployed closure, with hashes) from requirements.in
# make picture - redraw monitoring/dashboard.svg, the README's dashboard, from a 60 s local run
# make outage - a minute-long TikTok outage while 5,000 events come from senders that never resend,
#              with durable delivery through the Pub/Sub emulator; prints what was queued and lost
#              (tests/pubsub/; a 12-second outage is in make test)
# make replay - send the dead letters back through the retry topic (python -m service.replay):
#              REPLAY_OPTIONS="--project=P --subscription=S --topic=T"
# make fuzz  - mutation fuzzing of every fixture and example through the real entry point, on every
#              core; FUZZ_BODIES (300000), FUZZ_SEED (1), FUZZ_JOBS (all cores); reproducers of each
#              class of failure go to .fuzz-findings/ (tests/fuzz/; a short slice is in make test)
# make mutate - mutation testing of the pure core (tiktok_mapper/) with mutmut, one worker, against
#              the fast tests that exercise it ([tool.mutmut] in pyproject.toml); prints the score
#              per module; .venv/bin/mutmut results lists the survivors (not part of make test)

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8080
HOST ?= 127.0.0.1
UV_VERSION := 0.13.9
LOCK_VENV := $(or $(TMPDIR),/tmp)/tiktok-events-lock-uv-$(UV_VERSION)
# The newest Python 3.11+ on the machine: pyenv installs first, then what is on PATH.
PYTHON ?= $(shell for p in $$(ls -d $$HOME/.pyenv/versions/3.1[1-9]*/bin/python3 2>/dev/null | sort -rV) \
	python3.14 python3.13 python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: test lint run preview bench load outage replay fuzz mutate lock picture clean

# The function's locked closure exactly (hashes checked), then the tools, which may not move any
# locked version: the lock's pins are their constraints.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt \
		-c <(sed -n 's/^\([A-Za-z0-9][A-Za-z0-9._-]*==[^ ;\\]*\).*/\1/p' requirements.txt)
	touch $@

# requirements.txt from requirements.in: the whole closure, pinned with hashes, for every Python
# from 3.11 (the runtime is python313). Versions already locked are kept; LOCK_OPTIONS=--upgrade
# moves them to the newest. uv runs from a throwaway environment, never from .venv.
lock:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed" >&2; exit 1; }
	test -x $(LOCK_VENV)/bin/uv || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION); }
	$(LOCK_VENV)/bin/uv pip compile requirements.in --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command "make lock" --quiet -o requirements.txt $(LOCK_OPTIONS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/shellcheck deploy.sh .ci/run

test: lint
	NO_GCE_CHECK=true GCE_METADATA_HOST=127.0.0.1:9 GCE_METADATA_IP=127.0.0.1:9 \
		$(VENV)/bin/pytest

# The pixel and app ids of make run and make preview: fake ones unless set.
DEMO_IDS := export TIKTOK_PIXEL_ID="$${TIKTOK_PIXEL_ID:-CDEMOPIXEL000000000X}" \
		TIKTOK_APP_ID="$${TIKTOK_APP_ID:-7000000000000000000}"

run: $(VENV)/.installed
	@$(DEMO_IDS); \
	if [ -z "$${TIKTOK_ACCESS_TOKEN:-}$${TIKTOK_ACCESS_TOKEN_SECRET:-}" ]; then export DRY_RUN=true; fi; \
	echo "TIKTOK_PIXEL_ID=$$TIKTOK_PIXEL_ID TIKTOK_APP_ID=$$TIKTOK_APP_ID DRY_RUN=$${DRY_RUN:-false}"; \
	echo "(fake ids unless you set them; dry run answers with the TikTok payloads instead of sending)"; \
	echo "listening on http://$(HOST):$(PORT)"; \
	exec $(VENV)/bin/functions-framework --target tiktok_events --source main.py \
		--host $(HOST) --port $(PORT)

# The virtual environment's Python: the system's has none of the function's packages.
preview: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "usage: make preview FILE=body.json [ROUTE=commandersact|ga4|tiktok]" >&2; exit 2; }
	@$(DEMO_IDS); \
	exec $(PY) -m tiktok_mapper preview \
		--route "$(or $(ROUTE),$(firstword $(subst -, ,$(notdir $(FILE)))))" "$(FILE)"

bench: $(VENV)/.installed
	$(PY) bench/run.py

load: $(VENV)/.installed
	NO_GCE_CHECK=true GCE_METADATA_HOST=127.0.0.1:9 GCE_METADATA_IP=127.0.0.1:9 \
		$(PY) -m tests.load $(LOAD_OPTIONS)

outage: $(VENV)/.installed
	NO_GCE_CHECK=true GCE_METADATA_HOST=127.0.0.1:9 GCE_METADATA_IP=127.0.0.1:9 \
		$(PY) -m tests.pubsub $(OUTAGE_OPTIONS)

replay: $(VENV)/.installed
	$(PY) -m service.replay $(REPLAY_OPTIONS)

picture: $(VENV)/.installed
	NO_GCE_CHECK=true GCE_METADATA_HOST=127.0.0.1:9 GCE_METADATA_IP=127.0.0.1:9 \
		$(PY) -m monitoring.picture

FUZZ_BODIES ?= 300000
FUZZ_SEED ?= 1
FUZZ_JOBS ?= $(shell nproc)
fuzz: $(VENV)/.installed
	NO_GCE_CHECK=true GCE_METADATA_HOST=127.0.0.1:9 GCE_METADATA_IP=127.0.0.1:9 \
		$(PY) -m tests.fuzz --bodies $(FUZZ_BODIES) --seed $(FUZZ_SEED) --jobs $(FUZZ_JOBS) \
		--out .fuzz-findings

# A fresh run each time: mutmut keeps results in mutants/ and would reuse them.
mutate: $(VENV)/.installed
	rm -rf mutants
	NO_GCE_CHECK=true GCE_METADATA_HOST=127.0.0.1:9 GCE_METADATA_IP=127.0.0.1:9 \
		$(VENV)/bin/mutmut run --max-children 1
	$(PY) -m tests.mutation_score

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mutants
