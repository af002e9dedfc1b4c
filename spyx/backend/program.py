"""``Program``: a compiled, discrete graph as pure JAX functions of explicit parameters and state.

A program holds no arrays that change: ``params`` is its initial parameter pytree, and every method takes
the parameters to use, so ``jax.jit(prog.run)``, ``jax.vmap(prog.run, in_axes=(0, None))`` (a population of
networks) and ``jax.grad`` over a loss of ``prog.run(params, x)`` all work.

Layout: inputs and outputs are time-major ``(T, B, *shape)`` in NIR's channels-first per-sample layout; a
step takes ``(B, *shape)``. With one graph input (output) the program takes (returns) one array; with
several, a dict by Input (Output) node name. A dict is always accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from spyx.backend.schedule import Plan, run_layer_schedule, run_step_schedule, step_nodes
from spyx.chunking import Stream, check_chunk, chunked
from spyx.errors import ArgumentError, InputError
from spyx.ir.graph import Graph
from spyx.ir.shapes import fmt_shape

__all__ = ["Program"]


@dataclass(frozen=True, eq=False)
class Program:
    """A compiled graph. Build it with :func:`spyx.compile`.

    Attributes:
        graph: the flat, discrete graph that runs.
        params: node name -> parameter name -> ``jnp`` array (only nodes with trainable arrays).
        plan: the execution plan (:mod:`spyx.backend.schedule`).
        schedule: ``"layer"`` or ``"step"``.
        dtype: the dtype inputs and state are computed in.
        profile: the spec of the profile the graph was lowered with (``spyx.compile``'s ``profile``);
            :meth:`export` and ``spyx.save(program, path)`` write the file back in its convention.
    """

    graph: Graph
    params: dict
    plan: Plan = field(repr=False)
    schedule: str = "layer"
    dtype: Any = jnp.float32
    spike_fn: Any = None
    profile: str = "nir"

    # -- interface ----------------------------------------------------------------------------------------
    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(self.plan.inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(self.plan.outputs)

    @property
    def input_shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-sample shape of each input (no time or batch axis)."""
        return dict(self.plan.inputs)

    @property
    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        return dict(self.plan.outputs)

    @property
    def state_shapes(self) -> dict[str, dict[str, tuple[int, ...]]]:
        """node -> state entry -> shape without the batch axis (``buf`` of a shift has its depth first)."""
        state = jax.eval_shape(lambda: self.init_state(1))
        return {n: {k: _drop_batch(k, v.shape) for k, v in s.items()} for n, s in state.items()}

    def init_state(self, batch: int) -> dict:
        """Zero state for ``batch`` samples: node -> {name: (batch, *shape)}; ``buf``: (depth, batch, ...)."""
        state: dict = {}
        for n, np_ in self.plan.nodes.items():
            if np_.kernel.stateful:
                state[n] = dict(np_.kernel.init(np_.node, batch, self.dtype))
            if np_.keeps_out:
                state.setdefault(n, {})["out"] = jnp.zeros((batch, *np_.ctx.out_shape), self.dtype)
        return state

    def step(self, params, state, inputs_t):
        """One time step: ``inputs_t`` (B, *shape) (or a dict) -> (new state, outputs_t (B, *shape))."""
        xs = self._inputs(inputs_t, time=False)
        new, vals = step_nodes(self.plan, self.plan.order, params, state, xs, next(iter(xs.values())))
        outs = {o: vals[o] for o in self.plan.outputs}
        return {**state, **new}, self._pack(outs)

    def run(self, params, inputs, state=None, *, outputs=None, chunk: int | None = None, checkpoint: bool = False):
        """Run over time-major ``inputs`` (T, B, *shape) -> (outputs (T, B, *shape), final state).

        Args:
            outputs: which graph outputs to return: a name (returns that array), a list of names (returns a dict),
                or ``None`` for all (one array when the graph has one output). Only the outputs are returned,
                never per-node traces (:meth:`run_traced` gives those).
            chunk: run time in chunks of this many steps, carrying the state (same result as one run; the
                intermediates of one chunk are alive at a time instead of whole sequences). ``None``: one pass.
            checkpoint: with ``chunk``, make each chunk a ``jax.checkpoint`` so that a gradient keeps only the
                state entering each chunk and recomputes the rest (memory grows with ``T / chunk``).
        """
        names, single = self._select(outputs)
        k = check_chunk(chunk, checkpoint, "Program.run")
        xs, state = self._start(inputs, state)
        runner = self._runner()

        def over(st, x):
            outs, st, _ = runner(self.plan, params, st, x, False)
            return {o: outs[o] for o in names}, st

        outs, state = over(state, xs) if k is None else chunked(over, state, xs, k, checkpoint=checkpoint)
        return (outs[names[0]] if single else outs), state

    def run_traced(self, params, inputs, state=None, *, nodes=None):
        """As :meth:`run`, plus traces: node -> {"v"|"i"|"s"|"a": (T, B, *shape)} for every neuron, or only for
        the neurons named in ``nodes``."""
        outs, state, traces = self._run(params, inputs, state, traced=True)
        if nodes is not None:
            nodes = [nodes] if isinstance(nodes, str) else list(nodes)
            unknown = [n for n in nodes if n not in traces]
            if unknown:
                raise ArgumentError(
                    f"run_traced: no traced neuron named {', '.join(map(repr, unknown))}; traced neurons: "
                    f"{', '.join(sorted(traces)) or 'none'}"
                )
            traces = {n: traces[n] for n in nodes}
        return outs, state, traces

    def stream(self, params, chunks, state=None, *, outputs=None) -> Stream:
        """Iterate over time-major pieces of one sequence (``(T_i, B, *shape)`` each), carrying the state: yields
        each piece's outputs (as :meth:`run`), and ``.state`` is the state after the last piece. Concatenated, the
        outputs equal one :meth:`run` over the whole sequence. Each distinct piece length compiles once."""
        self._select(outputs)  # fail now, not at the first piece
        run = jax.jit(lambda p, st, x: self.run(p, x, st, outputs=outputs))
        return Stream(lambda st, x: run(params, st, x), chunks, state)

    @property
    def dt(self) -> float | None:
        """The time step the graph was lowered at (seconds; None for a graph that never had one)."""
        from spyx.passes.retime import DT_KEY

        dt = self.graph.metadata.get(DT_KEY)
        return None if dt is None else float(dt)

    def export(self, params=None, *, profile: str | None = None) -> Graph:
        """The continuous NIR graph of this program with ``params`` (default: :attr:`params`), written so that
        lowering it with ``profile`` (default: :attr:`profile`, the one it was compiled with) at :attr:`dt`
        gives this program's graph with those parameters: ``spyx.load(path, profile=...)`` then
        ``spyx.compile`` reproduces ``run(params, x)``. ``profile="nir"`` writes plain NIR (each neuron as the
        NIR node whose exact discretisation it is). Checked by lowering the result again; raises
        :class:`ExportError` naming the node whose (trained) parameters the convention cannot express
        (:mod:`spyx.profiles.invert`)."""
        from spyx.profiles.invert import invert_graph, substitute
        from spyx.profiles.registry import get_profile

        values = self.params if params is None else jax.tree.map(np.asarray, params)
        graph = substitute(self.graph, values)
        return invert_graph(graph, get_profile(self.profile if profile is None else profile), self.dt)[0]

    # -- internals ----------------------------------------------------------------------------------------
    def _runner(self):
        return run_layer_schedule if self.schedule == "layer" else run_step_schedule

    def _start(self, inputs, state):
        xs = self._inputs(inputs, time=True)
        if state is None:
            state = self.init_state(next(iter(xs.values())).shape[1])
        return xs, state

    def _run(self, params, inputs, state, traced):
        xs, state = self._start(inputs, state)
        outs, state, traces = self._runner()(self.plan, params, state, xs, traced)
        return self._pack(outs), state, traces

    def _select(self, outputs) -> tuple[tuple[str, ...], bool]:
        """(output names, whether one array is returned) of an ``outputs=`` argument."""
        if outputs is None:
            return self.output_names, len(self.output_names) == 1
        single = isinstance(outputs, str)
        names = (outputs,) if single else tuple(outputs)
        unknown = [n for n in names if n not in self.plan.outputs]
        if unknown or not names:
            raise ArgumentError(
                f"outputs: {'no output named ' + ', '.join(map(repr, unknown)) if unknown else 'an empty selection'}"
                f"; this graph's outputs: {', '.join(self.output_names)}"
            )
        return names, single

    def _pack(self, outs: dict):
        return next(iter(outs.values())) if len(outs) == 1 else outs

    def _inputs(self, inputs, *, time: bool) -> dict:
        names = self.input_names
        lead = "(T, B, " if time else "(B, "
        if not isinstance(inputs, Mapping):
            if len(names) != 1:
                raise InputError(
                    f"this graph has {len(names)} inputs ({', '.join(names)}); pass a dict by name"
                )
            inputs = {names[0]: inputs}
        unknown = sorted(set(inputs) - set(names))
        missing = [n for n in names if n not in inputs]
        if unknown or missing:
            raise InputError(
                f"inputs must be exactly {', '.join(names)}; missing: {', '.join(missing) or 'none'}, "
                f"unknown: {', '.join(unknown) or 'none'}"
            )
        out = {}
        lengths: dict[str, tuple[int, ...]] = {}
        for n in names:
            x = inputs[n]
            if not hasattr(x, "shape"):
                x = np.asarray(x)
            expect = self.plan.inputs[n]
            k = 2 if time else 1
            if x.ndim != len(expect) + k or tuple(x.shape[k:]) != expect:
                want = lead + ", ".join(str(s) for s in expect) + ")"
                raise InputError(f"input {n}: expected shape {want}, got {fmt_shape(tuple(x.shape))}")
            lengths[n] = tuple(x.shape[:k])
            out[n] = jnp.asarray(x).astype(self.dtype)
        if len(set(lengths.values())) > 1:
            axes = "(time, batch)" if time else "batch"
            each = ", ".join(f"{n} {fmt_shape(v)}" for n, v in lengths.items())
            raise InputError(f"inputs disagree on the leading {axes} axes: {each}; give every input the same")
        return out


def _drop_batch(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    return (shape[0], *shape[2:]) if name == "buf" else tuple(shape[1:])
