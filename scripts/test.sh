#!/usr/bin/env bash
# Install spyx with its test extras into a virtual environment and run the whole test suite.
# Usage: bash scripts/test.sh [pytest args...]
# - SPYX_VENV: where the environment lives (default .venv-test, reused when present).
# - The interop suite needs the peer frameworks (snnTorch, Norse, Sinabs, Rockpool; CPU torch only). They are
#   installed with ../shared/tools/install-peers.sh when that script is beside the checkout (as in CI);
#   otherwise the interop tests skip and say why. Set SPYX_NO_PEERS=1 to skip installing them. Spyx 1.0 goes
#   into .venv-spyx1 (tests/interop/conftest.py finds it there). SpikingJelly 2.0.0 is installed with --no-deps.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${SPYX_VENV:-.venv-test}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
"$VPY" -m pip install -q --disable-pip-version-check --upgrade pip
"$VPY" -m pip install -q --disable-pip-version-check -e ".[test,quant,loaders,docs,draw]"
PEERS=../shared/tools/install-peers.sh
if [ -z "${SPYX_NO_PEERS:-}" ] && [ -f "$PEERS" ]; then
  if ! "$VPY" -c 'import snntorch, norse, sinabs, rockpool, nirtorch' 2>/dev/null; then
    echo "installing peer frameworks (CPU only) for the interop suite"
    PYTHON="$VPY" bash "$PEERS" || echo "peer install failed: the interop tests will skip"
  fi
  # install-peers.sh can end with norse 1.0.0, which has no NIR export. Norse 1.1.0's sdist builds as version
  # 0.0.0 unless setuptools_scm is told its version; with that it installs from the package index (~2 min of
  # C++; --no-build-isolation so that it builds against the torch already here).
  if "$VPY" -c 'import norse' 2>/dev/null && ! "$VPY" -c 'from norse.torch import to_nir' 2>/dev/null; then
    echo "installing norse 1.1.0 (the installed norse has no to_nir)"
    "$VPY" -m pip install -q --disable-pip-version-check setuptools setuptools_scm wheel
    SETUPTOOLS_SCM_PRETEND_VERSION_FOR_NORSE=1.1.0 "$VPY" -m pip install -q --disable-pip-version-check \
      --no-deps --no-build-isolation --no-binary norse "norse==1.1.0" \
      || echo "norse 1.1.0 install failed: the Norse interop tests will skip"
  fi
  # SpikingJelly 2.0.0 (its nir_exchange) for the SpikingJelly interop fixtures. --no-deps: its requirements
  # would replace the CPU torch with a CUDA one; what nir_exchange imports (torch, nir, nirtorch, numpy, h5py,
  # tqdm) is already here.
  if "$VPY" -c 'import torch, nir, nirtorch' 2>/dev/null \
    && ! "$VPY" -c 'import spikingjelly.activation_based.nir_exchange' 2>/dev/null; then
    echo "installing spikingjelly 2.0.0 (no deps) for the interop suite"
    "$VPY" -m pip install -q --disable-pip-version-check --no-deps "spikingjelly==2.0.0" loguru \
      || echo "spikingjelly 2.0.0 install failed: the SpikingJelly interop tests will skip"
  fi
fi
# Spyx 1.0 (flax.nnx, no torch) in its own environment, for the spyx1 interop fixtures (~1 min to install,
# ~45 s to generate). SPYX_NO_SPYX1=1 skips it; the spyx1 tests then skip and say why.
if [ -z "${SPYX_NO_PEERS:-}${SPYX_NO_SPYX1:-}" ] && [ ! -x .venv-spyx1/bin/python ]; then
  "$PY" -m venv .venv-spyx1 && .venv-spyx1/bin/python -m pip install -q --disable-pip-version-check "spyx==1.0.0" \
    || { echo "spyx 1.0.0 install failed: the spyx1 interop tests will skip"; rm -rf .venv-spyx1; }
fi
export JAX_PLATFORMS=cpu
# Lint the library and the CLI (tests are exempt: fixtures are long by nature), and type-check the compiler's
# public API (the files listed under [tool.mypy] in pyproject.toml).
"$VPY" -m ruff check spyx cli
"$VPY" -m mypy
set +e
"$VPY" -m pytest -q "$@"
rc=$?
set -e
# pytest exits 5 when no test was collected: that is a failure of the suite, not a pass.
exit $rc
