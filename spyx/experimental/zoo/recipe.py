"""``Recipe``: one worked experiment of the zoo, described by data (``../shared/spyx-api.md`` §13.11)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Recipe"]


@dataclass(frozen=True)
class Recipe:
    """A model, its synthetic data, its loss and a short training demo.

    Attributes (in order): ``name`` (the registry key), ``application``, ``method``, ``architecture`` (labels to
    filter by), ``build(rngs) -> nnx.Module``, ``synthetic_batch(...) -> tuple`` (the loss's extra arguments),
    ``describe`` (one paragraph), ``loss(model, *batch) -> scalar``, ``demo(steps=...) -> list[float]`` (the
    training curve of a short run).
    """

    name: str
    application: str
    method: str
    architecture: str
    build: Callable
    synthetic_batch: Callable
    describe: str
    loss: Callable
    demo: Callable


def _recipe_from_module(module) -> Recipe:
    """A recipe from a zoo module's constants and functions (``NAME``, ``APPLICATION``, ``METHOD``,
    ``ARCHITECTURE``, ``build``, ``synthetic_batch``, ``loss``, ``demo``; its docstring's first paragraph is the
    description)."""
    doc = (module.__doc__ or "").strip().split("\n\n")[0]
    return Recipe(module.NAME, module.APPLICATION, module.METHOD, module.ARCHITECTURE, module.build,
                  module.synthetic_batch, " ".join(doc.split()), module.loss, module.demo)
