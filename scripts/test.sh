#!/usr/bin/env bash
# Install spyx with its test extras into a virtual environment and run the whole test suite.
# Usage: bash scripts/test.sh [pytest args...]
# - SPYX_VENV: where the environment lives (default .venv-test, reused when present).
# - The interop suite needs the peer frameworks (snnTorch, Norse, Sinabs, Rockpool; CPU torch only). They are
#   installed with ../shared/tools/install-peers.sh when that script is beside the checkout (as in CI);
#   otherwise the interop tests skip and say why. Set SPYX_NO_PEERS=1 to skip installing them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${SPYX_VENV:-.venv-test}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
"$VPY" -m pip install -q --disable-pip-version-check --upgrade pip
"$VPY" -m pip install -q --disable-pip-version-check -e ".[test,quant]"
PEERS=../shared/tools/install-peers.sh
if [ -z "${SPYX_NO_PEERS:-}" ] && [ -f "$PEERS" ]; then
  if ! "$VPY" -c 'import snntorch, norse, sinabs, rockpool, nirtorch' 2>/dev/null; then
    echo "installing peer frameworks (CPU only) for the interop suite"
    PYTHON="$VPY" bash "$PEERS" || echo "peer install failed: the interop tests will skip"
  fi
fi
export JAX_PLATFORMS=cpu
set +e
"$VPY" -m pytest -q "$@"
rc=$?
set -e
# pytest exits 5 when no test was collected: that is a failure of the suite, not a pass.
exit $rc
