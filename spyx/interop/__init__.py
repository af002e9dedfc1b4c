"""Interop with live PyTorch SNN frameworks (optional extra ``spyx[torch]``; torch is imported lazily).

:func:`from_torch` exports a snnTorch / Norse / Sinabs / Rockpool module with the framework's own exporter
and compiles it with the matching profile (docs/interop.md).
"""

from spyx.interop.pytorch import detect_framework, from_torch

__all__ = ["detect_framework", "from_torch"]
