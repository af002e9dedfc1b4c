"""Passes on every corpus graph: the declared contracts (float64 reference interpreter for every pass, the
JAX backend for the combined pipeline), and byte-identical exports after ``reorder{rename=true}``."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from spyx.passes import run_pipeline
from tests.conftest import corpus_files
from tests.passes.test_pass_contracts import PIPELINES, check_contract, transform, widen
from tests.passes.test_pass_reorder import ORDER_A, ORDER_B, RENAMES, network

DT = {"lif_norse.nir": 1e-4, "cnn_sinabs.nir": 1.0, "scnn_mnist_spyx.nir": 1.0}
T = 6


def load(corpus, name):
    from spyx.io import load as load_nir

    return load_nir(corpus / name, repair=True)


def inputs(graph, seed=0):
    rng = np.random.default_rng(seed)
    return {
        n: (rng.random((T, 1, *node.declared_input_shape())) < 0.3).astype(np.float64)
        for n, node in graph.inputs.items()
    }


@pytest.mark.parametrize("name", corpus_files())
def test_contracts_on_corpus_graphs(corpus, name):
    from tests.backend.numpy_reference import run_reference

    dt = DT.get(name, 1e-4)
    g = widen(load(corpus, name))
    xs = inputs(g)

    def run(graph, x):
        out, mem, _ = run_reference(graph, x, dt, "exact")
        return out, mem

    for pipeline in PIPELINES:
        after, names = transform(g, pipeline)
        check_contract(g, after, names, run, xs, f"{name}, {pipeline}")


@pytest.mark.parametrize(
    "name", ["braille_noDelay_bias_zero.nir", "braille_noDelay_bias_zero_subgraph.nir", "lif_norse.nir"]
)
def test_combined_pipeline_with_the_jax_backend(corpus, name):
    import jax

    from tests.passes.test_pass_contracts import JAX_PIPELINE, run_jax

    g = widen(load(corpus, name))
    with jax.enable_x64(True):
        after, names = transform(g, JAX_PIPELINE)
        check_contract(g, after, names, run_jax(DT.get(name, 1e-4)), inputs(g, 1), f"jax {name}")


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_network_saves_byte_identical_after_reorder(tmp_path):
    from spyx.io import save

    a = network(ORDER_A, {})
    b = network(ORDER_B, RENAMES)
    save(a, tmp_path / "a_raw.nir")
    save(b, tmp_path / "b_raw.nir")
    assert digest(tmp_path / "a_raw.nir") != digest(tmp_path / "b_raw.nir")
    save(run_pipeline(a, "reorder{rename=true}").graph, tmp_path / "a.nir")
    save(run_pipeline(b, "reorder{rename=true}").graph, tmp_path / "b.nir")
    assert digest(tmp_path / "a.nir") == digest(tmp_path / "b.nir")


def test_sinabs_and_spyx_copies_of_one_cnn_save_byte_identical(corpus, tmp_path):
    from spyx.io import save

    paths = []
    for name in ("cnn_sinabs.nir", "scnn_mnist_spyx.nir"):
        g = run_pipeline(load(corpus, name), "infer-shapes,reorder{rename=true}").graph
        paths.append(tmp_path / name)
        save(g, paths[-1])
    assert digest(corpus / "cnn_sinabs.nir") != digest(corpus / "scnn_mnist_spyx.nir")
    assert digest(paths[0]) == digest(paths[1])
