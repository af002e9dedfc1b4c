"""``from_nir``: any graph the JAX backend runs -> a trainable NNX module usable with :func:`spyx.nn.run`."""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.io import load
from spyx.io.nirgraph import from_nir_graph, is_nir_graph
from spyx.tools.compile import compile as compile_graph

__all__ = ["NIRModule", "from_nir"]


class NIRModule(nnx.Module):
    """A compiled graph (:class:`spyx.Program`) as a spyx layer.

    ``params``: the program's trainable arrays as ``nnx.Param`` (``params[node][name]``), so ``nnx.Optimizer``
    fine-tunes them. ``program``: the compiled program (static). Each call is one ``program.step``: input
    ``(B, *shape)`` in the graph's channels-first layout, output likewise; the state is the program's state
    dict. Outputs equal ``program.run(program.params, x)`` for the same parameters. ``spyx.save(module, path)``
    writes it back to NIR with its current parameters (:meth:`spyx.Program.export`).
    """

    def __init__(self, program):
        self.program = program
        self.params = nnx.data(
            {
                node: {k: nnx.Param(jnp.asarray(v)) for k, v in arrays.items()}
                for node, arrays in program.params.items()
            }
        )

    def param_values(self) -> dict:
        """The current parameters as the program's pytree of arrays."""
        return jax.tree.map(lambda p: p[...], self.params, is_leaf=lambda p: isinstance(p, nnx.Variable))

    def initial_state(self, batch_size):
        return self.program.init_state(int(batch_size))

    def __call__(self, x, state):
        state, out = self.program.step(self.param_values(), state, x)
        return out, state


def from_nir(
    graph_or_path, *, dt: float | None = None, method: str = "exact", **compile_options
) -> NIRModule:
    """A trainable NNX module computing ``spyx.compile(graph, dt=dt, method=method)``.

    ``graph_or_path``: a :class:`spyx.Graph`, a ``nir.NIRGraph`` or a ``.nir`` path (read with ``spyx.load``).
    ``dt`` is needed when the graph has continuous-time nodes (``MissingDtError`` otherwise). Further keyword
    arguments
    (``surrogate``, ``dtype``, ``delay_rounding``, ...) go to :func:`spyx.compile`. Drive it with
    ``spyx.nn.run(module, x)`` on ``(T, B, *shape)`` inputs in the graph's (channels-first) layout. The graph
    goes through the one lowering pipeline, as every entry point does (``profile=`` is one of the options).
    """
    source = os.fspath(graph_or_path) if isinstance(graph_or_path, str | os.PathLike) else graph_or_path
    if isinstance(source, str):
        source = load(source)
    elif is_nir_graph(source):  # nir.read's or a peer exporter's graph
        source = from_nir_graph(source)
    return NIRModule(compile_graph(source, dt=dt, method=method, **compile_options))
