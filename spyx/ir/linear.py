"""Weight layers: ``Affine`` (W x + b), ``Linear`` (W x) and ``Scale`` (s * x, elementwise)."""

from __future__ import annotations

from dataclasses import dataclass

from spyx.ir.node import Node, Shape, param, register
from spyx.ir.traits import CarriesScale, WeightLayer


def _matrix_problems(weight) -> list[str]:
    if weight is None or weight.ndim == 2:
        return []
    return [f"weight must be a 2-D matrix (out, in), got shape {weight.shape}"]


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Affine(Node):
    """``y = W x + b`` with ``W`` of shape (out, in) and ``b`` of shape (out,)."""

    kind = "Affine"
    prefix = "fc"
    traits = (WeightLayer(layout="dense", bias="bias"),)
    weight: object = param(doc="(out, in)")
    bias: object = param(doc="(out,)")

    def declared_input_shape(self) -> Shape | None:
        return (int(self.weight.shape[-1]),) if self.weight is not None and self.weight.ndim == 2 else None

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return (int(self.weight.shape[0]),)

    def check(self) -> list[str]:
        problems = super().check() + _matrix_problems(self.weight)
        if not problems and self.bias.shape != (self.weight.shape[0],):
            problems.append(f"bias shape {self.bias.shape} does not match weight rows ({self.weight.shape[0]},)")
        return problems


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Linear(Node):
    """``y = W x`` with ``W`` of shape (out, in)."""

    kind = "Linear"
    traits = (WeightLayer(layout="dense"),)
    weight: object = param(doc="(out, in)")

    def declared_input_shape(self) -> Shape | None:
        return (int(self.weight.shape[-1]),) if self.weight is not None and self.weight.ndim == 2 else None

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return (int(self.weight.shape[0]),)

    def check(self) -> list[str]:
        return super().check() + _matrix_problems(self.weight)


@register
@dataclass(frozen=True, eq=False, kw_only=True)
class Scale(Node):
    """``y = s * x`` elementwise; ``s`` has the shape of the signal."""

    kind = "Scale"
    traits = (WeightLayer(layout="elementwise", weight="scale"), CarriesScale())
    scale: object = param(doc="signal shape")

    def declared_input_shape(self) -> Shape | None:
        return tuple(self.scale.shape)

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return tuple(self.scale.shape)
