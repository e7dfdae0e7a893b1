# Two commands do all set-up on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test bench clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Switchboard needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.run-installed: $(PY) requirements.txt
	$(PIP) install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.run-installed requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@

run: $(VENV)/.run-installed
	$(PY) -m app.processes.devstack

# Tests run on two pytest-xdist workers (much of the suite waits on processes, browsers and
# round trips). `--dist load` measured a little faster than keeping the PostgreSQL variants on one
# worker (`--dist loadgroup`): 11.3 vs 12.1 min on two busy cores.
# One process: make test PYTEST_ARGS='-n 0'.
TEST_WORKERS ?= 2
test: $(VENV)/.dev-installed
	$(PY) -m pytest -n $(TEST_WORKERS) --dist load $(PYTEST_ARGS)

# Not part of `make test`: starts the whole stack per backend, loads it with wrk, and adds the streaming
# first-token, schedule-lag and (with playwright from `make test`, and Chromium) canvas rows to one table.
# Options (all in `.venv/bin/python bench/stack_bench.py --help`), e.g.:
#   make bench BENCH_ARGS='--rounds 3 --backlog 2000 --backends sqlite --only stack,stream --skip canvas'
# Compare mode: another commit and this checkout interleaved, printed as ratios against issue 19's goals:
#   make bench COMPARE=6ab82bb   (the same as BENCH_ARGS='--compare 6ab82bb'; add --rounds/--duration/--backends)
bench: $(VENV)/.run-installed
	$(PY) bench/stack_bench.py $(if $(COMPARE),--compare $(COMPARE)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
