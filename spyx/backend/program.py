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
from spyx.errors import InputError
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
    """

    graph: Graph
    params: dict
    plan: Plan = field(repr=False)
    schedule: str = "layer"
    dtype: Any = jnp.float32
    spike_fn: Any = None

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

    def run(self, params, inputs, state=None):
        """Run over time-major ``inputs`` (T, B, *shape) -> (outputs (T, B, *shape), final state)."""
        outs, state, _ = self._run(params, inputs, state, traced=False)
        return outs, state

    def run_traced(self, params, inputs, state=None):
        """As :meth:`run`, plus traces: node -> {"v"|"i"|"s"|"a": (T, B, *shape)} for every neuron."""
        return self._run(params, inputs, state, traced=True)

    # -- internals ----------------------------------------------------------------------------------------
    def _run(self, params, inputs, state, traced):
        xs = self._inputs(inputs, time=True)
        batch = next(iter(xs.values())).shape[1]
        if state is None:
            state = self.init_state(batch)
        runner = run_layer_schedule if self.schedule == "layer" else run_step_schedule
        outs, state, traces = runner(self.plan, params, state, xs, traced)
        return self._pack(outs), state, traces

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
