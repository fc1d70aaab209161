PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

demo: $(BIN)/python
	$(BIN)/pip install -q -e '.[demo]'
	$(BIN)/python examples/lecture.py

test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/python -m pytest -n 2 tests

bench: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python bench/overhead.py

lint: $(BIN)/python
	$(BIN)/ruff check src tests examples bench

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
