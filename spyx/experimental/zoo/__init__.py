"""``spyx.experimental.zoo``: a registry of small worked experiments (recipes), one module each
(``../shared/spyx-api.md`` §13.11).

``REGISTRY`` maps a recipe's name to its :class:`Recipe`; :func:`list_recipes` filters by application and method;
:func:`get` looks one up. Each recipe builds its model, makes a synthetic batch, has a loss, and runs a short
training demo (``control`` needs evosax; ``language`` needs ``spyx.ssm``).
"""

from __future__ import annotations

from spyx.errors import OptionError
from spyx.experimental.zoo import classification, control, language
from spyx.experimental.zoo.recipe import Recipe, _recipe_from_module

__all__ = ["Recipe", "REGISTRY", "list_recipes", "get", "control", "classification", "language"]


class UnknownRecipeError(OptionError, KeyError):
    """No recipe by that name (a ``KeyError``, as Spyx 1.0 raised)."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


REGISTRY: dict[str, Recipe] = {r.name: r for r in map(_recipe_from_module, (control, classification, language))}


def list_recipes(application: str | None = None, method: str | None = None) -> list[Recipe]:
    """The recipes whose ``application`` and ``method`` equal the given ones (``None`` matches any), in registry
    order."""
    return [r for r in REGISTRY.values()
            if (application is None or r.application == application) and (method is None or r.method == method)]


def get(name: str) -> Recipe:
    """The recipe registered as ``name``; ``KeyError`` listing the available names otherwise."""
    if name not in REGISTRY:
        raise UnknownRecipeError(f"unknown recipe {name!r}; available: {list(REGISTRY)}")
    return REGISTRY[name]
