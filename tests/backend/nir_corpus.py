"""Read corpus files with ``nir.read`` into spyx IR graphs, for backend tests until ``spyx.io`` lands.

Field names of NIR nodes and spyx kinds agree; ports carry their shapes in ``input_type``/``output_type``.
"""

from __future__ import annotations

import numpy as np

from spyx.ir import Graph, kind_class


def from_nir(nir_graph) -> Graph:
    nodes = {}
    for name, n in nir_graph.nodes.items():
        kind = type(n).__name__
        if kind == "NIRGraph":
            nodes[name] = from_nir(n)
            continue
        cls = kind_class(kind)
        fields = {}
        for p in cls.param_names():
            value = getattr(n, p, None)
            if isinstance(value, str):
                fields["padding_mode"] = value
                continue
            if value is not None:
                fields[p] = np.asarray(value)
        if kind == "Input":
            fields["shape"] = np.asarray(n.input_type["input"])
        elif kind == "Output":
            fields["shape"] = np.asarray(n.output_type["output"])
        elif kind == "Flatten":
            fields["input_type"] = np.asarray(n.input_type["input"])
        nodes[name] = cls(**fields)
    return Graph(nodes=nodes, edges=tuple(nir_graph.edges))


def read(path) -> Graph:
    import nir

    return from_nir(nir.read(str(path)))


def read_h5_repaired(path) -> Graph:
    """Read a nir 0.2-era file with h5py, renaming edge endpoints that name no node to the only node whose
    name starts with them (``lif`` -> ``lif1``), and filling a missing ``v_reset`` with zeros (nir's rule)."""
    import h5py

    def group(g) -> Graph:
        nodes = {}
        for name, sub in g["nodes"].items():
            kind = sub["type"][()].decode()
            if kind == "NIRGraph":
                nodes[name] = group(sub)
                continue
            cls = kind_class(kind)
            fields = {k: np.asarray(sub[k][()]) for k in cls.param_names() if k in sub}
            if "v_reset" in cls.param_names() and "v_reset" not in fields:
                fields["v_reset"] = np.zeros_like(fields["v_threshold"])
            nodes[name] = cls(**fields)
        edges = []
        for a, b in g["edges"][()]:
            a, b = a.decode(), b.decode()
            fix = lambda e: e if e in nodes else next(n for n in nodes if n.startswith(e))  # noqa: E731
            edges.append((fix(a), fix(b)))
        return Graph(nodes=nodes, edges=tuple(edges))

    with h5py.File(path, "r") as f:
        return group(f["node"])
