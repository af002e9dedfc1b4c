"""Passes by name, imported lazily, and the pipeline syntax ``inline,dce,quantize-graph{bits=8}``.

The same option syntax serves profiles (``snntorch{reset=subtract}``) and targets; :func:`parse_spec`
splits the text and :func:`build_options` turns string values into a dataclass's typed fields, with errors
that list what is valid.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Literal, get_args, get_origin

from spyx.errors import OptionError
from spyx.lazy import lazy_class
from spyx.passes.base import Pass

__all__ = ["PASSES", "get_pass", "parse_pipeline", "parse_spec", "build_options", "list_passes"]

# name -> "module:Class". Every key equals the class's ``name`` (a test checks it).
PASSES: dict[str, str] = {
    "infer-shapes": "spyx.passes.infer_shapes:InferShapes",
    "inline": "spyx.passes.inline:Inline",
    "dce": "spyx.passes.dce:DeadCodeElimination",
    "discretize": "spyx.passes.discretize:Discretize",
    "retime": "spyx.passes.retime:Retime",
    "rescale": "spyx.passes.rescale:Rescale",
    "reorder": "spyx.passes.reorder:Reorder",
    "outline-recurrent": "spyx.passes.outline:OutlineRecurrent",
    "fuse": "spyx.passes.fuse:Fuse",
    "cse": "spyx.passes.cse:CommonSubexpressionElimination",
    "quantize-graph": "spyx.passes.quantize:Quantize",
    "verify": "spyx.passes.verify:Verify",
    # the lowering pipeline's profile stages (spyx.profiles.pipeline)
    "lower-neurons": "spyx.profiles.lower_neurons:LowerNeurons",
    "drop-batch-axis": "spyx.profiles.fixups:DropBatchAxis",
    "spyx1-rnn-edges": "spyx.profiles.fixups:Spyx1RnnEdges",
    "spyx1-channels-last": "spyx.profiles.fixups:Spyx1ChannelsLast",
}


def get_pass_class(name: str) -> type[Pass]:
    return lazy_class(PASSES, name, "pass", plural="passes")


def _closing(text: str, start: int) -> int:
    """The index of the ``}`` closing the ``{`` at ``start`` (braces nest: ``profile=snntorch{reset=zero}``)."""
    depth = 0
    for k in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[k], 0)
        if depth == 0:
            return k
    return -1


def _split_top(text: str) -> list[str]:
    """``text`` split at the commas outside braces."""
    parts, depth, cur = [], 0, []
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_spec(text: str) -> list[tuple[str, dict[str, str]]]:
    """``"a,b{x=1,y=two}"`` -> ``[("a", {}), ("b", {"x": "1", "y": "two"})]``; an option's value may hold a
    braced spec of its own (``lower-neurons{profile=snntorch{reset=zero},dt=1e-4}``)."""
    items: list[tuple[str, dict[str, str]]] = []
    i, n = 0, len(text)
    while i < n:
        j = i
        while j < n and text[j] not in ",{":
            j += 1
        name = text[i:j].strip()
        opts: dict[str, str] = {}
        if j < n and text[j] == "{":
            k = _closing(text, j)
            if k < 0:
                raise OptionError(f"unclosed '{{' after {name!r} in {text!r}")
            for part in filter(None, (p.strip() for p in _split_top(text[j + 1 : k]))):
                key, eq, value = part.partition("=")
                if not eq:
                    raise OptionError(f"option {part!r} of {name!r} must be written key=value")
                opts[key.strip()] = value.strip()
            j = k + 1
            while j < n and text[j] == " ":
                j += 1
            if j < n and text[j] != ",":
                raise OptionError(f"expected ',' after '}}' in {text!r}")
        if not name:
            raise OptionError(f"empty name in {text!r}")
        items.append((name, opts))
        i = j + 1
    return items


def _convert(owner: str, key: str, raw: str, typ: Any) -> Any:
    origin = get_origin(typ)
    if origin is Literal:
        choices = get_args(typ)
        for c in choices:
            if str(c).lower() == raw.lower():
                return c
        raise OptionError(f"option {key} of {owner} must be one of {', '.join(map(str, choices))}, got {raw!r}")
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in get_args(typ) if a is not type(None)]
        if raw.lower() in ("none", "null", ""):
            return None
        return _convert(owner, key, raw, args[0])
    try:
        if typ is bool:
            if raw.lower() in ("true", "1", "yes", "on"):
                return True
            if raw.lower() in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if typ is int:
            return int(raw)
        if typ is float:
            return float(raw)
    except ValueError:
        raise OptionError(f"option {key} of {owner} expects {typ.__name__}, got {raw!r}") from None
    return raw


def build_options(cls: type, raw: dict[str, str], owner: str) -> dict[str, Any]:
    """Typed keyword arguments for dataclass ``cls`` from string options; unknown keys are an error."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    out = {}
    for key, value in raw.items():
        if key not in fields:
            valid = ", ".join(sorted(fields)) or "none"
            raise OptionError(f"{owner} has no option {key!r}; valid options: {valid}")
        out[key] = _convert(owner, key, value, hints[key])
    return out


def get_pass(name: str, **options: Any) -> Pass:
    cls = get_pass_class(name)
    raw = {k: str(v) for k, v in options.items()}
    return cls(**build_options(cls, raw, f"pass {name!r}"))


def parse_pipeline(text: str) -> list[Pass]:
    """Passes from pipeline text such as ``"inline,dce,quantize-graph{bits=8}"``."""
    passes = []
    for name, raw in parse_spec(text):
        cls = get_pass_class(name)
        try:
            passes.append(cls(**build_options(cls, raw, f"pass {name!r}")))
        except (TypeError, ValueError) as e:
            raise OptionError(f"pass {name!r}: {e}") from e
    return passes


def list_passes() -> list[tuple[str, str, str, list[str]]]:
    """(name, description, preserves, ["option: type = default"]) for every registered pass."""
    rows = []
    hints_of = typing.get_type_hints
    for name in sorted(PASSES):
        cls = get_pass_class(name)
        hints = hints_of(cls)
        opts = []
        for f in dataclasses.fields(cls):
            t = hints[f.name]
            if get_origin(t) is Literal:
                tname = "|".join(map(str, get_args(t)))
            else:
                tname = str(t).replace("typing.", "") if get_args(t) else getattr(t, "__name__", str(t))
            default = f.default if f.default is not dataclasses.MISSING else "required"
            opts.append(f"{f.name}: {tname} = {default}")
        rows.append((name, cls.description, cls.preserves, opts))
    return rows
