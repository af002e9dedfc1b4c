"""Shared test configuration: strict JAX, the corpus location, seeded generators."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("JAX_PLATFORMS", "cpu")

_ROOT = Path(__file__).resolve().parents[1]


def _bind_cli_package() -> None:
    """Make ``spyx_cli`` this checkout's ``cli/`` folder.

    ``spyx_cli`` exists only as an install-time mapping (pyproject ``package-dir``); with the editable
    install pointing at another checkout, ``import spyx_cli`` would test that checkout's CLI, not this one.
    """
    import importlib.util
    import sys

    init = _ROOT / "cli" / "__init__.py"
    loaded = sys.modules.get("spyx_cli")
    if loaded is not None and Path(loaded.__file__).resolve() == init:
        return
    spec = importlib.util.spec_from_file_location(
        "spyx_cli", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["spyx_cli"] = module
    spec.loader.exec_module(module)


_bind_cli_package()

# SPYX_NIR_CORPUS overrides the location (e.g. for a worktree that does not sit beside ../shared).
_DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "nir-corpus"
CORPUS = Path(os.environ.get("SPYX_NIR_CORPUS") or _DEFAULT_CORPUS)


def pytest_configure(config):
    try:
        import jax

        jax.config.update("jax_numpy_rank_promotion", "raise")
    except ImportError:  # jax is a core dependency; this only guards odd environments
        pass


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The folder of real NIR files exported by other frameworks (read-only, beside the repository)."""
    if not CORPUS.is_dir():
        pytest.skip(f"NIR corpus not found at {CORPUS} (it lives in ../shared/nir-corpus beside the checkout)")
    return CORPUS


def corpus_files() -> list[str]:
    return sorted(p.name for p in CORPUS.glob("*.nir")) if CORPUS.is_dir() else []
