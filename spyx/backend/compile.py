"""Where ``spyx.backend.compile`` and ``spyx.backend.lower`` used to live. The compiler is the lowering
pipeline (:mod:`spyx.profiles.pipeline`) followed by code generation (:mod:`spyx.backend.codegen`), which is
:mod:`spyx.tools.compile`; this module keeps the old import path working and adds nothing."""

import sys
import types

from spyx.backend.codegen import resolve_surrogate
from spyx.tools.compile import compile, lower

__all__ = ["compile", "lower", "resolve_surrogate"]


class _CallableModule(types.ModuleType):
    """Once this module is imported, ``spyx.backend.compile`` names it rather than the function (Python sets
    a package's attribute to its submodule): calling it still compiles, as the old function did."""

    def __call__(self, *args, **kwargs):
        return compile(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
