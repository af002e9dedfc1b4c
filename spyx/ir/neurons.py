r"""Continuous-time neuron kinds of NIR 1.0, with their equations as NIR defines them.

These nodes are *equations*, not programs: they say nothing about the time step, the discretisation or the
order of operations within a step. The ``discretize`` pass (the ``nir`` profile) or a peer profile lowers
them to :class:`spyx.ir.discrete.Neuron`; ``docs/semantics.md`` gives the rules.

All parameters share the neuron population's shape (e.g. ``(38,)`` or ``(16, 16, 16)`` after a conv), or are
all 0-d scalars shared by every neuron: the population then takes the shape of its input.
Spiking kinds spike when ``v > v_threshold`` (strict) and then set ``v = v_reset``.
"""

from __future__ import annotations

from dataclasses import dataclass

from spyx.ir.node import Node, Shape, param, register, same_shape_check


@dataclass(frozen=True, eq=False, kw_only=True)
class _Population(Node):
    stateful = True
    continuous = True
    _shape_param = ""

    def shared(self) -> bool:
        """Whether every parameter is a 0-d scalar shared by the whole population (norse 1.1 writes these)."""
        cached = self.__dict__.get("_shared")  # parameters are frozen, so this is computed once per node
        if cached is None:
            cached = all(getattr(self, n).ndim == 0 for n in self.param_names() if getattr(self, n) is not None)
            object.__setattr__(self, "_shared", cached)
        return cached

    def declared_input_shape(self) -> Shape | None:
        arr = getattr(self, self._shape_param)
        if arr is None or self.shared():
            return None  # scalar parameters fit any population: the input decides its shape
        return tuple(arr.shape)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return input_shape if self.shared() else self.declared_input_shape()

    def check(self) -> list[str]:
        return super().check() + same_shape_check(self, self.param_names())


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class I(_Population):  # noqa: E742
    r"""Integrator: :math:`\dot v = R I`; outputs ``v``."""

    kind = "I"
    _shape_param = "r"
    r: object = param()


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class IF(_Population):
    r"""Integrate-and-fire: :math:`\dot v = R I`; spike when ``v > v_threshold``, then ``v = v_reset``."""

    kind = "IF"
    spiking = True
    _shape_param = "v_threshold"
    r: object = param()
    v_threshold: object = param()
    v_reset: object = param()


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class LI(_Population):
    r"""Leaky integrator: :math:`\tau \dot v = (v_{leak} - v) + R I`; outputs ``v``."""

    kind = "LI"
    _shape_param = "tau"
    tau: object = param(positive=True)
    r: object = param()
    v_leak: object = param()


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class LIF(_Population):
    r"""Leaky integrate-and-fire: :math:`\tau \dot v = (v_{leak} - v) + R I`; spike when
    ``v > v_threshold``, then ``v = v_reset``."""

    kind = "LIF"
    spiking = True
    _shape_param = "tau"
    tau: object = param(positive=True)
    r: object = param()
    v_leak: object = param()
    v_threshold: object = param()
    v_reset: object = param()


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class CubaLI(_Population):
    r"""Current-based leaky integrator: :math:`\tau_{syn} \dot I = -I + w_{in} S`,
    :math:`\tau_{mem} \dot v = (v_{leak} - v) + R I`; outputs ``v``."""

    kind = "CubaLI"
    _shape_param = "tau_mem"
    tau_syn: object = param(positive=True)
    tau_mem: object = param(positive=True)
    r: object = param()
    v_leak: object = param()
    w_in: object = param()


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class CubaLIF(_Population):
    r"""Current-based LIF: :math:`\tau_{syn} \dot I = -I + w_{in} S`,
    :math:`\tau_{mem} \dot v = (v_{leak} - v) + R I`; spike when ``v > v_threshold``, then ``v = v_reset``."""

    kind = "CubaLIF"
    spiking = True
    _shape_param = "tau_mem"
    tau_syn: object = param(positive=True)
    tau_mem: object = param(positive=True)
    r: object = param()
    v_leak: object = param()
    v_threshold: object = param()
    v_reset: object = param()
    w_in: object = param()
