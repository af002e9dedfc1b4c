"""spyx.nir: Spyx 1.0's NIR functions, ``to_nir``, ``from_nir`` and ``reorder_layers``, with its signatures, return
types and file convention (``../shared/spyx-api.md`` §8).

They are front ends over the one exporter and reader of spyx: ``to_nir`` is :func:`spyx.nn.export` with the
``spyx1`` encoding, handed to ``nir`` by :func:`spyx.io.to_nir_graph` (what ``spyx.save`` writes); ``from_nir``
reads the ``nir.NIRGraph`` with :func:`spyx.io.from_nir_graph` (the file reader's decoder and verifier) and lifts
its chain into ``spyx.nn`` layers. To run a graph from any framework as it computed it, use
``spyx.compile(graph, profile=...)`` instead; ``spyx.compile(to_nir(...), profile="spyx1")`` reproduces the model.
"""

from __future__ import annotations

import os

import jax

__all__ = ["from_nir", "reorder_layers", "to_nir"]


def reorder_layers(init_params: dict, trained_params: dict) -> dict:
    """A dict with ``init_params``'s keys, in that order, mapped to ``trained_params``'s values (Spyx 1.0's legacy
    helper for dict-shaped parameter trees). Keys only in ``trained_params`` are dropped; a missing one raises
    ``KeyError``."""
    return {key: trained_params[key] for key in init_params}


def _shape(spec, what: str) -> tuple[int, ...]:
    """The per-sample shape of a single-entry ``{"input": (128,)}`` dict (Spyx 1.0) or of a plain tuple."""
    from spyx.errors import ShapeError

    value = next(iter(spec.values())) if isinstance(spec, dict) and len(spec) == 1 else spec
    try:
        return tuple(int(s) for s in (value.tolist() if hasattr(value, "tolist") else value))
    except (TypeError, ValueError):
        raise ShapeError(f"to_nir: {what} must be a dict like {{'{what[:-6]}': (128,)}}, got {spec!r}") from None


def to_nir(model, input_shape, output_shape, dt=1, *, include_li=False):
    """The ``nir.NIRGraph`` of a ``spyx.nn.Sequential`` (or a single layer) in Spyx 1.0's convention.

    ``input_shape``/``output_shape``: ``{"input": (128,)}`` / ``{"output": (20,)}``, per sample, channels-first for
    images (``{"input": (2, 8, 8)}`` for data ``[T, B, 8, 8, 2]``). ``dt`` converts decays to time constants
    (``tau = dt / (1 - beta)``). Nodes ``layer_<i>`` for layer ``i`` of ``model.layers``; layers with no NIR form
    (``LI``, ``ALIF``, functions) are skipped with a printed warning, as Spyx 1.0 does. A qwix-quantized layer
    raises ``ValueError``; ``ResonateFire`` raises ``NotImplementedError``.

    ``include_li`` (spyx extra, default off as in Spyx 1.0): write ``LI`` layers (a readout) as NIR ``LI(tau = dt /
    (1 - beta), r = 1)`` nodes instead of dropping them; ``from_nir(..., include_li=True)`` reads them back.
    """
    from spyx.io import to_nir_graph
    from spyx.nn.spyx1_format import write_graph

    graph = write_graph(
        model, _shape(input_shape, "input_shape"), _shape(output_shape, "output_shape"), dt, include_li=include_li
    )
    return _spyx1_layout(to_nir_graph(graph), input_shape, output_shape)


def _spyx1_layout(g, input_shape, output_shape):
    """The graph as Spyx 1.0 builds it: nodes ordered ``input``, ``output``, ``layer_<i>`` ..., and the Input /
    Output types exactly the dicts the caller gave (Spyx 1.0 hands them to ``nir.Input``/``nir.Output`` as they
    are)."""
    import nir

    def port(spec, key):
        return spec if isinstance(spec, dict) and len(spec) == 1 else {key: tuple(_shape(spec, key + "_shape"))}

    nodes = {
        "input": nir.Input(input_type=port(input_shape, "input")),
        "output": nir.Output(output_type=port(output_shape, "output")),
    }
    nodes.update((k, v) for k, v in g.nodes.items() if k not in ("input", "output"))
    from spyx.nn.spyx1_format import NO_BIAS

    for node in nodes.values():
        if getattr(node, "metadata", None) and node.metadata.pop(NO_BIAS, False):
            node.bias = None  # Spyx 1.0 writes a Conv without bias as bias=None
    try:  # as Spyx 1.0 builds it: nir infers every node's input and output types
        return nir.NIRGraph(nodes=nodes, edges=list(g.edges), metadata=dict(g.metadata))
    except Exception:  # noqa: BLE001  (nir's own type check refuses some valid graphs; keep them untyped)
        return nir.NIRGraph(nodes=nodes, edges=list(g.edges), metadata=dict(g.metadata), type_check=False)


def _graph(nir_graph):
    """A spyx ``Graph`` from a ``nir.NIRGraph``, a spyx ``Graph`` or a ``.nir`` path."""
    from spyx.io import from_nir_graph, load
    from spyx.ir import Graph

    if isinstance(nir_graph, Graph):
        return nir_graph
    if isinstance(nir_graph, str | os.PathLike):
        return load(os.fspath(nir_graph))
    return from_nir_graph(_deduplicated(nir_graph))


def _deduplicated(nir_graph):
    """The graph with repeated edges dropped (Spyx 1.0 prints a warning and removes them)."""
    edges = list(dict.fromkeys(tuple(e) for e in nir_graph.edges))
    if len(edges) == len(nir_graph.edges):
        return nir_graph
    import nir

    print(f"[Warning] removed {len(nir_graph.edges) - len(edges)} duplicate edge(s) from the NIR graph")
    return nir.NIRGraph(nodes=nir_graph.nodes, edges=edges, metadata=nir_graph.metadata, type_check=False)


def from_nir(nir_graph, input_data, dt=1, *, return_all_states=False, rngs=None, include_li=False):
    """Rebuild a ``spyx.nn.Sequential`` from a chain graph in Spyx 1.0's convention **and run it**.

    Returns ``(model, outputs)`` with ``outputs`` of ``run(model, input_data)`` (time-major ``[T, B, ...]``, images
    channels-last), or ``(model, (outputs, states))`` with ``return_all_states=True``, where ``states`` has the
    ``initial_state`` structure (a list, ``None`` for stateless layers) with every array stacked over time.
    Decays are ``1 - dt / tau``; ``r``, ``v_leak``, ``v_reset``, ``w_in``, Conv ``dilation``/``groups`` are not read
    (Spyx 1.0's table, ``spyx-api.md`` §8.3). ``rngs`` defaults to ``nnx.Rngs(0)`` (modules draw their defaults,
    then the graph's values overwrite them). Accepts a ``nir.NIRGraph``, a spyx ``Graph`` or a path.
    ``include_li`` (spyx extra): an ``LI`` not followed by a ``Threshold`` becomes a ``spyx.nn.LI`` readout
    (``beta = 1 - dt / tau``) instead of raising ``ValueError``.
    """
    from flax import nnx

    from spyx.nn.run import run
    from spyx.nn.sequential import Sequential
    from spyx.nn.spyx1_format import lift

    rngs = nnx.Rngs(0) if rngs is None else rngs
    no_bias = {k for k, n in getattr(nir_graph, "nodes", {}).items() if type(n).__name__ == "Conv2d" and n.bias is None}
    model = Sequential(*lift(_graph(nir_graph), float(dt), rngs, include_li=include_li, no_bias=no_bias))
    x = jax.numpy.asarray(input_data)
    if not return_all_states:
        return model, run(model, x)[0]

    def step(state, xt):
        out, state = model(xt, state)
        return state, (out, state)

    _, (outputs, states) = jax.lax.scan(step, model.initial_state(x.shape[1]), x)
    return model, (outputs, states)
