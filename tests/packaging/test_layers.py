"""Import layering: no import cycles between spyx modules (module-level and function-level imports alike),
module-level imports that only go down the layers of docs/architecture.md, and the few function-level
imports that go up listed here, each with its reason, so that none is added unnoticed."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]

# Longest matching prefix decides a module's layer; a module may import from its own layer and below.
LAYERS: dict[str, int] = {
    "spyx.errors": 0, "spyx.limits": 0, "spyx.lazy": 0,
    "spyx.ir": 1,
    # the quantization arithmetic and folding rules on the IR, which the quantize-graph pass uses
    "spyx.quant.arith": 2, "spyx.quant.fold": 2, "spyx.quant.plan": 2, "spyx.quant.formats": 2,
    "spyx.quant.result": 2, "spyx.quant.loihi2": 2,  # Lava's Loihi 2 integer conversion (the lava profile uses it)
    "spyx.io": 2,
    "spyx.passes": 3,
    "spyx.profiles": 4, "spyx.targets": 4,
    "spyx.axn": 5, "spyx.scan": 5, "spyx.kernels": 5, "spyx.backend": 5, "spyx.sharding": 5, "spyx.chunking": 5,
    "spyx.tools": 6, "spyx.quant": 6, "spyx.draw": 6,  # quant's report runs programs, its QAT front end uses flax
    "spyx.nn": 7, "spyx.fn": 7, "spyx.data": 7, "spyx.optimize": 7, "spyx.nir": 7, "spyx.interop": 7,
    "spyx.ssm": 7, "spyx.phasor": 7, "spyx.experimental": 7, "spyx.bench": 7,
    "spyx": 8,
    "spyx_cli": 9,
}

# Module-level imports that go up, and why they may.
UP_AT_MODULE_LEVEL = {
    # the old import path spyx.backend.compile keeps working: a shim naming the compiler's new home
    ("spyx.backend.compile", "spyx.tools.compile"),
}

# Function-level imports that go up: each is heavy (flax/JAX models), optional, or a name looked up late.
UP_IN_FUNCTIONS = {
    ("spyx.tools.files", "spyx.nn.export"),  # saving an NNX model needs flax; `import spyx` does not
    ("spyx.quant.qat", "spyx.nn.export"),  # QAT exports a flax model it trained
    ("spyx.interop.pytorch", "spyx"),  # a torch module in, spyx.compile out
}


def _modules() -> dict[str, Path]:
    mods = {}
    for base, name in ((ROOT / "spyx", "spyx"), (ROOT / "cli", "spyx_cli")):
        for p in base.rglob("*.py"):
            parts = [name, *p.relative_to(base).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = p
    return mods


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _layer(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def _imports() -> list[tuple[str, str, bool]]:
    """(importer, imported, at module level) for every import of a spyx module by a spyx module, outside
    ``if TYPE_CHECKING:`` blocks (those are for the type checker only)."""
    out = []
    for module, path in MODULES.items():
        def visit(node, top: bool, module: str = module) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    continue
                names = []
                if isinstance(child, ast.Import):
                    names = [a.name for a in child.names]
                elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                    names = [f"{child.module}.{a.name}" for a in child.names]
                for n in names:
                    target = _resolve(n) if n.startswith("spyx") else None
                    if target and target != module:
                        out.append((module, target, top))
                scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef
                visit(child, top and not isinstance(child, scope), module)

        visit(ast.parse(path.read_text()), True)
    return out


IMPORTS = _imports()


def test_no_import_cycles():
    g = nx.DiGraph((a, b) for a, b, _ in IMPORTS)
    cycles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert cycles == [], f"import cycles: {cycles}"


def test_module_level_imports_follow_the_layers():
    up = {(a, b) for a, b, top in IMPORTS if top and _layer(b) > _layer(a)}
    assert up - UP_AT_MODULE_LEVEL == set(), "module-level imports going up a layer: " + ", ".join(
        f"{a} -> {b}" for a, b in sorted(up - UP_AT_MODULE_LEVEL)
    )


def test_function_level_imports_going_up_are_the_listed_ones():
    up = {(a, b) for a, b, top in IMPORTS if not top and _layer(b) > _layer(a)}
    new = sorted(up - UP_IN_FUNCTIONS)
    assert new == [], "function-level imports going up a layer (import at module level, or list them): " + (
        ", ".join(f"{a} -> {b}" for a, b in new)
    )
    assert UP_IN_FUNCTIONS <= up, f"no longer there, remove from the list: {sorted(UP_IN_FUNCTIONS - up)}"
