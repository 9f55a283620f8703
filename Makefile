# qingshen: `make run`, `make test`, `make bench`. Each bootstraps .venv on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test bench lint typecheck unit system-deps catalogs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

catalogs: $(STAMP)
	$(BIN)/python -m scripts.catalogs compile

run: $(STAMP) catalogs
	$(BIN)/qingshen migrate
	$(BIN)/qingshen run --demo --host $(HOST) --port $(PORT)

system-deps:
	bash scripts/system-deps

lint: $(STAMP)
	$(BIN)/ruff check bot handlers rules storage tests scripts bench
	$(BIN)/python -m mypy

test: $(STAMP) system-deps catalogs lint
	$(BIN)/python -m scripts.catalogs check
	bash scripts/with-postgres $(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP) system-deps catalogs
	QINGSHEN_PG_DURABLE=1 bash scripts/with-postgres $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache bench/results.json
