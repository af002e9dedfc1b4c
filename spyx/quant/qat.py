r"""Quantization-aware training (QAT) of spyx NNX models with qwix, and export to integer NIR.

Needs the ``quant`` extra (``pip install 'spyx[quant]'``); qwix is imported inside the functions.

Formats (fake quantization of the weights of ``nnx.Linear`` / ``nnx.Conv`` layers, straight-through
gradients):

``int8``, ``int4``
    qwix's own QT rules (``qwix.QtRule(weight_qtype=jnp.int8 | jnp.int4)``): symmetric, one scale per output
    channel, ``s = absmax / (qmax + 0.5)`` (qwix's bound), ``q = clip(round(w / s), -2^(b-1), 2^(b-1)-1)``;
    the forward pass uses ``q * s``.
``ternary``
    BitNet b1.58 absmean: ``s = mean |w|`` per output channel, ``q = clip(round(w / s), -1, 1)``. qwix has no
    ternary type, so spyx adds it to a subclass of ``qwix.QtProvider`` (``weight_qtype="spyx:ternary"``).
``pow2=True`` (any format)
    the scale is rounded up to a power of two (int: ``absmax / qmax`` first, the quantize pass's rule), also
    by the provider subclass (``"spyx:int8:pow2"``). Then every division by ``s`` is exact, and the exported
    integer graph's spikes equal the QAT model's bit for bit; with qwix's own scales they agree up to float
    rounding of the rescaled membranes (a membrane within an ulp of its threshold can flip; measured in
    ``tests/quant/test_qat.py``).

Rules match module paths by regex as qwix does (``layers/0`` is the first layer of a ``Sequential``); the
first matching rule wins, and a rule that matches nothing is an error (a typo cannot pass silently).
By default the rules match exactly the model's ``nnx.Linear`` and ``nnx.Conv`` layers.

What stays float: recurrent weights (``w_rec`` of RLIF/RIF/RCuBaLIF: a product inside the neuron layer, not
an ``nnx.Linear``), neuron parameters (decays, thresholds), and any matmul/einsum that a rule does not match.
On export a float layer feeding quantized neurons is divided by their scale (:mod:`spyx.passes.quantize`).

Export (:func:`export_quantized`): the model is exported with ``spyx.nn.export`` (faithful encoding) and the
``quantize`` pass is given the QAT scales, so the NIR file's integers are exactly qwix's (or the ternary
rule's) and its spikes reproduce the QAT model's.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from spyx.errors import OptionError
from spyx.quant.plan import is_weight_layer

__all__ = [
    "FORMATS",
    "QatExport",
    "export_quantized",
    "qat_model",
    "qat_rules",
    "qat_scales",
    "weight_layers",
]

FORMATS = ("int8", "int4", "ternary")


def _qwix():
    try:
        import qwix
    except ImportError as e:
        raise ImportError(
            "spyx.quant.qat needs qwix for quantization-aware training: pip install 'spyx[quant]'"
        ) from e
    return qwix


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise OptionError(f"QAT format {fmt!r} is not one of {', '.join(FORMATS)}")


def weight_layers(model) -> dict[str, tuple[str, Any]]:
    """qwix module path (``layers/0``) -> (spyx IR node name, layer) for every ``nnx.Linear``/``nnx.Conv``.

    IR names follow ``spyx.nn``'s walk: ``{index}_{type}`` with nested Sequential indices joined by ``_``.
    """
    from flax import nnx

    out = {}
    for path, module in nnx.iter_modules(model):
        if not isinstance(module, nnx.Linear | nnx.Conv):
            continue
        idx = [str(p) for p in path if p != "layers"]
        out["/".join(map(str, path))] = ("_".join(idx) + "_" + type(module).__name__.lower(), module)
    return out


def _qtype(fmt: str, pow2: bool):
    """The rule's ``weight_qtype``: qwix's own int8/int4, or a spyx string handled by the provider."""
    import jax.numpy as jnp

    if fmt == "ternary" or pow2:
        return f"spyx:{fmt}" + (":pow2" if pow2 else "")
    return {"int8": jnp.int8, "int4": jnp.int4}[fmt]


def qat_rules(model, fmt: str = "int8", module_path: str | None = None, *, pow2: bool = False) -> list:
    """qwix QT rules putting the weights of the matching layers in ``fmt``.

    ``module_path``: a regex over qwix module paths; default: exactly the model's weight layers.
    ``pow2``: power-of-two scales (spyx's fake quantization, see :func:`spyx_quantize`).
    """
    _check_format(fmt)
    qwix = _qwix()
    if module_path is None:
        paths = list(weight_layers(model))
        if not paths:
            raise OptionError("the model has no nnx.Linear or nnx.Conv layer to quantize")
        module_path = "|".join(re.escape(p) for p in paths)
    return [qwix.QtRule(module_path=module_path, weight_qtype=_qtype(fmt, pow2))]


# -- spyx fake quantization: ternary (BitNet b1.58) and power-of-two scales ---------------------------------
def _pow2_up(v):
    """The smallest power of two >= v (> 0), exactly (frexp/ldexp, no transcendental rounding)."""
    import jax.numpy as jnp

    m, e = jnp.frexp(v)
    return jnp.ldexp(jnp.ones_like(v), jnp.where(m == 0.5, e - 1, e))


def spyx_quantize(w, reduce_axes: tuple[int, ...], fmt: str, pow2: bool):
    """(integers, scale keepdims) as spyx's QAT computes them, in the weight's dtype.

    int8/int4: ``s = absmax / qmax`` (the quantize pass's rule), ternary: ``s = mean |w|``; ``pow2`` rounds
    ``s`` up to a power of two, so that ``w / s`` is exact and NumPy, XLA and the quantize pass agree on every
    integer. Zero channels get ``s = 1``.
    """
    import jax.numpy as jnp

    a = jnp.abs(w)
    if fmt == "ternary":
        s, lo, hi = jnp.mean(a, axis=reduce_axes, keepdims=True), -1, 1
    else:
        bits = 8 if fmt == "int8" else 4
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        s = jnp.max(a, axis=reduce_axes, keepdims=True) / hi
    s = jnp.where(s > 0, s, jnp.ones_like(s))
    if pow2:
        s = _pow2_up(s)
    return jnp.clip(jnp.round(w / s), lo, hi), s


def spyx_fake(w, reduce_axes: tuple[int, ...], fmt: str, pow2: bool):
    """``q * s`` on the forward pass, identity gradient (added as ``w - stop_gradient(w)``, which is exactly
    0, so the forward value is exactly ``q * s``)."""
    import jax

    q, s = spyx_quantize(jax.lax.stop_gradient(w), reduce_axes, fmt, pow2)
    return q * s + (w - jax.lax.stop_gradient(w))


def _spyx_format(rule) -> tuple[str, bool] | None:
    qt = getattr(rule, "weight_qtype", None) if rule is not None else None
    if not (isinstance(qt, str) and qt.startswith("spyx:")):
        return None
    parts = qt.split(":")
    return parts[1], parts[-1] == "pow2"


@functools.cache
def _provider_class():
    qwix = _qwix()
    import jax

    class SpyxQtProvider(qwix.QtProvider):
        """``qwix.QtProvider`` plus spyx's weight types ``"spyx:<int8|int4|ternary>[:pow2]"``
        (straight-through fake quantization, :func:`spyx_fake`) on dot_general and convolutions; everything
        else is qwix's."""

        def dot_general(self, lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None, **kw):
            spec = _spyx_format(self._get_current_rule_and_op_id("dot_general", only_rule=True)[0])
            if spec is None:
                return super().dot_general(
                    lhs, rhs, dimension_numbers, precision, preferred_element_type, **kw
                )
            (_, rhs_contract), _ = dimension_numbers
            rhs = spyx_fake(rhs, tuple(rhs_contract), *spec)
            return jax.lax.dot_general(lhs, rhs, dimension_numbers, precision, preferred_element_type, **kw)

        def conv_general_dilated(self, lhs, rhs, window_strides, padding, *args, **kw):
            spec = _spyx_format(self._get_current_rule_and_op_id("conv_general_dilated", only_rule=True)[0])
            if spec is None:
                return super().conv_general_dilated(lhs, rhs, window_strides, padding, *args, **kw)
            dn = kw.get("dimension_numbers", args[2] if len(args) > 2 else None)
            out_axis = jax.lax.conv_dimension_numbers(lhs.shape, rhs.shape, dn).rhs_spec[0]
            rhs = spyx_fake(rhs, tuple(a for a in range(rhs.ndim) if a != out_axis), *spec)
            return jax.lax.conv_general_dilated(lhs, rhs, window_strides, padding, *args, **kw)

    return SpyxQtProvider


def qat_model(
    model, sample_input, fmt: str = "int8", *, module_path: str | None = None, pow2: bool = False, rules=None
):
    """A copy of ``model`` whose weight layers fake-quantize to ``fmt`` (qwix QAT), and its provider.

    ``sample_input``: one step's input ``(B, *shape)`` (qwix runs the model once). ``rules``: explicit qwix
    rules instead of :func:`qat_rules`. Raises :class:`OptionError` naming the rules that matched no module
    and listing the model's weight-layer paths.
    """
    qwix = _qwix()
    rules = list(rules) if rules is not None else qat_rules(model, fmt, module_path, pow2=pow2)
    provider = _provider_class()(rules)
    state = model.initial_state(sample_input.shape[0])
    qmodel = qwix.quantize_model(model, provider, sample_input, state)
    unused = provider.get_unused_rules()
    if unused:
        paths = ", ".join(weight_layers(model)) or "none"
        raise OptionError(
            f"QAT rule(s) matched no module: {', '.join(repr(r.module_path) for r in unused)}; "
            f"weight layers of this model: {paths}"
        )
    return qmodel, provider


def qat_weights(model, fmt: str = "int8", module_path: str | None = None, *, pow2: bool = False) -> dict:
    """What the QAT forward pass uses for each matched weight layer, computed by the same code:
    qwix path -> (spyx IR name, integers in the NNX kernel layout, scale (C_out,)), float32.

    int8/int4 without ``pow2``: ``qwix.quantize`` with the output channel as the channelwise axis (the
    calibration qwix's QT dot_general uses); otherwise :func:`spyx_quantize`.
    """
    _check_format(fmt)
    qwix = _qwix()

    pattern = re.compile(module_path) if module_path else None
    out = {}
    for path, (name, layer) in weight_layers(model).items():
        if pattern is not None and not pattern.fullmatch(path):
            continue
        kernel = layer.kernel[...]
        reduce_axes = tuple(range(kernel.ndim - 1))  # nnx kernels are (..., in, out)
        if isinstance(_qtype(fmt, pow2), str):
            q, s = spyx_quantize(kernel, reduce_axes, fmt, pow2)
        else:
            qa = qwix.quantize(kernel, _qtype(fmt, pow2), channelwise_axes=[kernel.ndim - 1])
            s, q = qa.scale, qa.qvalue
        out[path] = (name, np.asarray(q, dtype=np.float32), np.asarray(s, dtype=np.float32).reshape(-1))
    return out


def qat_scales(model, fmt: str = "int8", module_path: str | None = None, *, pow2: bool = False) -> dict:
    """The QAT scales per spyx IR layer name, shape (C_out,) (see :func:`qat_weights`)."""
    return {name: s for name, _, s in qat_weights(model, fmt, module_path, pow2=pow2).values()}


@dataclass(frozen=True)
class QatExport:
    """``quantized``: the quantize pass result (``.graph`` is what :func:`spyx.save` writes, ``.fake_graph``
    the float graph with the QAT weights ``q * s``); ``float_graph``: the model's plain export;
    ``float_layers``: weight layers left float."""

    quantized: Any
    float_graph: Any
    format: str
    float_layers: tuple[str, ...]

    @property
    def graph(self):
        return self.quantized.graph


def export_quantized(
    model,
    input_shape,
    *,
    fmt: str = "int8",
    dt: float,
    module_path: str | None = None,
    pow2: bool = False,
    fold: str = "threshold",
    readout: str = "scale",
    encoding: str = "faithful",
) -> QatExport:
    """Export a QAT model (or its float original: the weights are what matters) to a graph whose weight
    layers hold the QAT integers, with the QAT scales folded into the neurons.

    The integers and scales are :func:`qat_weights` of the model's current weights; they are put into the
    graph through ``spyx.nn.export`` of a copy of the model whose kernels hold the integers (so the layout
    changes of the export apply to them too) and given to the ``quantize`` pass. Biases stay float, as QAT
    leaves them (stored as ``b / s``). Layers not matched by ``module_path`` stay float. ``dt``: seconds per
    step, as for ``spyx.nn.export``. ``pow2``: the QAT used power-of-two scales (``qat_model(pow2=True)``).
    ``readout``: ``"scale"`` (the LI readout's layer keeps a Scale node) or ``"gain"`` (the readout's input
    gain takes the scale). ``encoding``: ``"faithful"`` (exact; LI/Threshold/Delay per spiking layer) or
    ``"native"`` (one NIR neuron per layer, as hardware toolchains expect; approximate, ``spyx.nn.export``
    warns).
    """
    from flax import nnx

    from spyx.nn import export as nn_export
    from spyx.passes.quantize import quantize_graph

    _check_format(fmt)
    graph = nn_export(model, input_shape, dt=dt, encoding=encoding)
    weights = qat_weights(model, fmt, module_path, pow2=pow2)
    as_ints = nnx.clone(model)
    modules = dict(nnx.iter_modules(as_ints))
    for path, (_, q, _) in weights.items():
        key = tuple(int(p) if p.isdigit() else p for p in path.split("/"))
        modules[key].kernel[...] = q
    int_graph = nn_export(as_ints, input_shape, dt=dt, encoding=encoding)
    scales = {name: s for name, _, s in weights.values()}
    integers = {name: int_graph.nodes[name].weight for name in scales}
    float_layers = tuple(
        n
        for n, node in graph.nodes.items()
        if is_weight_layer(node) and n not in scales
    )
    result = quantize_graph(
        graph,
        bits=4 if fmt == "int4" else 8,
        ternary=fmt == "ternary",
        scales=scales,
        integers=integers,
        skip="|".join(re.escape(n) for n in float_layers),
        fold=fold,
        readout=readout,
        bias=False,
    )
    return QatExport(result, graph, fmt, float_layers)
