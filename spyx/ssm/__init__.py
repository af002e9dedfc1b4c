"""spyx.ssm: state-space layers with Spyx 1.0's API and numbers (``../shared/spyx-api.md`` §10).

Whole-sequence modules on time-major real input, ``[T, B, d] -> [T, B, d]``, without ``initial_state`` (compose
them after :func:`spyx.nn.run`, or inside ``nnx.Sequential``). Every recurrence starts from a zero state and is
:func:`spyx.scan.linear_recurrence` (the one implementation of ``h_t = a_t h_{t-1} + b_t`` in spyx); the layers
take ``scan_method=`` (``"associative"``, Spyx 1.0's ``lax.associative_scan``, the default; ``"sequential"``;
``"chunked"`` with ``scan_chunk_size=``). ``docs/ssm.md`` gives every equation.

* :class:`LRU`: Linear Recurrent Unit, complex diagonal, radial init.
* :class:`S5Diag`: diagonal S4D/S5, HiPPO-LegS init, zero-order hold.
* :class:`Mamba`: the selective (input-dependent) SSM core; :class:`MambaBlock` the full block.
* :class:`ChunkedSSM`: a two-level stack (inner at full rate, outer over chunk summaries).
"""

from spyx.ssm.chunked import ChunkedSSM
from spyx.ssm.diagonal import (  # noqa: F401  (Spyx 1.0's private names, used by its tests)
    _diagonal_scan,
    _diagonal_scan_reference,
    _selective_scan,
    _selective_scan_reference,
)
from spyx.ssm.lru import LRU
from spyx.ssm.mamba import Mamba, MambaBlock
from spyx.ssm.s5 import S5Diag

__all__ = ["LRU", "S5Diag", "Mamba", "MambaBlock", "ChunkedSSM"]
