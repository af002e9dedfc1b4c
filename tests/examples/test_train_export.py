"""The worked example (examples/train_export.py, docs/tutorial-train-export.md) at the test suite's size:
fit trains well above chance, compile_fit follows the same loss trajectory, and the to_nir -> file -> from_nir
round trip gives identical outputs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "train_export.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("train_export", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script runs
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_worked_example_trains_exports_and_reimports(example):
    out = example.main(example.SMALL, quiet=True)
    history = out["history"]
    assert len(history) == example.SMALL.epochs
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    # well above chance (1/4) on held-out data
    assert history[-1]["eval_acc"] > 2.5 * out["chance"], history[-1]
    # fit and compile_fit: same initial model, optimiser and batches -> the same per-epoch losses
    np.testing.assert_allclose(
        out["compile_fit_train_loss"], [h["train_loss"] for h in history], rtol=2e-4, atol=1e-5
    )
    assert out["imported_layers"] == ["Linear", "LIF", "Linear", "LIF", "Linear", "LI"]
    assert out["reimport_max_difference"] <= 1e-5
    assert out["spyx1_program_max_difference"] <= 1e-5
