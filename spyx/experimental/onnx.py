r"""ONNX export of a stateful model's step or whole sequence (``../shared/spyx-api.md`` §13.6).

An ONNX graph has no hidden state, so a spyx model is exported as a pure function with its state as explicit
tensors: per time step ``(x_t, *state) -> (out, *new_state)``, or for a fixed sequence length ``T``
``(x_seq, *state) -> (out_seq, *final_state)`` (the scan becomes an ONNX ``Loop``/``Scan``). The state is
``model.initial_state(batch)`` flattened by ``jax.tree_util`` (the ``None`` entries of a ``Sequential``'s state give
no tensor). :func:`step_signature` describes that function (names, shapes, dtypes, the state's tree structure)
without any ONNX package; :func:`to_onnx` converts it with jax2onnx, imported only there. Only the forward pass is
exported: spike functions become their exact Heaviside step.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from spyx.errors import ArgumentError

__all__ = ["ONNXStepSignature", "step_signature", "to_onnx"]

_DEFAULT_OPSET = 21


class StatelessModelError(ArgumentError, TypeError):
    """The model has no ``initial_state`` (a ``TypeError``, as Spyx 1.0 raised)."""


@dataclasses.dataclass
class ONNXStepSignature:
    """What the exported function takes and returns (field order as Spyx 1.0's)."""

    input_shape: tuple
    input_dtype: np.dtype
    state_shapes: list = dataclasses.field(default_factory=list)
    state_dtypes: list = dataclasses.field(default_factory=list)
    output_shape: tuple = ()
    output_dtype: Any = None
    input_names: list = dataclasses.field(default_factory=list)
    output_names: list = dataclasses.field(default_factory=list)
    sequence_length: int | None = None
    state_treedef: Any = None

    @property
    def num_state(self) -> int:
        return len(self.state_shapes)

    def seed_state(self, dtype=None) -> list:
        """Zero arrays for every state tensor (each of its recorded dtype, or ``dtype``)."""
        return [np.zeros(s, dtype if dtype is not None else d) for s, d in zip(self.state_shapes, self.state_dtypes,
                                                                                 strict=True)]


def _require_stateful(model) -> None:
    if not hasattr(model, "initial_state"):
        raise StatelessModelError(
            f"ONNX export needs a stateful model with initial_state (got {type(model).__name__}); wrap stateless "
            "layers in spyx.nn.Sequential with a neuron"
        )


def _build_fn(model, treedef, sequence_length):
    if sequence_length is None:
        def fn(x, *state_flat):
            out, new = model(x, jax.tree_util.tree_unflatten(treedef, list(state_flat)))
            return (out, *jax.tree_util.tree_leaves(new))
    else:
        from spyx.nn.run import run

        def fn(x, *state_flat):
            out, final = run(model, x, jax.tree_util.tree_unflatten(treedef, list(state_flat)))
            return (out, *jax.tree_util.tree_leaves(final))
    return fn


def _signature(model, input_shape, batch, dtype, sequence_length):
    _require_stateful(model)
    state = model.initial_state(int(batch))
    leaves, treedef = jax.tree_util.tree_flatten(state)
    lead = (int(batch),) if sequence_length is None else (int(sequence_length), int(batch))
    x_shape = (*lead, *tuple(input_shape))
    fn = _build_fn(model, treedef, sequence_length)
    outs = jax.eval_shape(fn, jax.ShapeDtypeStruct(x_shape, dtype),
                          *(jax.ShapeDtypeStruct(leaf.shape, leaf.dtype) for leaf in leaves))
    new_name = "new_state" if sequence_length is None else "final_state"
    sig = ONNXStepSignature(
        input_shape=x_shape,
        input_dtype=np.dtype(dtype),
        state_shapes=[tuple(leaf.shape) for leaf in leaves],
        state_dtypes=[np.dtype(leaf.dtype) for leaf in leaves],
        output_shape=tuple(outs[0].shape),
        output_dtype=np.dtype(outs[0].dtype),
        input_names=["x", *(f"state_{i}" for i in range(len(leaves)))],
        output_names=["out", *(f"{new_name}_{i}" for i in range(len(leaves)))],
        sequence_length=sequence_length,
        state_treedef=treedef,
    )
    return sig, fn


def step_signature(model, input_shape, *, batch: int = 1, dtype=jnp.float32,
                   sequence_length: int | None = None) -> ONNXStepSignature:
    """The signature of the exported function (JAX only, no ONNX package needed).

    Per step (``sequence_length=None``): input ``(batch, *input_shape)``, ``(x_t, *state) -> (out, *new_state)``,
    outputs named ``out, new_state_0, ...``. Sequence mode: input ``(T, batch, *input_shape)``, ``spyx.nn.run``
    from the given state, outputs ``out, final_state_0, ...``. Inputs are named ``x, state_0, ...``.

    Raises:
        TypeError: the model has no ``initial_state``.
    """
    return _signature(model, input_shape, batch, dtype, sequence_length)[0]


def to_onnx(model, input_shape, *, batch: int = 1, dtype=jnp.float32, opset: int | None = None,
            sequence_length: int | None = None) -> bytes:
    """The serialised ONNX ``ModelProto`` of the function :func:`step_signature` describes (closing over the
    model's current parameters), by ``jax2onnx.to_onnx`` with ``model_name="spyx_step"`` (or ``"spyx_seq<T>"``),
    ``opset`` (default 21) and the signature's input names. Output names are the converter's; outputs are in the
    signature's order.

    Raises:
        ImportError: jax2onnx is not installed (``pip install 'spyx[onnx]'``).
        TypeError: the model has no ``initial_state``.
    """
    try:
        import jax2onnx
    except ImportError as e:
        raise ImportError(
            "spyx.experimental.onnx.to_onnx needs jax2onnx: pip install 'spyx[onnx]' (jax2onnx onnx onnxruntime)"
        ) from e
    sig, fn = _signature(model, input_shape, batch, dtype, sequence_length)
    inputs = [jax.ShapeDtypeStruct(sig.input_shape, sig.input_dtype)]
    inputs += [jax.ShapeDtypeStruct(s, d) for s, d in zip(sig.state_shapes, sig.state_dtypes, strict=True)]
    name = "spyx_step" if sequence_length is None else f"spyx_seq{int(sequence_length)}"
    proto = jax2onnx.to_onnx(fn, inputs, model_name=name, opset=opset or _DEFAULT_OPSET,
                             input_names=sig.input_names)
    return proto.SerializeToString() if hasattr(proto, "SerializeToString") else proto
