"""The IR node base: declared, typed, immutable node kinds and their registry.

A node kind is a frozen dataclass that subclasses :class:`Node` and is registered with :func:`register`.
Array parameters are declared with :func:`param`; they are stored as read-only NumPy arrays with the dtype
they were given (a parameter read from a file keeps its dtype bit for bit). Shapes follow NIR: per-sample,
channels-first, no batch or time axis.

Every kind answers three questions, and nothing dispatches on kinds with if/elif chains:

* :meth:`Node.declared_input_shape` - the input shape its own parameters imply, if any;
* :meth:`Node.output_shape` - the output shape for a given input shape;
* :meth:`Node.check` - problems with its own parameters (shapes, finiteness, domain).

What a kind *is* (a weight layer, a neuron population, continuous-time, causal, spiking) it declares as
:mod:`traits <spyx.ir.traits>` in ``traits``; passes ask :meth:`Node.trait` / :meth:`Node.has_trait`.
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np

from spyx.errors import FormatError
from spyx.ir.traits import Continuous, Spiking, Trait, trait_problems

__all__ = [
    "LAYER_KEY", "Node", "Shape", "param", "register", "kind_class", "registered_kinds", "kinds_with", "freeze_array",
]

Shape = tuple[int, ...]

# Node metadata naming the spyx.nn layer a node was built from (spyx.nn.export and lower write it; spyx.draw
# draws the nodes of one layer as one cluster). Kept through NIR files like any metadata.
LAYER_KEY = "spyx.layer"

_KINDS: dict[str, type[Node]] = {}

N = TypeVar("N", bound=type)
T = TypeVar("T", bound=Trait)


def param(*, required: bool = True, integer: bool = False, positive: bool = False, doc: str = ""):
    """Declare an array parameter of a node kind.

    ``required`` parameters must be present; optional ones default to ``None``. ``integer`` parameters hold
    shapes, strides and the like. ``positive`` parameters must be > 0 (time constants).
    """
    meta = {"array": True, "required": required, "integer": integer, "positive": positive, "doc": doc}
    if required:
        return field(metadata=meta)
    return field(default=None, metadata=meta)


def register(cls: N) -> N:
    """Class decorator: add a node kind to the registry under ``cls.kind``."""
    kind = cls.__dict__.get("kind")
    if not kind:
        raise TypeError(f"{cls.__name__} must define a class attribute 'kind'")
    if kind in _KINDS and _KINDS[kind] is not cls:
        raise TypeError(f"node kind {kind!r} is registered twice ({_KINDS[kind].__name__}, {cls.__name__})")
    _KINDS[kind] = cls
    return cls


def kind_class(kind: str) -> type[Node]:
    """The node class registered for ``kind``; :class:`FormatError` listing the known kinds otherwise."""
    try:
        return _KINDS[kind]
    except KeyError:
        raise FormatError(f"unknown node kind {kind!r}; known kinds: {', '.join(sorted(_KINDS))}") from None


def registered_kinds() -> dict[str, type[Node]]:
    return dict(_KINDS)


def kinds_with(trait: type[Trait], where: Any = None) -> tuple[str, ...]:
    """Names of the registered kinds that declare ``trait`` (and whose declared instance satisfies
    ``where(instance)``), in registration order: for messages and compatibility aliases, never for
    dispatch (ask the node)."""
    return tuple(
        kind
        for kind, cls in _KINDS.items()
        if (t := cls.declared_trait(trait)) is not None and (where is None or where(t))
    )


def freeze_array(value: Any) -> np.ndarray:
    """A read-only copy of ``value`` as a NumPy array, keeping its dtype (Python scalars -> 0-d arrays).

    An array that is already read-only and owns its data (another node's parameter, or one the NIR reader
    froze as it read it) is taken as it is: copying it again would only double the memory.
    """
    if isinstance(value, np.ndarray) and value.flags.owndata and not value.flags.writeable:
        return value
    arr = np.array(value, copy=True)
    arr.flags.writeable = False
    return arr


def _values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_values_equal(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_values_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@dataclass(frozen=True, eq=False, kw_only=True)
class Node:
    """Base of all IR node kinds. Subclasses are frozen dataclasses with a ``kind`` and declared params.

    Class attributes:
        kind: the registry name (the NIR type name for NIR primitives, ``spyx.*`` for spyx's own kinds).
        stateful: the node carries state from one time step to the next.
        traits: what the kind is (:mod:`spyx.ir.traits`); ``continuous`` and ``spiking`` follow from them.
        prefix: the short name the ``reorder`` pass gives nodes of this kind (``fc``, ``lif``).
        nested: the node is a graph of nodes (only ``NIRGraph``).
    """

    kind: ClassVar[str] = ""
    stateful: ClassVar[bool] = False
    traits: ClassVar[tuple[Trait, ...]] = ()
    prefix: ClassVar[str] = ""
    nested: ClassVar[bool] = False  # a graph of nodes (NIRGraph): shape inference and verify look inside

    metadata: Mapping[str, Any] = field(default_factory=dict, kw_only=True)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("array") and value is not None:
                object.__setattr__(self, f.name, freeze_array(value))
        object.__setattr__(self, "metadata", types.MappingProxyType(dict(self.metadata)))

    # -- traits -------------------------------------------------------------------------------------------
    @classmethod
    def declared_trait(cls, trait: type[T]) -> T | None:
        """The instance of ``trait`` (or a subclass) the kind declares, whatever the node's options."""
        cache = cls.__dict__.get("_TRAIT_CACHE")
        if cache is None:
            cache = {}
            type.__setattr__(cls, "_TRAIT_CACHE", cache)
        if trait not in cache:
            cache[trait] = next((t for t in cls.traits if isinstance(t, trait)), None)
        return cache[trait]

    def trait(self, trait: type[T]) -> T | None:
        """The declared ``trait`` if it applies to this node (a trait may depend on an option), else None."""
        t = self.declared_trait(trait)
        return t if t is not None and t.applies(self) else None

    def has_trait(self, trait: type[Trait]) -> bool:
        return self.trait(trait) is not None

    @classmethod
    def trait_problems(cls) -> list[str]:
        """Where the kind's traits disagree with its declaration (the coherence test runs this on every kind)."""
        return trait_problems(cls)

    @property
    def continuous(self) -> bool:
        """A continuous-time equation that needs a time step to run (the :class:`Continuous` trait)."""
        return self.trait(Continuous) is not None

    @property
    def spiking(self) -> bool:
        """The node emits spikes (the :class:`Spiking` trait)."""
        return self.trait(Spiking) is not None

    # -- declared structure -------------------------------------------------------------------------------
    @classmethod
    def _array_fields(cls) -> tuple[dataclasses.Field, ...]:
        # cached per class: dataclasses.fields() is slow, and verify asks once per node
        cached = cls.__dict__.get("_ARRAY_FIELDS")
        if cached is None:
            cached = tuple(f for f in dataclasses.fields(cls) if f.metadata.get("array"))
            type.__setattr__(cls, "_ARRAY_FIELDS", cached)
        return cached

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        cached = cls.__dict__.get("_PARAM_NAMES")
        if cached is None:
            cached = tuple(f.name for f in cls._array_fields())
            type.__setattr__(cls, "_PARAM_NAMES", cached)
        return cached

    @classmethod
    def required_params(cls) -> tuple[str, ...]:
        return tuple(f.name for f in cls._array_fields() if f.metadata["required"])

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """Non-array fields other than metadata (e.g. padding strings, neuron options)."""
        return tuple(
            f.name for f in dataclasses.fields(cls) if not f.metadata.get("array") and f.name != "metadata"
        )

    def params(self) -> dict[str, np.ndarray]:
        """The array parameters that are present, in declaration order."""
        return {k: getattr(self, k) for k in self.param_names() if getattr(self, k) is not None}

    def replace(self, **changes: Any) -> Node:
        return dataclasses.replace(self, **changes)

    # -- semantics each kind provides ---------------------------------------------------------------------
    def declared_input_shape(self) -> Shape | None:
        """The input shape implied by the node's own parameters, or None when it depends on upstream."""
        return None

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        """The output shape for ``input_shape`` (None: unknown). Raises ValueError with a reason if impossible."""
        return input_shape

    def check(self) -> list[str]:
        """Problems with this node's own parameters, each a sentence without the node's name."""
        problems = []
        for f in self._array_fields():
            value = getattr(self, f.name)
            if value is None:
                if f.metadata["required"]:
                    problems.append(f"required parameter {f.name!r} is missing")
                continue
            kind = value.dtype.kind
            if kind == "b":
                problems.append(f"parameter {f.name!r} is boolean; a number is expected (bool is not a number)")
                continue
            if kind not in "iuf":
                problems.append(f"parameter {f.name!r} has non-numeric dtype {value.dtype}")
                continue
            if value.size == 1:  # the common scalar case, without NumPy's per-call cost (verify is linear)
                x = value.item()
                if kind == "f" and not math.isfinite(x):
                    problems.append(f"parameter {f.name!r} has 1 non-finite value(s) (NaN or inf)")
                elif kind == "f" and f.metadata["integer"] and x != round(x):
                    problems.append(f"parameter {f.name!r} must hold integers, got {x!r}")
                elif f.metadata["positive"] and x <= 0:
                    problems.append(f"parameter {f.name!r} must be > 0 (min {value.reshape(-1)[0]!r})")
                continue
            if kind == "f" and not np.isfinite(value).all():
                bad = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
                problems.append(f"parameter {f.name!r} has {bad} non-finite value(s) (NaN or inf)")
                continue
            if kind == "f" and f.metadata["integer"] and (value != np.round(value)).any():
                frac = value[value != np.round(value)].reshape(-1)
                problems.append(
                    f"parameter {f.name!r} must hold integers, got {frac[0].item()!r}"
                    + (f" and {frac.size - 1} more fractional value(s)" if frac.size > 1 else "")
                )
                continue
            if f.metadata["positive"] and (value <= 0).any():
                problems.append(f"parameter {f.name!r} must be > 0 (min {np.min(value)!r})")
        return problems

    # -- equality and display -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        return all(
            _values_equal(getattr(self, f.name), getattr(other, f.name)) for f in dataclasses.fields(self)
        )

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                parts.append(f"{f.name}={v.dtype}{list(v.shape)}")
            elif f.name == "metadata":
                if v:
                    parts.append(f"metadata={{{', '.join(sorted(v))}}}")
            else:
                parts.append(f"{f.name}={v!r}")
        return f"{self.kind}({', '.join(parts)})"


class PerNeuron(Node):
    """Base of the discrete population kinds whose parameters hold one value per neuron (``beta`` gives the
    shape): input, output and population all have that shape, and every parameter must share it."""

    @property
    def shape(self) -> Shape:
        return tuple(self.beta.shape)  # type: ignore[attr-defined]  # each subclass declares beta

    def declared_input_shape(self) -> Shape | None:
        return self.shape

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        return self.shape

    def check(self) -> list[str]:
        return super().check() + same_shape_check(self, self.param_names())


def same_shape_check(node: Node, names: tuple[str, ...]) -> list[str]:
    """Problems if the present parameters in ``names`` do not all share one shape."""
    shapes = {n: getattr(node, n).shape for n in names if getattr(node, n) is not None}
    if len(set(shapes.values())) <= 1:
        return []
    desc = ", ".join(f"{n}{s}" for n, s in shapes.items())
    return [f"parameters must share one shape, got {desc}"]
