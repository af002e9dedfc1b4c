"""``report(float_graph, quant_graph, dt=...)``: how far a quantized graph's behaviour is from the float one.

Both graphs are compiled with the backend (:func:`spyx.compile`) and run on the same inputs (given, or
seeded Bernoulli spikes). Every neuron population and graph output is probed (an extra Output per node,
added to a copy of the flat graph), and the report gives, per node:

* spiking nodes: spike agreement (fraction of (t, batch, neuron) entries equal), firing rate of each
  (spikes per neuron per step), and the number of differing entries. When neither graph spikes at all the
  agreement is *undefined* (``None``, shown as "no spikes in either"): two silent networks agree on nothing
  worth a score of 1.0, and a silent float network usually means it was read with the wrong semantics;
* non-spiking nodes (readouts, membranes): the largest absolute difference and the correlation. Nodes that
  absorbed a weight scale (``fold=threshold``) output a scaled membrane, so their values are compared only
  when the quantized graph is the fake-quantized one or the scale is known (:class:`QuantizeResult`).

Both graphs are run with the semantics the exporter ran (``profile``: a spec as in :func:`spyx.compile`;
None: the profile the graph records, else ``nir``), so the report measures what quantization changes in the
model the file is, not in its NIR reading.

Per weight layer it lists the format, scale range and max |W - q s| (from the quantize report when given, else
from a least-squares fit of one scale per output channel).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spyx.errors import OptionError
from spyx.ir.graph import Graph
from spyx.ir.ports import Output
from spyx.ir.shapes import infer_shapes
from spyx.ir.traits import Population

__all__ = ["NodeAgreement", "QuantReport", "report", "probe_graph", "run_probed"]

_PROBE = "__probe__"
def _neuron(node) -> bool:
    """A node whose output the report compares: a neuron population or a spike test."""
    return node.has_trait(Population) or node.spiking


@dataclass(frozen=True)
class NodeAgreement:
    """One probed node. ``spiking``: agreement/rates/mismatches; else max_abs_diff/correlation."""

    name: str
    kind: str
    spiking: bool
    agreement: float | None
    rate_float: float | None
    rate_quant: float | None
    mismatches: int | None
    max_abs_diff: float | None = None
    correlation: float | None = None


@dataclass(frozen=True)
class WeightError:
    name: str
    format: str
    scale_min: float
    scale_max: float
    max_abs_error: float
    source: str  # "quantize report" or "fitted"


@dataclass(frozen=True)
class QuantReport:
    """The comparison; :meth:`table` renders it as text, :meth:`to_dict` as JSON-ready data."""

    nodes: tuple[NodeAgreement, ...]
    outputs: tuple[NodeAgreement, ...]
    weights: tuple[WeightError, ...]
    dt: float | None
    T: int
    B: int
    seed: int | None
    inputs: str
    notes: tuple[str, ...] = field(default=())
    profile: str | None = None

    @property
    def min_agreement(self) -> float | None:
        vals = [n.agreement for n in self.nodes + self.outputs if n.agreement is not None]
        return min(vals) if vals else None

    def table(self) -> str:
        lines = [f"quantization report: T={self.T}, B={self.B}, dt={self.dt}, inputs: {self.inputs}", ""]
        if self.profile not in (None, "nir"):
            lines[0] += f", profile: {self.profile}"
        head = "{:<28} {:<12} {:>10} {:>10} {:>10} {:>10}".format(
            "node", "kind", "agreement", "rate fp", "rate q", "mismatch"
        )
        lines += [head, "-" * len(head)]
        for n in self.nodes + self.outputs:
            if n.spiking and n.agreement is None:
                lines.append(f"{n.name:<28} {n.kind:<12} {'no spikes in either: agreement undefined':>43}")
            elif n.spiking:
                lines.append(
                    f"{n.name:<28} {n.kind:<12} {n.agreement:>10.4f} {n.rate_float:>10.4f} "
                    f"{n.rate_quant:>10.4f} {n.mismatches:>10d}"
                )
            else:
                diff = "-" if n.max_abs_diff is None else f"{n.max_abs_diff:.4g}"
                corr = "-" if n.correlation is None else f"{n.correlation:.4f}"
                lines.append(f"{n.name:<28} {n.kind:<12} {'max|d| ' + diff:>21} {'corr ' + corr:>21}")
        if self.weights:
            cols = ("weight layer", "format", "scale", "max|err|")
            lines += ["", "{:<28} {:<8} {:>22} {:>12}".format(*cols)]
            for w in self.weights:
                lines.append(
                    f"{w.name:<28} {w.format:<8} {w.scale_min:>10.4g}..{w.scale_max:<10.4g} "
                    f"{w.max_abs_error:>12.4g}  ({w.source})"
                )
        return "\n".join(lines + list(self.notes))

    def to_dict(self) -> dict:
        import dataclasses

        return dataclasses.asdict(self)


def probe_graph(graph: Graph, names: list[str] | None = None) -> tuple[Graph, dict[str, str]]:
    """A flat copy of ``graph`` with an extra Output after each neuron (or each of ``names``).

    Returns the graph and probe output name -> probed node name.
    """
    from spyx.passes.inline import inline_graph

    flat, _ = inline_graph(graph)
    shapes = infer_shapes(flat)
    wanted = names if names is not None else [n for n, node in flat.nodes.items() if _neuron(node)]
    nodes, edges, probes = dict(flat.nodes), list(flat.edges), {}
    for n in wanted:
        p = f"{_PROBE}{n}"
        nodes[p] = Output(shape=np.asarray(shapes[n].output, dtype=np.int64))
        edges.append((n, p))
        probes[p] = n
    return Graph(nodes=nodes, edges=tuple(edges), metadata=flat.metadata), probes


def run_probed(graph: Graph, inputs, *, dt: float | None, method: str = "exact", names=None, profile=None):
    """Run ``graph`` with probes (under ``profile``); returns ({probed node or output name: (T, B, ...)
    array}, probes)."""
    from spyx.tools.compile import compile as compile_graph  # quant.report is used by the tools layer too

    probed, probes = probe_graph(graph, names)
    prog = compile_graph(probed, dt=dt, method=method, profile=profile)
    outs, _ = prog.run(prog.params, inputs)
    if not isinstance(outs, dict):
        outs = {prog.output_names[0]: outs}
    result = {probes.get(k, k): np.asarray(v) for k, v in outs.items()}
    return result, probes


def _spike_like(a: np.ndarray) -> bool:
    return bool(np.all((a >= 0) & (a == np.round(a))))


def random_inputs(graph: Graph, *, T: int, B: int, seed: int, rate: float = 0.2) -> dict[str, np.ndarray]:
    """Seeded Bernoulli spikes (``rate`` per step) for every Input: name -> (T, B, *shape) float32."""
    rng = np.random.default_rng(seed)
    return {
        n: (rng.random((T, B, *node.declared_input_shape())) < rate).astype(np.float32)
        for n, node in graph.inputs.items()
    }


def _compare(name: str, kind: str, a: np.ndarray, b: np.ndarray, spiking: bool) -> NodeAgreement:
    if spiking:
        eq = a == b
        per = a.shape[0] * a.shape[1] * max(1, int(np.prod(a.shape[2:])))
        silent = not np.any(a) and not np.any(b)
        return NodeAgreement(
            name,
            kind,
            True,
            None if silent else float(eq.mean()),
            float(a.sum() / per),
            float(b.sum() / per),
            int(eq.size - eq.sum()),
        )
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    fa, fb = a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64)
    corr = float(np.corrcoef(fa, fb)[0, 1]) if fa.std() > 0 and fb.std() > 0 else None
    return NodeAgreement(name, kind, False, None, None, None, None, diff, corr)


def _weights(float_graph: Graph, quant) -> list[WeightError]:
    from spyx.quant.plan import is_weight_layer

    if hasattr(quant, "layers"):
        return [
            WeightError(
                r.name,
                r.format,
                float(np.min(r.scale)),
                float(np.max(r.scale)),
                r.max_abs_error,
                "quantize report",
            )
            for r in quant.layers
        ]
    fw = {p: n for p, n in float_graph.walk() if is_weight_layer(n)}
    out = []
    for p, node in quant.walk():
        if not is_weight_layer(node) or p not in fw:
            continue
        w = fw[p].weight.astype(np.float64).reshape(fw[p].weight.shape[0], -1)
        q = node.weight.astype(np.float64).reshape(w.shape)
        qq = (q * q).sum(1)
        s = np.where(qq > 0, (w * q).sum(1) / np.where(qq > 0, qq, 1), 1.0)
        err = float(np.max(np.abs(w - q * s[:, None]))) if w.size else 0.0
        fmt = "int" if np.array_equal(q, np.round(q)) else "float"
        out.append(WeightError(p, fmt, float(s.min()), float(s.max()), err, "fitted"))
    return out


def report(
    float_graph: Graph,
    quant_graph,
    *,
    dt: float | None,
    inputs=None,
    seed: int = 0,
    T: int = 100,
    B: int = 8,
    rate: float = 0.2,
    method: str = "exact",
    profile: str | None = None,
) -> QuantReport:
    """Run ``float_graph`` and ``quant_graph`` (a Graph, or a :class:`QuantizeResult`) on the same inputs,
    both under ``profile`` (the exporter's semantics; None: the recorded profile, else nir).

    ``inputs``: (T, B, *shape) array or dict by Input name; default: seeded Bernoulli spikes with ``rate``.
    Neurons are matched by name (the quantize-graph pass keeps names). Nodes whose values carry a folded scale
    are compared by spikes only.
    """
    from spyx.passes.inline import inline_graph

    qgraph = quant_graph.graph if hasattr(quant_graph, "graph") else quant_graph
    flat_f, _ = inline_graph(float_graph)
    flat_q, _ = inline_graph(qgraph)
    desc = "given"
    if inputs is None:
        inputs = random_inputs(flat_f, T=T, B=B, seed=seed, rate=rate)
        desc = f"Bernoulli spikes, rate {rate}, seed {seed}"
    else:
        seed = None
    if not isinstance(inputs, dict):
        inputs = {next(iter(flat_f.inputs)): np.asarray(inputs)}
    t_len, b_len = next(iter(inputs.values())).shape[:2]
    names = [n for n, node in flat_f.nodes.items() if _neuron(node) and n in flat_q.nodes]
    if profile is not None and str(profile).strip() == "auto":
        raise OptionError("report needs the profile auto resolved to (spyx.profiles.resolve_profile), not auto")
    vf, _ = run_probed(flat_f, inputs, dt=dt, method=method, names=names, profile=profile)
    vq, _ = run_probed(flat_q, inputs, dt=dt, method=method, names=names, profile=profile)
    folded = set()
    if hasattr(quant_graph, "layers"):
        folded = {n for r in quant_graph.layers if not r.fallback for n in r.folded_into}
    nodes, outs, notes = [], [], []
    for n in names:
        node = flat_f.nodes[n]
        spiking = bool(getattr(node, "spiking", False)) and _spike_like(vf[n]) and _spike_like(vq[n])
        if not spiking and n in folded:
            notes.append(f"{n}: membrane output carries the folded scale; not compared")
            continue
        nodes.append(_compare(n, node.kind, vf[n], vq[n], spiking))
    for o in flat_f.outputs:
        if o in vq:
            spiking = _spike_like(vf[o]) and _spike_like(vq[o])
            outs.append(_compare(o, "Output", vf[o], vq[o], spiking))
    return QuantReport(
        tuple(nodes),
        tuple(outs),
        tuple(_weights(float_graph, quant_graph)),
        dt,
        int(t_len),
        int(b_len),
        seed,
        desc,
        tuple(notes),
        None if profile is None else str(profile),
    )
