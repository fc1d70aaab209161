#!/usr/bin/env bash
# chainrule on the oldest NumPy, SciPy and safetensors that pyproject.toml allows (its `>=` floors, read
# from it), on the oldest Python it allows: a venv with exactly those versions runs the tests below
# against torch, then the torch-free smoke check. Then, for each newer CPython found (3.12, 3.13), the
# newest releases with the smoke check and the tests that need no torch (torch 2.13's CPU wheel that
# CI installs is for CPython 3.11 only). About 2-3 minutes with warm pip caches.
set -euo pipefail
cd "$(dirname "$0")/.."

OLDEST_PY="${OLDEST_PY:-python3.11}"
WORK="${OLDEST_DEPS_DIR:-$(mktemp -d)}"
# the subset: the engine, dtype promotion (where NumPy's rules show), linalg through SciPy's LAPACK,
# serialization through safetensors, and vmap's NumPy batching rules
TESTS=(tests/test_engine.py tests/test_dtype.py tests/test_linalg_solve.py tests/test_serialization.py
       tests/func/test_vmap_numpy_rules.py tests/func/test_vmap_linalg.py)
TORCH_FREE=(tests/func/test_vmap_numpy_rules.py tests/test_threads.py)

# "numpy>=2.0" -> "numpy==2.0" for each runtime dependency
floors=$("$OLDEST_PY" - <<'EOF'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
print(" ".join(re.sub(r"\s*>=\s*", "==", d) for d in deps))
EOF
)
torch_pin=$("$OLDEST_PY" - <<'EOF'
import tomllib
test = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["test"]
print(next(d for d in test if d.startswith("torch")))
EOF
)

echo "== $("$OLDEST_PY" --version): $floors $torch_pin"
"$OLDEST_PY" -m venv "$WORK/oldest"
"$WORK/oldest/bin/pip" install -q $floors "$torch_pin" pytest pytest-xdist hypothesis
"$WORK/oldest/bin/pip" install -q --no-deps -e .
"$WORK/oldest/bin/python" .ci/smoke.py
"$WORK/oldest/bin/python" -m pytest -p no:cacheprovider -q -n 2 "${TESTS[@]}"

# the optional extras at their floors too (tensorboard, onnx, jit, dist), on the same oldest NumPy
extras=$("$OLDEST_PY" - <<'EOF'
import re, tomllib
extras = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]
print(" ".join(re.sub(r"\s*>=\s*", "==", d) for name in ("tensorboard", "onnx", "jit", "dist") for d in extras[name]))
EOF
)
echo "== the extras' floors: $extras"
"$WORK/oldest/bin/pip" install -q $extras
"$WORK/oldest/bin/python" -m pytest -p no:cacheprovider -q -n 2 tests/test_tensorboard.py tests/test_onnx.py \
    tests/test_jit.py tests/nn/test_gelu_float32.py tests/distributed/test_collectives.py

for py in python3.12 python3.13; do
    if ! "$py" --version >/dev/null 2>&1; then
        echo "== $py: not installed here, skipped"
        continue
    fi
    echo "== $("$py" --version): the newest NumPy, SciPy and safetensors"
    "$py" -m venv "$WORK/$py"
    "$WORK/$py/bin/pip" install -q -e . pytest hypothesis
    "$WORK/$py/bin/python" .ci/smoke.py
    "$WORK/$py/bin/python" -m pytest -p no:cacheprovider -q "${TORCH_FREE[@]}"
done
