# The README's two commands: `make run` and `make test`. Both install what they need first.
.PHONY: install run test test-fast lint bench

install:
	bash scripts/install.sh

run: install
	python3 -m bot run

# Everything: unit, sandbox, end-to-end (fake LLM and the real embedded vLLM), browser,
# Postgres, deploy checks and the learning-loop proof.
test: install
	python3 -m pytest -q -ra

# Without the slow real-vLLM, training and browser tests.
test-fast:
	python3 -m pytest -q -m "not vllm and not browser and not slow"

lint:
	ruff check bot tests
	mypy bot

bench:
	python3 tests/bench/bench_ack_latency.py
	python3 tests/bench/bench_concurrent_drafts.py
