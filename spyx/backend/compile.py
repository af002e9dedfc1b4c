"""Where ``spyx.backend.compile`` and ``spyx.backend.lower`` used to live. The compiler is the lowering
pipeline (:mod:`spyx.profiles.pipeline`) followed by code generation (:mod:`spyx.backend.codegen`), which is
:mod:`spyx.tools.compile`; this module keeps the old import path working and adds nothing."""

from spyx.backend.codegen import resolve_surrogate
from spyx.tools.compile import compile, lower

__all__ = ["compile", "lower", "resolve_surrogate"]
